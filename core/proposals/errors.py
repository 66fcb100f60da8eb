"""The proposals feature's named errors: each says what was refused and why; nothing was stored.

``NotAllowed`` and its kinds are refusals of *who* asks (the API answers them 403 ``forbidden``); the
others are refusals of *what* is asked (400, or 409 for a collision with the proposal's state).
"""

from __future__ import annotations

from shangliang.core.errors import Conflict, InputError


class NotAllowed(InputError):
    """The person asking may not take this step on this proposal."""


class NotOffice(NotAllowed):
    """A step only the office (role office or admin) takes: the filing review, assignment, a reassignment
    decision, flags, supervision, publication, closing."""


class NotProposer(NotAllowed):
    """A step only the proposer takes: satisfaction, revising a returned proposal."""


class NotSigner(NotAllowed):
    """Only a co-signer named on the proposal confirms it."""


class NotAssignedUnit(NotAllowed):
    """Only a contact user of a unit assigned to the proposal replies, records contacts or asks to hand
    its part on."""


class NotAMember(InputError):
    """A co-signer (or proposer) who is not an active member of this node."""


class NotLinked(NotAllowed):
    """A user with the member role who is not linked to a member submits or confirms."""


class DeadlinePassed(InputError):
    """A deadline on or before today."""


class MergeIntoClosed(Conflict):
    """A proposal merged into a proposal that is closed, not filed or itself merged."""


class WrongStatus(Conflict):
    """The step does not fit the proposal's status (it was taken already, or not yet)."""


class GuardRefused(InputError):
    """A practice (``proposal_guard``) refuses the step."""


class NoConsent(Conflict):
    """A proposal is forwarded to the parent node only with its proposer's consent (given, or recorded by
    the office from the proposer's written consent)."""


class NoParent(InputError):
    """This node has no parent node paired (``peers add … --relation parent``) to forward a proposal to."""


class NotAClosedTopic(InputError):
    """A proposal is made from a topic's result: the topic must be here and closed with its result."""
