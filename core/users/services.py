"""User services: accounts of administrators, office staff, members, handling units and the public."""

from __future__ import annotations

import functools
import hashlib
import re
import secrets

from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from shangliang.core.errors import Conflict, InputError, NotFound
from shangliang.core.i18n import N_
from shangliang.core.members.models import Member
from shangliang.core.models import Role
from shangliang.core.pagination import Page, page

from .models import SignIn, User

USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{2,80}$")
MIN_PASSWORD = 8
#: werkzeug's own default (scrypt, n=32768, r=8, p=1): what every node uses unless ``[users] hash_method``
#: says otherwise. Only the test suite says otherwise (tests/conftest.py), to save ~0.1 s a sign-in.
DEFAULT_HASH_METHOD = "scrypt"
ROLES = tuple(r.value for r in Role)


class UnknownRole(InputError):
    """A role that is not one of the node's roles."""

    def __init__(self, role: str):
        super().__init__(N_("unknown role %(role)s; roles: %(roles)s", role=repr(str(role)[:40]),
                            roles=', '.join(ROLES)), field="role")


class DuplicateUser(InputError):
    """A user name already taken on this node."""

    def __init__(self, username: str):
        super().__init__(N_("user %(username)s already exists", username=repr(username)), field="username")


class LastAdmin(Conflict):
    """The change would leave the node without an active administrator (no one could manage it from the web)."""

    def __init__(self, username: str):
        super().__init__(N_("%(username)s is the last active admin: add or enable another admin first",
                            username=username))


def check_hash_method(value) -> str | None:
    """What is wrong with ``value`` as the ``[users] hash_method`` setting, or None."""
    if not isinstance(value, str) or not value.startswith(("scrypt", "pbkdf2")):
        return f"must be a werkzeug password hash method (scrypt or pbkdf2…), not {str(value)[:40]!r}"
    if value == DEFAULT_HASH_METHOD:  # werkzeug's own default: known good, and a trial hash costs ~0.1 s a process
        return None
    try:
        generate_password_hash("check", method=value)
    except (ValueError, TypeError) as exc:
        return f"{value[:40]!r} is not a usable hash method: {exc}"
    return None


def add_user(session: Session, username: str, role: str, password: str | None, display_name: str | None = None,
             member_no: str | None = None, method: str = DEFAULT_HASH_METHOD) -> User:
    if not USERNAME.fullmatch(username or ""):
        raise InputError(N_("user name %(username)s must be 2-80 letters, digits or . _ @ -",
                            username=repr(username[:40])), field="username")
    if role not in ROLES:
        raise UnknownRole(role)
    if password is not None and len(password) < MIN_PASSWORD:
        raise InputError(N_("the password must be at least %(min_password)s characters",
                            min_password=MIN_PASSWORD), field="password")
    if session.execute(select(User.id).where(User.username == username)).first():
        raise DuplicateUser(username)
    member_id = None
    if member_no is not None:
        member_id = session.execute(select(Member.id).where(Member.member_no == member_no)).scalar()
        if member_id is None:
            raise InputError(N_("no member with number %(member_no)s", member_no=repr(member_no)), field="member_no")
    user = User(username=username, display_name=display_name or username, role=role, member_id=member_id,
                password_hash=generate_password_hash(password, method=method) if password else None)
    session.add(user)
    session.flush()
    return user


def list_users(session: Session) -> list[User]:
    return list(session.execute(select(User).order_by(User.username)).scalars())


def page_users(session: Session, limit: int | None = 50, cursor: str | None = None, role: str | None = None) -> Page:
    """A page of users, the newest first (``role``: only those with it)."""
    query = select(User)
    if role is not None:
        if role not in ROLES:
            raise UnknownRole(role)
        query = query.where(User.role == role)
    return page(session, query, [User.id], lambda u: [u.id], limit, cursor)


def check_password(user: User, password: str) -> bool:
    return bool(user.password_hash) and check_password_hash(user.password_hash, password)


@functools.lru_cache(maxsize=8)
def _no_user_hash(method: str) -> str:
    """Checked when no such user exists, so an unknown name costs the same time as a wrong password and
    user names cannot be told apart by how long the answer takes."""
    return generate_password_hash(secrets.token_urlsafe(16), method=method)


# Made on the first unknown name, not at import: a command or a worker, which never signs anyone in, does not
# pay a scrypt hash (~0.1 s of CPU) at start. The first unknown name a web process checks costs one extra hash,
# once per process — too rare to tell names apart by.


def authenticate(session: Session, username: str, password: str,
                 method: str = DEFAULT_HASH_METHOD) -> User | None:
    """The active user with this name and password, else None (sign-in page and HTTP Basic alike).
    ``method`` is the node's hash method: an unknown name is checked against a hash made with it."""
    user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None or not user.password_hash:
        check_password_hash(_no_user_hash(method), password)
        return None
    if not check_password(user, password) or not user.active:
        return None
    return user


