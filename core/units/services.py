"""The rules of handling units (承办单位): adding, importing (all or nothing), contacts, and finding a unit.

A unit's contacts are users with the ``handling_unit`` role; a user acts for one unit, and sees only
what is assigned to that unit (``unit_of_user``). Results and proposals refer to units by name or id
through ``resolve``.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from shangliang.core import audit
from shangliang.core.clock import now_ms
from shangliang.core.errors import ImportRowError, InputError, NotFound
from shangliang.core.models import Role
from shangliang.core.users.models import User

from .models import KINDS, HandlingUnit, UnitContact

CSV_COLUMNS = ("name", "kind", "phone", "contacts")
REQUIRED = ("name", "kind")
MAX_NAME = 100
MAX_PHONE = 40
MAX_CONTACTS = 20


def _clean(value: Any) -> str | None:
    if value is None:
        return None
    value = str(value).strip()
    return value or None


def _name(value: Any) -> str:
    name = _clean(value)
    if not name:
        raise InputError("a unit's name is empty", field="name")
    if len(name) > MAX_NAME:
        raise InputError(f"a unit's name is longer than {MAX_NAME} characters", field="name")
    return name


def _kind(value: Any) -> str:
    kind = _clean(value)
    if kind not in KINDS:
        raise InputError(f"unknown unit kind {str(value)[:40]!r}; kinds: {', '.join(KINDS)}", field="kind")
    return kind


def _phone(value: Any) -> str | None:
    phone = _clean(value)
    if phone and len(phone) > MAX_PHONE:
        raise InputError(f"a phone number is longer than {MAX_PHONE} characters", field="phone")
    return phone


def _contacts(session: Session, usernames: Iterable[str], unit: HandlingUnit | None) -> list[User]:
    names = [n for n in (_clean(u) for u in usernames) if n]
    if len(names) > MAX_CONTACTS:
        raise InputError(f"a unit has at most {MAX_CONTACTS} contacts, not {len(names)}", field="contacts")
    users = []
    for username in dict.fromkeys(names):
        user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
        if user is None:
            raise InputError(f"no user {username[:80]!r}", field="contacts")
        if user.role != Role.HANDLING_UNIT.value:
            raise InputError(f"user {username!r} has the role {user.role}, not handling_unit: only a handling "
                             "unit's own staff act for it", field="contacts")
        other = session.execute(select(UnitContact).where(UnitContact.user_id == user.id)).scalar_one_or_none()
        if other is not None and (unit is None or other.unit_id != unit.id):
            raise InputError(f"user {username!r} already acts for {other.unit.name}", field="contacts")
        users.append(user)
    return users


def add_unit(session: Session, name: str, kind: str, phone: str | None = None,
             contacts: Iterable[str] = ()) -> HandlingUnit:
    """Add a handling unit; its name is unique on the node, its contacts users with the ``handling_unit`` role."""
    name, kind, phone = _name(name), _kind(kind), _phone(phone)
    if session.execute(select(HandlingUnit.id).where(HandlingUnit.name == name)).first():
        raise InputError(f"a unit named {name!r} exists already", field="name")
    users = _contacts(session, contacts, None)
    unit = HandlingUnit(name=name, kind=kind, phone=phone, active=True, created_ms=now_ms())
    session.add(unit)
    session.flush()
    for user in users:
        unit.contacts.append(UnitContact(user_id=user.id))
    session.flush()
    return unit


def update_unit(session: Session, ref: str | int, name: str | None = None, kind: str | None = None,
                phone: str | None = None, active: bool | None = None,
                contacts: Iterable[str] | None = None) -> HandlingUnit:
    """Change what is given of a unit (a new name must be free; ``contacts`` replaces the list)."""
    unit = get_unit(session, ref)
    if name is not None:
        new = _name(name)
        if new != unit.name and session.execute(select(HandlingUnit.id).where(HandlingUnit.name == new)).first():
            raise InputError(f"a unit named {new!r} exists already", field="name")
        unit.name = new
    if kind is not None:
        unit.kind = _kind(kind)
    if phone is not None:
        unit.phone = _phone(phone)
    if active is not None:
        unit.active = bool(active)
    if contacts is not None:
        users = _contacts(session, contacts, unit)
        unit.contacts.clear()
        session.flush()
        for user in users:
            unit.contacts.append(UnitContact(user_id=user.id))
    session.flush()
    return unit


def import_units(session: Session, path: Path) -> list[HandlingUnit]:
    """Import a UTF-8 CSV (header: name, kind, and optionally phone, contacts — user names separated by ``;``).

    All or nothing: the first bad row raises :class:`ImportRowError` naming its line, and the caller's
    transaction rolls back every row of the file.
    """
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path} is not UTF-8 (byte {exc.start})") from None
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = reader.fieldnames or []
    unknown = [col for col in header if col not in CSV_COLUMNS]
    if unknown:
        raise ImportRowError(str(path), 1, f"unknown column {unknown[0]!r}; columns: {', '.join(CSV_COLUMNS)}")
    missing = [col for col in REQUIRED if col not in header]
    if missing:
        raise ImportRowError(str(path), 1, f"the header lacks the column {missing[0]!r}")
    units = []
    seen: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        if None in row:
            raise ImportRowError(str(path), line, f"more fields than the {len(header)} columns of the header")
        name = _clean(row.get("name"))
        if name and name in seen:
            raise ImportRowError(str(path), line, f"unit {name!r} repeats line {seen[name]}")
        if name:
            seen[name] = line
        try:
            units.append(add_unit(session, row.get("name"), row.get("kind"), row.get("phone"),
                                  (row.get("contacts") or "").split(";")))
        except InputError as exc:
            raise ImportRowError(str(path), line, str(exc)) from None
    if not units:
        raise ImportRowError(str(path), 2, "no unit rows after the header")
    audit.record(session, "units.import", "handling_units", str(Path(path).name), {"rows": len(units)})
    return units


def list_units(session: Session, active_only: bool = False) -> list[HandlingUnit]:
    query = select(HandlingUnit).order_by(HandlingUnit.id)
    if active_only:
        query = query.where(HandlingUnit.active.is_(True))
    return list(session.execute(query).scalars())


def get_unit(session: Session, ref: str | int) -> HandlingUnit:
    """The unit with this id (a number) or this name; ``NotFound`` otherwise."""
    unit = None
    if isinstance(ref, int) or (isinstance(ref, str) and ref.strip().isdigit()):
        unit = session.get(HandlingUnit, int(ref))
    if unit is None and isinstance(ref, str):
        unit = session.execute(select(HandlingUnit).where(HandlingUnit.name == ref.strip())).scalar_one_or_none()
    if unit is None:
        raise NotFound(f"no handling unit {str(ref)[:100]!r}")
    return unit


def resolve(session: Session, refs: Iterable[str | int], field: str = "units") -> list[HandlingUnit]:
    """The active units named (by name or id), in order, each once; ``InputError`` naming the first unknown or
    inactive one — for results and proposals, which assign work only to units the node works with."""
    units: list[HandlingUnit] = []
    for ref in refs:
        try:
            unit = get_unit(session, ref)
        except NotFound:
            raise InputError(f"no handling unit {str(ref)[:100]!r} on this node (see: shangliang units list)",
                             field=field) from None
        if not unit.active:
            raise InputError(f"handling unit {unit.name!r} is inactive", field=field)
        if unit not in units:
            units.append(unit)
    return units


def unit_of_user(session: Session, user_id: int | None) -> HandlingUnit | None:
    """The unit a user acts for, or None."""
    if user_id is None:
        return None
    contact = session.execute(select(UnitContact).where(UnitContact.user_id == user_id)).scalar_one_or_none()
    return contact.unit if contact is not None else None


def contact_user_ids(unit: HandlingUnit) -> list[int]:
    """The users who act for ``unit`` (who a notice to the unit goes to)."""
    return [c.user_id for c in unit.contacts]
