"""Peers (PROTOCOL.md §1): a node's parent and children, pinned by an administrator with their keys."""

from __future__ import annotations

from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from shangliang.core import divisions
from shangliang.core.errors import InputError

from .ids import now_ms
from .models import Peer, PeerKey
from .signing import KEY_ID, b64u_decode
from .errors import ProtocolError


def parse_public_key(text: str) -> tuple[str, str]:
    """``ed25519:<id>:<base64url>`` → (key id, public key)."""
    key_id, _, public = (text or "").rpartition(":")
    if not KEY_ID.fullmatch(key_id):
        raise InputError(f"public key {text[:60]!r} must look like ed25519:<id>:<base64url> (as keys show prints it)")
    try:
        b64u_decode(public, "public key", 32)
    except ProtocolError as exc:
        raise InputError(str(exc)) from None
    return key_id, public


def infer_relation(own_id: str, node_id: str) -> str | None:
    if divisions.parent_of(own_id) == node_id:
        return "parent"
    if divisions.parent_of(node_id) == own_id:
        return "child"
    return None


NAME_MAX = 200
#: How messages reach a neighbour: ``http`` (the delivery worker POSTs them to its URL) or ``bundle`` (files carried
#: by hand, docs/bundles.md: never tried over HTTP).
DELIVERY_MODES = ("http", "bundle")


def delivery_mode(mode: str | None) -> str:
    if mode is None:
        return "http"
    if mode not in DELIVERY_MODES:
        raise InputError(f"delivery {str(mode)[:20]!r} is not one of {', '.join(DELIVERY_MODES)}", field="delivery")
    return mode


def peer_name(name: str | None) -> str | None:
    """A neighbour's committee name as given (None: not given); a named error when it cannot be one."""
    if name is None:
        return None
    if not isinstance(name, str):
        raise InputError("a peer's name is text", field="name")
    name = " ".join(name.split())
    if not name:
        return None
    if len(name) > NAME_MAX or any(ord(c) < 32 or 0xD800 <= ord(c) <= 0xDFFF for c in name):
        raise InputError(f"a peer's name is at most {NAME_MAX} printable characters", field="name")
    return name


def add_peer(session: Session, own_id: str, node_id: str, url: str, public_key: str,
             relation: str | None = None, name: str | None = None, delivery: str | None = None) -> Peer:
    """Pin a neighbour; ``delivery`` ``bundle`` for one reached by bundle files only (its URL is then only noted)."""
    divisions.validate_node_id(node_id, "peer id")
    name = peer_name(name)
    delivery = delivery_mode(delivery)
    if node_id == own_id:
        raise InputError("a node is not its own peer")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(f"peer URL {url[:80]!r} must be an http:// or https:// URL")
    inferred = infer_relation(own_id, node_id)
    if relation is None:
        if inferred is None:
            raise InputError(f"{node_id} is neither the parent nor a child of {own_id} by their codes; "
                             "give --parent or --child for a non-standard id (skip-level peers are off)")
        relation = inferred
    elif inferred is not None and inferred != relation:
        raise InputError(f"{node_id} is the {inferred} of {own_id} by their codes, not its {relation}")
    elif inferred is None and divisions.is_standard(node_id) and divisions.is_standard(own_id):
        raise InputError(f"{node_id} and {own_id} are standard codes but not parent and child (skip-level peers are off)")
    if relation == "parent":
        existing = session.execute(select(Peer).where(Peer.relation == "parent")).scalar_one_or_none()
        if existing is not None and existing.node_id != node_id:
            raise InputError(f"this node already has a parent, {existing.node_id}; remove it first")
    if session.get(Peer, node_id) is not None:
        raise InputError(f"{node_id} is already a peer; remove it first to pin another key")
    key_id, public = parse_public_key(public_key)
    peer = Peer(node_id=node_id, url=url.rstrip("/"), relation=relation, name=name, added_ms=now_ms(), failures=0,
                hold_window_ms=0, delivery=delivery)
    peer.keys.append(PeerKey(key_id=key_id, public=public, expired_ms=None))
    session.add(peer)
    session.flush()
    return peer


def parse_pairing(line: str) -> tuple[str, str, str, str | None]:
    """A neighbour's pairing line, as its ``keys show`` prints it — ``ID URL PUBLIC_KEY [NAME]``, the name
    quoted as a shell word when it holds a space — split as ``peers add`` takes it: (id, url, key, name)."""
    import shlex

    if not isinstance(line, str) or not line.strip():
        raise InputError("paste the neighbour's pairing line (its `shangliang keys show`)", field="pairing")
    if len(line) > 2000:
        raise InputError("a pairing line is at most 2000 characters", field="pairing")
    try:
        words = shlex.split(line.strip())
    except ValueError as exc:
        raise InputError(f"the pairing line cannot be read: {exc}", field="pairing") from None
    if len(words) < 3:
        raise InputError("a pairing line has the neighbour's id, URL and public key, and may end with its name",
                         field="pairing")
    if len(words) > 4:
        # A name with spaces pasted without its quotes: the rest of the line is the name.
        words = words[:3] + [" ".join(words[3:])]
    node_id, url, key = words[:3]
    return node_id, url, key, words[3] if len(words) == 4 else None


def add_from_pairing(session: Session, own_id: str, line: str, relation: str | None = None,
                     name: str | None = None, delivery: str | None = None) -> Peer:
    """Pin the neighbour a pasted pairing line names (``name``, when given, instead of the line's)."""
    node_id, url, key, named = parse_pairing(line)
    return add_peer(session, own_id, node_id, url, key, relation, name or named, delivery)


