"""A test-only plugin made for a core this node does not run: refused at enable and at start-up, with the reason."""

from shangliang.core.plugins import hookimpl

REQUIRES_CORE = ">=99"


@hookimpl
def node_configured(config, plugin_config):
    return None
