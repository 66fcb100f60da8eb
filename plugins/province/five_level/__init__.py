"""五级联动 five-level linkage (Gansu, seed 004): topics pass level by level from village to province; the county coordinates."""

# The entry point names this package and pluggy registers it: the hook implementations are its attributes.
# NAME and CONFIG_DEFAULTS live in services.py (no module of the package imports the package itself).
from shangliang.core.i18n import N_

from .hooks import node_configured, register_blueprints, register_commands
from .services import CONFIG_DEFAULTS, NAME

# The core versions this practice is made for (checked at `plugins enable` and at start-up).
REQUIRES_CORE = ">=0.1,<1"

__all__ = ["REQUIRES_CORE", "CONFIG_DEFAULTS", "NAME", "node_configured", "register_blueprints", "register_commands"]

#: The plugin's line on the plugins page, in the page's language.
SUMMARY = N_("五级联动 five-level linkage (Gansu, seed 004): topics pass level by level from village to province; the "
             "county coordinates.")