def _lookup(session: Session, node_id: str) -> Peer | None:
    """The pinned peer ``node_id``, or None — also for a text that cannot be a node id (too long, a control or
    NUL character, which PostgreSQL's text would refuse), without asking the database."""
    if not isinstance(node_id, str) or not 0 < len(node_id) <= 40 or not node_id.isprintable():
        return None
    try:
        node_id.encode("utf-8")
    except UnicodeEncodeError:
        return None
    return session.get(Peer, node_id)


def require_peer(session: Session, node_id: str, relation: str | None = None) -> Peer:
    """The pinned peer ``node_id`` (its ``relation`` to this node, when given), else a named refusal."""
    peer = _lookup(session, node_id)
    if peer is None:
        raise InputError(f"{node_id} is not a peer of this node (shangliang peers add)")
    if relation is not None and peer.relation != relation:
        raise InputError(f"{node_id} is this node's {peer.relation}, not its {relation}")
    return peer


def relation_of(session: Session, node_id: str) -> str | None:
    """``parent``, ``child``, or None when ``node_id`` is not a peer."""
    peer = session.get(Peer, node_id)
    return peer.relation if peer is not None else None


def child_ids(session: Session) -> list[str]:
    """The pinned children's ids, sorted."""
    return sorted(session.execute(select(Peer.node_id).where(Peer.relation == "child")).scalars())


def remove_peer(session: Session, node_id: str) -> None:
    peer = _lookup(session, node_id)
    if peer is None:
        raise InputError(f"{node_id} is not a peer")
    session.delete(peer)
    session.flush()


def list_peers(session: Session) -> list[Peer]:
    return list(session.execute(select(Peer).options(selectinload(Peer.keys)).order_by(Peer.node_id)).scalars())


class PinnedPeers:
    """The receiver's view of its peers for verification (``verify.Peers``), read once per message in one
    statement (peers joined with their keys, columns only); a key is decoded when it is first asked for."""

    def __init__(self, session: Session):
        self._relations: dict[str, str] = {}
        self._held: set[str] = set()
        self._keys: dict[tuple[str, str], tuple[str | bytes, int | None]] = {}
        rows = session.execute(
            select(Peer.node_id, Peer.relation, Peer.held_until_ms, Peer.hold_window_ms,
                   PeerKey.key_id, PeerKey.public, PeerKey.expired_ms)
            .outerjoin(PeerKey, PeerKey.node_id == Peer.node_id).order_by(Peer.node_id, PeerKey.key_id)
        )
        for node_id, relation, held_until, hold_window, key_id, public, expired_ms in rows:
            self._relations[node_id] = relation
            if held_until or hold_window:
                self._held.add(node_id)
            if key_id is not None:
                self._keys[(node_id, key_id)] = (public, expired_ms)

    def held(self, node: str) -> bool:
        """Whether deliveries to ``node`` were held (or had a hold window) when the peers were read."""
        return node in self._held

    def relation(self, node: str) -> str | None:
        return self._relations.get(node)

    def key(self, node: str, key_id: str, at_ms: int) -> bytes | None:
        found = self._keys.get((node, key_id))
        if found is None:
            return None
        public, expired_ms = found
        if expired_ms is not None and expired_ms <= at_ms:
            return None
        return self._decoded(node, key_id, public, expired_ms)

    def current(self, node: str) -> tuple[str, bytes] | None:
        for (peer, key_id), (public, expired_ms) in list(self._keys.items()):
            if peer == node and expired_ms is None:
                return key_id, self._decoded(peer, key_id, public, expired_ms)
        return None

    def _decoded(self, node: str, key_id: str, public: str | bytes, expired_ms: int | None) -> bytes:
        if isinstance(public, str):
            public = b64u_decode(public, "pinned key", 32)
            self._keys[(node, key_id)] = (public, expired_ms)
        return public


def peer_dict(peer: Peer) -> dict:
    current = next((k for k in peer.keys if k.expired_ms is None), None)
    return {
        "id": peer.node_id, "url": peer.url, "relation": peer.relation, "name": peer.name,
        "key": f"{current.key_id}:{current.public}" if current else None,
        "old_keys": [{"id": k.key_id, "expired_ms": k.expired_ms} for k in peer.keys if k.expired_ms is not None],
        "last_success_ms": peer.last_success_ms, "last_failure_ms": peer.last_failure_ms,
        "failures": peer.failures, "held_until_ms": peer.held_until_ms, "delivery": peer.delivery or "http",
    }


def set_name(session: Session, node_id: str, name: str | None) -> Peer:
    """Name (or, with None, unname) a pinned neighbour: how people read its id on this node's pages."""
    peer = require_peer(session, node_id)
    peer.name = peer_name(name)
    return peer


def set_delivery(session: Session, node_id: str, mode: str) -> Peer:
    """Reach a pinned neighbour over HTTP or by bundle files only. Switching to ``http`` hands the messages
    waiting for it to the delivery worker."""
    peer = require_peer(session, node_id)
    mode = delivery_mode(mode)
    if peer.delivery != mode:
        peer.delivery = mode
        session.flush()
    return peer


def names(session: Session, own_id: str, own_name: str) -> dict[str, str]:
    """The committee names this node knows, by node id: its own and its named neighbours'."""
    known = {node_id: name for node_id, name in session.execute(select(Peer.node_id, Peer.name)) if name}
    known[own_id] = own_name
    return known
