"""Built-in topic rules: routing by the areas' lowest common parent, the six stages taken in order, and
what topic messages from neighbouring nodes do here."""

from __future__ import annotations

from shangliang.core.plugins import hookimpl

from .models import STAGES
from .routing import Route, suggest


@hookimpl(trylast=True)
def route_topic(topic, config):
    try:
        return suggest(config["NODE_ID"], topic["areas"])
    except ValueError as exc:  # areas no single node holds: nothing to suggest, staff decide
        return Route("", "keep", None, f"{exc}; kept here")


@hookimpl
def topic_transition_guard(topic, from_stage, to_stage):
    if STAGES.index(to_stage) != STAGES.index(from_stage) + 1:
        following = STAGES[STAGES.index(from_stage) + 1] if from_stage != STAGES[-1] else None
        if following is None:
            return [f"the topic is {from_stage}: it has no further stage"]
        return [f"a topic moves one stage at a time: from {from_stage} the next stage is {following}, not {to_stage}"]
    return None


@hookimpl
def federation_message_accepted(session, envelope, transfer):
    """Topics and answers from neighbours: keep this node's copy of the topic and relay answers on."""
    from .actions import apply_received

    apply_received(session, envelope, transfer)


@hookimpl
def node_configured(config):
    from .services import attachment_limit

    limit = attachment_limit(config)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 1024 ** 3:
        return [f"TOPICS_ATTACHMENT_MAX_BYTES must be a number of bytes from 1 to 1073741824, not {limit!r}"]
    return None
