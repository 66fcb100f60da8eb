"""选题-商题-定题 (Putian, seed 003): the chair meeting selects, a joint meeting with party and government discusses, the standing committee decides."""

# The entry point names this package and pluggy registers it: the hook implementations are its attributes.
# NAME and CONFIG_DEFAULTS live in services.py (no module of the package imports the package itself).
from shangliang.core.i18n import N_

from .hooks import node_configured, plan_approval_steps, plan_guard
from .services import CONFIG_DEFAULTS, NAME

# The core versions this practice is made for (checked at `plugins enable` and at start-up).
REQUIRES_CORE = ">=0.1,<1"

__all__ = ["REQUIRES_CORE", "CONFIG_DEFAULTS", "NAME", "node_configured", "plan_approval_steps", "plan_guard"]

#: The plugin's line on the plugins page, in the page's language.
SUMMARY = N_("选题-商题-定题 (Putian, seed 003): the chair meeting selects, a joint meeting with party and government "
             "discusses, the standing committee decides.")
