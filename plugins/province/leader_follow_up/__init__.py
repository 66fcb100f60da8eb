"""领导包抓 leader follow-up (Gansu, seed 004): each leader of this committee follows lower areas and handling units."""

# The entry point names this package and pluggy registers it: the hook implementations are its attributes.
# NAME and CONFIG_DEFAULTS live in services.py (no module of the package imports the package itself).
from shangliang.core.i18n import N_

from .hooks import item_overdue, node_configured, register_blueprints, register_commands
from .services import CONFIG_DEFAULTS, NAME

# The core versions this practice is made for (checked at `plugins enable` and at start-up).
REQUIRES_CORE = ">=0.1,<1"

__all__ = ["REQUIRES_CORE", "CONFIG_DEFAULTS", "NAME", "item_overdue", "node_configured", "register_blueprints", "register_commands"]

#: The plugin's line on the plugins page, in the page's language.
SUMMARY = N_("领导包抓 leader follow-up (Gansu, seed 004): each leader of this committee follows lower areas and "
             "handling units.")
