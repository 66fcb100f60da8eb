"""Protocol errors (PROTOCOL.md §6): one exception type per error code, each with its HTTP status."""

from __future__ import annotations

MAX_ECHO = 200  # an error message never echoes more than 200 characters of input


class ProtocolError(Exception):
    """A message refused under the protocol; ``code`` and ``status`` are what the inbox answers."""

    code = "malformed"
    status = 400

    def __init__(self, message: str):
        super().__init__(message[:MAX_ECHO * 2])
        self.message = str(self)

    def as_body(self) -> dict:
        return {"error": {"code": self.code, "message": self.message}}


class Malformed(ProtocolError):
    """Not JSON, outside the canonical profile, fields missing or of the wrong type."""

    code, status = "malformed", 400


class TooLarge(ProtocolError):
    """The document is larger than 256 KiB."""

    code, status = "too_large", 413


class BadSignature(ProtocolError):
    """A signature or a hash does not verify."""

    code, status = "bad_signature", 401


class UnknownKey(ProtocolError):
    """A key id that is not pinned (or not attested) for the signer."""

    code, status = "unknown_key", 401


class NotAPeer(ProtocolError):
    """The last hop's sender is not a peer of the receiver."""

    code, status = "not_a_peer", 403


class BadRoute(ProtocolError):
    """The hop chain breaks the route constraints (§4)."""

    code, status = "bad_route", 403


class WrongRecipient(ProtocolError):
    """The last hop is addressed to another node."""

    code, status = "wrong_recipient", 403


class Conflict(ProtocolError):
    """The same (origin, id) is already known with other content."""

    code, status = "conflict", 409


class Expired(ProtocolError):
    """The transfer's ``expires_ms`` has passed."""

    code, status = "expired", 410


class UnknownKind(ProtocolError):
    """A message kind this node does not know."""

    code, status = "unknown_kind", 422


class InvalidBody(ProtocolError):
    """The body does not fit its kind."""

    code, status = "invalid_body", 422


class Busy(ProtocolError):
    """Overloaded, or a per-peer rate limit reached; ``retry_after`` seconds."""

    code, status = "busy", 429

    def __init__(self, message: str, retry_after: int = 1, status: int = 429):
        super().__init__(message)
        self.retry_after = retry_after
        self.status = status


def echo(value: object, limit: int = 60) -> str:
    """A piece of input fit to quote in an error message."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# -- bundle files (docs/bundles.md): a whole bundle refused before any of its messages is looked at -----------

from shangliang.core.errors import InputError  # noqa: E402  (core sits below the federation)


class BundleRefused(InputError):
    """A bundle file refused as a whole: nothing of it was applied. ``code`` names the reason."""

    code = "bundle_malformed"
    status = 400

    def __init__(self, message: str, report: dict | None = None):
        super().__init__(message[:MAX_ECHO * 2], field="bundle")
        self.message = str(self)
        self.report = report

    def as_body(self) -> dict:
        body: dict = {"error": {"code": self.code, "message": self.message}}
        if self.report is not None:
            body["report"] = self.report
        return body


class BundleMalformed(BundleRefused):
    """Not a bundle file: not JSON, another format or version, fields missing or of the wrong type."""

    code, status = "bundle_malformed", 400


class BundleForAnotherNode(BundleRefused):
    """The manifest's ``to`` is not this node."""

    code, status = "bundle_for_another_node", 403


class BundleNotFromAPeer(BundleRefused):
    """The manifest's ``from`` is not a pinned neighbour of this node."""

    code, status = "bundle_not_from_a_peer", 403


class BundleBadSignature(BundleRefused):
    """The manifest's signature does not verify with the sender's pinned key (or names a key not pinned)."""

    code, status = "bundle_bad_signature", 401


class BundleTampered(BundleRefused):
    """A message's SHA-256 differs from the manifest's, or the messages are not the manifest's list."""

    code, status = "bundle_tampered", 401


class BundleReplayed(BundleRefused):
    """Every message of the bundle was accepted here before: it was imported already (``report`` says so per
    message); nothing was applied again."""

    code, status = "bundle_replayed", 409
