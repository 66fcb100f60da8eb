"""The similar-matters feature's built-in plugin: topics indexed as they arrive (accepted from a neighbour, by a
worker kicked a moment after the inbox commits; raised here, by beat and at every listing), suggestions to group similar
topics held here, the merged matter's result shared with every original, its settings, pages, API, command and
schedule."""

from __future__ import annotations

import threading
import time

from flask_babel import lazy_gettext as _l

from shangliang.core.i18n import N_
from shangliang.core.plugins import hookimpl
from shangliang.core.settings import Setting, number

from . import models  # noqa: F401  (the similar-matters tables)
from . import tasks
from .services import DEFAULT_THRESHOLD


@hookimpl
def declare_settings():
    return [
        Setting("similar", "threshold", DEFAULT_THRESHOLD, "how similar two topics must be (0–100, rapidfuzz's "
                "token_set_ratio of their keywords) to be suggested as one matter", number(1, 100)),
        Setting("similar", "index_seconds", 60, "how often beat indexes topics raised here since the last look",
                number(1, 86400, unit="seconds")),
        Setting("similar", "arrival_delay_seconds", 1.0, "how long after a topic arrives from a neighbour its "
                "indexing starts: the topics arriving meanwhile are indexed in the same run, and the delivery the "
                "same commit started is not slowed by it (0: at once)", number(0, 60, unit="seconds")),
    ]


class _Kicks:
    """At most one indexing run waiting per process: a topic arriving while one is due is indexed by it.

    The kick is queued after the inbox's COMMIT with a countdown; a later arrival whose COMMIT is done before
    the queued run is due adds nothing (that run's query starts after it, so it sees the topic). Beat indexes
    whatever a kick that failed to queue left behind."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._due = 0.0  # time.time() at which the queued run starts; 0 when none is queued

    def kick(self, delay: float) -> None:
        now = time.time()
        with self._lock:
            if now < self._due:
                return
            self._due = now + delay
        try:
            if delay > 0:
                tasks.index_pending_task.apply_async(countdown=delay)
            else:
                tasks.index_pending_task.delay()
        except Exception:
            with self._lock:
                self._due = 0.0  # not queued: the next arrival tries again (and beat looks meanwhile)
            raise


_kicks = _Kicks()


@hookimpl(trylast=True)
def federation_message_accepted(session, envelope, transfer, node):
    """After the topics feature has kept the topic (trylast): index a topic passed here and suggest grouping it;
    a result for a merged matter reaches its originals."""
    from shangliang.core.db import after_commit

    from .services import topic_arrived

    if topic_arrived(session, node, envelope):
        delay = float(node.config.get("SIMILAR_ARRIVAL_DELAY_SECONDS", 1.0))
        after_commit(session, lambda: _kicks.kick(delay))


@hookimpl
def topic_result_recorded(session, node, topic, result, actor):
    """The result of a merged matter is every original's: each is closed with it and answered along its route."""
    from .services import share_result

    share_result(session, node, topic, result, actor)


@hookimpl
def topic_transition_guard(topic, from_stage, to_stage):
    """A topic merged into another here moves only with it: its stages and result are the merged matter's."""
    merged = [e for e in topic.get("events", []) if e["action"] == "merged" and e["node"] == topic["holder"]
              and e["note"].startswith("merged into ")]
    if merged:
        into = merged[-1]["note"].removeprefix("merged into ").split(":", 2)[:2]
        return [f"the topic is merged into {':'.join(into)}: it is consulted as that matter and gets its result"]
    return None


@hookimpl
def register_blueprints(app):
    from .blueprint import api, pages

    return [api, pages]


@hookimpl
def register_commands(cli):
    from .cli import similar

    return similar


@hookimpl
def nav_items():
    return [(_l("Similar matters"), "similar.index")]


@hookimpl
def workbench_items(session, user, node):
    """The office: suggestions to group similar topics, waiting for a decision."""
    if user.role not in ("office", "admin"):
        return []
    from flask import url_for
    from flask_babel import gettext as _
    from sqlalchemy import func, select

    from shangliang.core.work import WorkEntry, WorkItem

    from .models import SimilarSuggestion

    count = session.execute(select(func.count()).select_from(SimilarSuggestion).where(SimilarSuggestion.state == "open")).scalar_one()
    first = session.execute(select(SimilarSuggestion).where(SimilarSuggestion.state == "open")
                            .order_by(SimilarSuggestion.updated_ms.desc()).limit(3)).scalars().all()
    return [WorkItem("similar.open", _("Similar matters to decide"), count, url_for("similar.index"),
                     [WorkEntry(" / ".join(m.topic.title for m in s.members[:3]), url_for("similar.index") + f"#s{s.id}",
                                _("%(n)s topics", n=len(s.members))) for s in first])]


@hookimpl
def beat_schedule(config):
    return {"similar.index_pending": {"task": tasks.INDEX_PENDING,
                                      "schedule": float(config["SIMILAR_INDEX_SECONDS"])}}


#: The plugin's line on the plugins page, in the page's language.
SUMMARY = N_("The similar-matters feature's built-in plugin: topics indexed as they arrive, suggestions to group "
             "similar topics from different places, merging them into one matter")
