"""Signed federation between neighbouring nodes (PROTOCOL.md v1): canonical form, envelopes, hops, inbox, outbox."""
