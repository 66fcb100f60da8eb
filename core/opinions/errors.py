"""The opinions feature's named errors: each says what was refused and why; nothing was stored.

``NotAllowed`` and its kinds are refusals of *who* asks (the API answers them 403 ``forbidden``); the others
are refusals of *what* is asked (400, or 409 for a collision with the report's state).
"""

from __future__ import annotations

from shangliang.core.errors import Conflict, InputError


class NotAllowed(InputError):
    """The person asking may not take this step."""


class NotOffice(NotAllowed):
    """A step only the office (role office or admin) takes: editing, compiling an issue, deciding, writing a
    body's report or a member's on their behalf."""


class NotLinked(NotAllowed):
    """A user with the member role who is not linked to a member writes a report."""


class NotAMember(InputError):
    """A member number that is not an active member of this node's register."""


class WrongStatus(Conflict):
    """The step does not fit the report's state (decided already, not used, forwarded)."""


class NoParent(InputError):
    """This node has no parent node paired to forward a report to."""


class IssueTaken(Conflict):
    """An issue (期) with this year and number exists, or a report is in an issue already."""
