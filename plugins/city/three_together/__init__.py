"""三个一起 (Ma'anshan, seed 003): topics, plans and activities together with the party committee and government, counted against the year's targets."""

# The entry point names this package and pluggy registers it: the hook implementations are its attributes.
# NAME and CONFIG_DEFAULTS live in services.py (no module of the package imports the package itself).
from shangliang.core.i18n import N_

from .hooks import activity_guard, node_configured, plan_guard, register_blueprints, register_commands
from .services import CONFIG_DEFAULTS, NAME

# The core versions this practice is made for (checked at `plugins enable` and at start-up).
REQUIRES_CORE = ">=0.1,<1"

__all__ = ["REQUIRES_CORE", "CONFIG_DEFAULTS", "NAME", "activity_guard", "node_configured", "plan_guard", "register_blueprints",
           "register_commands"]

#: The plugin's line on the plugins page, in the page's language.
SUMMARY = N_("三个一起 (Ma'anshan, seed 003): topics, plans and activities together with the party committee and "
             "government, counted against the year's targets.")