def active_user(session: Session, user_id: str) -> User | None:
    """The active user with this id (a signed-in session's), else None."""
    try:
        user = session.get(User, int(user_id))
    except (TypeError, ValueError):
        return None
    return user if user is not None and user.active else None


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def start_session(session: Session, user: User, now_ms: int, hours: float) -> str:
    """A signed-in session for ``user``, kept here for ``hours``: the id its cookie carries,
    ``<user id>:<random token>`` (only the token's hash is stored)."""
    session.execute(delete(SignIn).where(SignIn.expires_ms <= now_ms))
    token = secrets.token_urlsafe(32)
    session.add(SignIn(token_hash=_token_hash(token), user_id=user.id, created_ms=now_ms,
                       expires_ms=now_ms + int(hours * 3600 * 1000)))
    session.flush()
    user.session_id = f"{user.id}:{token}"
    return user.session_id


def session_user(session: Session, session_id: str, now_ms: int) -> User | None:
    """The active user of the kept, unexpired session ``session_id``, else None (signed out, expired,
    forged, or an account no longer active)."""
    user_id, _, token = str(session_id or "").partition(":")
    if not token or not (user_id.isascii() and user_id.isdigit()) or len(user_id) > 18 or str(int(user_id)) != user_id:
        return None  # the id as the node wrote it, digits only: no other spelling of it signs anyone in
    # One statement (every signed-in request asks it): the kept sign-in and its active user.
    user = session.execute(select(User).join(SignIn, SignIn.user_id == User.id).where(
        SignIn.token_hash == _token_hash(token), SignIn.expires_ms > now_ms, User.id == int(user_id),
        User.active.is_(True))).scalar_one_or_none()
    if user is not None:
        user.session_id = session_id
    return user


def end_session(session: Session, session_id: str) -> None:
    """Sign out: the session's cookie no longer signs anyone in."""
    _user_id, _, token = str(session_id or "").partition(":")
    if token:
        session.execute(delete(SignIn).where(SignIn.token_hash == _token_hash(token)))


def get_user(session: Session, username: str) -> User:
    if not USERNAME.fullmatch(username or ""):  # no such name can exist; not asked of the database
        raise NotFound(N_("no user %(username)s on this node", username=repr(str(username)[:80])))
    user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        raise NotFound(N_("no user %(username)s on this node", username=repr(username[:80])))
    return user


def set_password(session: Session, username: str, password: str, method: str = DEFAULT_HASH_METHOD) -> int:
    """A new password for ``username``; every session signed in with the old one ends. How many ended."""
    if len(password or "") < MIN_PASSWORD:
        raise InputError(N_("the password must be at least %(min_password)s characters",
                            min_password=MIN_PASSWORD), field="password")
    user = get_user(session, username)
    user.password_hash = generate_password_hash(password, method=method)
    return end_sessions(session, user)


def _active_admins(session: Session) -> list[str]:
    """The active administrators' names, read under the write lock: ``transaction`` holds SQLite's write lock
    from its first read, and on PostgreSQL the rows are locked (``FOR UPDATE``), so two requests each turning
    off one of the last two admins run one after the other and the second sees one admin left."""
    query = select(User).where(User.role == Role.ADMIN.value, User.active.is_(True)).order_by(User.id)
    return [u.username for u in session.execute(query.with_for_update()).scalars()]


def _keep_an_admin(session: Session, user: User) -> None:
    """Refuse (:class:`LastAdmin`) to turn off or demote ``user`` when it is the last active admin."""
    if user.role == Role.ADMIN.value and user.active and _active_admins(session) == [user.username]:
        raise LastAdmin(user.username)


def set_active(session: Session, username: str, active: bool) -> int:
    """Turn an account on or off; turning it off ends its sessions at once. How many ended.
    The last active admin cannot be turned off (:class:`LastAdmin`)."""
    user = get_user(session, username)
    if not active:
        _keep_an_admin(session, user)
    user.active = active
    return 0 if active else end_sessions(session, user)


def set_role(session: Session, username: str, role: str) -> User:
    """Give ``username`` another role (:class:`UnknownRole`); the last active admin keeps its role
    (:class:`LastAdmin`). The role is read with every request, so it applies at once."""
    if role not in ROLES:
        raise UnknownRole(role)
    user = get_user(session, username)
    if user.role == role:
        return user
    if role != Role.ADMIN.value:
        _keep_an_admin(session, user)
    user.role = role
    session.flush()
    return user


def end_sessions(session: Session, user: User) -> int:
    """End every signed-in session of ``user`` (a new password, an account turned off); how many ended."""
    return session.execute(delete(SignIn).where(SignIn.user_id == user.id)).rowcount


def recipients(session: Session, role: str | None, user_id: int | None) -> list[dict[str, str]]:
    """Who a notification for ``role`` (its active users) or for ``user_id`` reaches."""
    if user_id is not None:
        users = session.execute(select(User).where(User.id == user_id)).scalars().all()
    else:
        users = session.execute(select(User).where(User.role == role, User.active.is_(True))).scalars().all()
    return [{"username": u.username, "display_name": u.display_name} for u in users]


def user_dict(user: User) -> dict:
    return {"id": user.id, "username": user.username, "display_name": user.display_name, "role": user.role,
            "member_no": user.member.member_no if user.member else None, "active": user.active}


def user_detail(user: User) -> dict:
    """A user as the API answers it: ``user_dict`` with the linked member's name."""
    return {**user_dict(user), "member_name": user.member.name if user.member else None}
