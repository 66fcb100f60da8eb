"""1246+X (Huzhou, seed 003): 1 plenary, 2 face-to-face with the party secretary and mayor, 4 standing committee, 6 bi-monthly consultations a year, and X."""

# The entry point names this package and pluggy registers it: the hook implementations are its attributes.
# NAME and CONFIG_DEFAULTS live in services.py (no module of the package imports the package itself).
from shangliang.core.i18n import N_

from .hooks import consultation_forms, node_configured, plan_checks
from .services import CONFIG_DEFAULTS, NAME

# The core versions this practice is made for (checked at `plugins enable` and at start-up).
REQUIRES_CORE = ">=0.1,<1"

__all__ = ["REQUIRES_CORE", "CONFIG_DEFAULTS", "NAME", "consultation_forms", "node_configured", "plan_checks"]

#: The plugin's line on the plugins page, in the page's language.
SUMMARY = N_("1246+X (Huzhou, seed 003): 1 plenary, 2 face-to-face with the party secretary and mayor, 4 standing "
             "committee, 6 bi-monthly consultations a year, and X.")
