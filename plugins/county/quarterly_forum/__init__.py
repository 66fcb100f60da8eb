"""季协商座谈会 quarterly forum (Kailu, seed 001 §13): a planned topic a quarter, researched beforehand."""

# The entry point names this package and pluggy registers it: the hook implementations are its attributes.
# NAME and CONFIG_DEFAULTS live in services.py (no module of the package imports the package itself).
from shangliang.core.i18n import N_

from .hooks import activity_guard, beat_schedule, node_configured, plan_checks
from .services import CONFIG_DEFAULTS, NAME

# The core versions this practice is made for (checked at `plugins enable` and at start-up).
REQUIRES_CORE = ">=0.1,<1"

__all__ = ["REQUIRES_CORE", "CONFIG_DEFAULTS", "NAME", "activity_guard", "beat_schedule", "node_configured", "plan_checks"]

#: The plugin's line on the plugins page, in the page's language.
SUMMARY = N_("季协商座谈会 quarterly forum (Kailu, seed 001 §13): a planned topic a quarter, researched beforehand.")
