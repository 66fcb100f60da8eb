"""Five ones (五个一, Kailu, seed 001): each year attend the plenary, one proposal, one social-opinion report, one activity; each term one plenary speech or research report."""

# The entry point names this package and pluggy registers it: the hook implementations are its attributes.
from shangliang.core.i18n import N_

from .hooks import assessment_rules, node_configured
from .services import CONFIG_DEFAULTS, NAME

# The core versions this practice is made for (checked at `plugins enable` and at start-up).
REQUIRES_CORE = ">=0.1,<1"

__all__ = ["REQUIRES_CORE", "CONFIG_DEFAULTS", "NAME", "assessment_rules", "node_configured"]

#: The plugin's line on the plugins page, in the page's language.
SUMMARY = N_("Five ones (五个一, Kailu, seed 001): each year attend the plenary, one proposal, one social-opinion "
             "report, one activity; each term one plenary speech or research report.")
