"""A test-only plugin whose hook name is misspelled (``topic_transiton_guard``): refused at start-up, by name."""

from shangliang.core.plugins import hookimpl

REQUIRES_CORE = ">=0.1"


@hookimpl
def topic_transiton_guard(topic, from_stage, to_stage):
    return ["never called"]
