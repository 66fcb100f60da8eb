"""Key rotation (PROTOCOL.md §8 ``node.key_rotated``): a new key, proven by itself, announced with the old one."""

from __future__ import annotations

from sqlalchemy.orm import Session

from shangliang.core.context import NodeContext

from . import canonical, envelope as env_mod, hops, keys
from .outbox import enqueue, lifetime_ms
from .peers import list_peers
from .signing import PREFIX, NodeKey


def announcement(old: NodeKey, new: NodeKey, origin: str, destination: str, lifetime_ms: int,
                 at_ms: int | None = None) -> dict:
    """The ``node.key_rotated`` envelope to one peer: signed by the old key, the proof by the new one.

    ``at_ms`` (the envelope's ``created_ms`` and its hop's ``at_ms``) lies before the old key's
    ``expired_ms``, so the old key signed it while it was still current.
    """
    body = {"new_key": {"id": new.key_id, "public": new.public_b64}}
    draft = env_mod.create(old, origin, "node.key_rotated", body, created_ms=at_ms)
    core = env_mod.core_of(draft)
    proof = new.sign_input(PREFIX + b"rotate\x00" + canonical.dumps(core))
    body = {**body, "proof": proof}
    envelope = env_mod.create(old, origin, "node.key_rotated", body, message_id=draft["id"], created_ms=draft["created_ms"])
    return hops.append(envelope, old, origin, destination, "reply", at_ms=at_ms, lifetime_ms=lifetime_ms)


def rotate_and_announce(session: Session, node: NodeContext) -> tuple[NodeKey, NodeKey, list[str]]:
    old, new, expired_ms = keys.rotate(session, node.node_dir)
    signed_at = expired_ms - 1  # just before the old key stopped being current
    lifetime = lifetime_ms(node)
    told = []
    for peer in list_peers(session):
        enqueue(session, announcement(old, new, node.id, peer.node_id, lifetime, signed_at), peer.node_id)
        told.append(peer.node_id)
    return old, new, told
