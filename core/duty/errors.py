"""The duty feature's named errors."""

from shangliang.core.errors import InputError


class MissingEvidence(InputError):
    """A duty item recorded by hand without evidence (a text or an attached file): nothing is stored."""

    def __init__(self, message: str = "a duty item recorded by hand needs evidence: a text, an attached file "
                                      "or both", field: str | None = "evidence"):
        super().__init__(message, field)


class NotAllowed(Exception):
    """Who asks may not see this (a member asking for another member's record): 403."""
