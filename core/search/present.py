"""A hit as people read it, for the page and the API alike: names, not codes (the kind, the stage or status
in the reader's language, the holder and the areas by their committee's name where this node knows it) and
the page that shows it. Needs a request (for the language and the URLs)."""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_babel import gettext as _

from shangliang.core.opinions import views as opinion_views
from shangliang.core.proposals import views as proposal_views
from shangliang.core.topics import views as topic_views

from .services import Hit


def kind_label(kind: str) -> str:
    return {"topic": _("Topic"), "proposal": _("Proposal"),
            "opinion": _("Social-opinion report")}.get(kind, kind)


def stage_label(kind: str, stage: str) -> str:
    if kind == "topic":
        return topic_views.stage_label(stage)
    if kind == "proposal":
        return proposal_views.status_label(stage)
    return opinion_views.status_label(stage)


def url_of(hit: Hit) -> str:
    if hit.kind == "topic":
        return url_for("topics.show", uid=hit.ref)
    if hit.kind == "proposal":
        return url_for("proposals.show", ref=hit.ref)
    return url_for("opinions.show", ref=hit.ref)


def present(hit: Hit) -> dict[str, Any]:
    """The hit's fields with its labels, names and URL."""
    return {**hit.as_dict(), "url": url_of(hit), "kind_label": kind_label(hit.kind),
            "stage_label": stage_label(hit.kind, hit.stage),
            "area_names": [topic_views.node_name(a) for a in hit.areas],
            "holder_name": topic_views.node_name(hit.holder) if hit.holder else None}
