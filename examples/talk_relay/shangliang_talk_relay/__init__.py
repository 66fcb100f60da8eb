"""民情恳谈 relay (township): the points raised at a public-sentiment talk, sent to a neighbour as x-talk_relay.talk."""

# The entry point names this package and pluggy registers it: the hook implementations are its attributes.
from .hooks import federation_kinds, federation_message_accepted, node_configured, register_commands
from .services import CONFIG_DEFAULTS, LEVEL, NAME

# The core versions this plugin is made for (checked at `plugins enable` and at start-up).
REQUIRES_CORE = ">=0.1,<1"

__all__ = ["CONFIG_DEFAULTS", "LEVEL", "NAME", "REQUIRES_CORE", "federation_kinds", "federation_message_accepted",
           "node_configured", "register_commands"]
