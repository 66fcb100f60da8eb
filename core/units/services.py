"""The rules of handling units (承办单位): adding, importing (all or nothing), contacts, and finding a unit.

A unit's contacts are users with the ``handling_unit`` role; a user acts for one unit, and sees only
what is assigned to that unit (``unit_of_user``). Results and proposals refer to units by name or id
through ``resolve``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from shangliang.core import audit
from shangliang.core.clock import now_ms
from shangliang.core.errors import ImportRowError, InputError, NotFound
from shangliang.core.i18n import N_
from shangliang.core.models import Role
from shangliang.core.pagination import Page, page
from shangliang.core.users.models import User
from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import KINDS, HandlingUnit, UnitContact

#: Who adds, changes and imports units; who reads them (a handling unit's user reads only its own unit).
WRITERS = frozenset({Role.ADMIN.value, Role.OFFICE.value})
READERS = WRITERS | {Role.HANDLING_UNIT.value}

CSV_COLUMNS = ("name", "kind", "phone", "contacts")
REQUIRED = ("name", "kind")
MAX_NAME = 100
MAX_PHONE = 40
MAX_CONTACTS = 20
MAX_PROBLEMS = 50  # an import lists at most this many bad lines
MAX_ID = 2 ** 31 - 1  # the largest id a unit can have (an INTEGER column)


class UnitImportError(ImportRowError):
    """An imported file has bad lines: each is listed (``problems``: line, message); nothing was imported."""

    def __init__(self, path: str, problems: list[tuple[int, str]]):
        self.problems = problems[:MAX_PROBLEMS]
        more = len(problems) - len(self.problems)
        listed = "; ".join(f"line {line}: {message}" for line, message in self.problems)
        if more:
            listed += f"; and {more} more bad lines"
        self.path, self.line, self.field = path, problems[0][0], None
        InputError.__init__(self, f"{path}, {listed}; nothing was imported")


def _clean(value: Any) -> str | None:
    if value is None:
        return None
    value = str(value).strip()
    return value or None


def _name(value: Any) -> str:
    name = _clean(value)
    if not name:
        raise InputError(N_("a unit's name is empty"), field="name")
    if len(name) > MAX_NAME:
        raise InputError(N_("a unit's name is longer than %(max_name)s characters", max_name=MAX_NAME), field="name")
    if name.isdigit():
        raise InputError(N_("a unit's name cannot be only digits (%(name)s): a number refers to a unit's id",
                            name=repr(name[:20])),
                         field="name")
    if not name.isprintable():
        raise InputError(N_("a unit's name holds a control character"), field="name")
    return name


def _kind(value: Any) -> str:
    kind = _clean(value)
    if kind not in KINDS:
        raise InputError(N_("unknown unit kind %(value)s; kinds: %(kinds)s", value=repr(str(value)[:40]),
                            kinds=', '.join(KINDS)), field="kind")
    return kind


def _phone(value: Any) -> str | None:
    phone = _clean(value)
    if phone and len(phone) > MAX_PHONE:
        raise InputError(N_("a phone number is longer than %(max_phone)s characters",
                            max_phone=MAX_PHONE), field="phone")
    return phone


def _contacts(session: Session, usernames: Iterable[str], unit: HandlingUnit | None) -> list[User]:
    names = [n for n in (_clean(u) for u in usernames) if n]
    if len(names) > MAX_CONTACTS:
        raise InputError(N_("a unit has at most %(max_contacts)s contacts, not %(count)s", max_contacts=MAX_CONTACTS,
                            count=len(names)), field="contacts")
    users = []
    for username in dict.fromkeys(names):
        user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
        if user is None:
            raise InputError(N_("no user %(username)s", username=repr(username[:80])), field="contacts")
        if not user.active:
            raise InputError(N_("user %(username)s is deactivated: a unit's contact must be able to sign in",
                                username=repr(username)),
                             field="contacts")
        if user.role != Role.HANDLING_UNIT.value:
            raise InputError(N_("user %(username)s has the role %(role)s, not handling_unit: only a handling unit's "
                                "own staff act for it", username=repr(username), role=user.role), field="contacts")
        other = session.execute(select(UnitContact).where(UnitContact.user_id == user.id)).scalar_one_or_none()
        if other is not None and (unit is None or other.unit_id != unit.id):
            raise InputError(N_("user %(username)s already acts for %(name)s", username=repr(username),
                                name=other.unit.name), field="contacts")
        users.append(user)
    return users


def add_unit(session: Session, name: str, kind: str, phone: str | None = None,
             contacts: Iterable[str] = ()) -> HandlingUnit:
    """Add a handling unit; its name is unique on the node, its contacts users with the ``handling_unit`` role."""
    name, kind, phone = _name(name), _kind(kind), _phone(phone)
    if session.execute(select(HandlingUnit.id).where(HandlingUnit.name == name)).first():
        raise InputError(N_("a unit named %(name)s exists already", name=repr(name)), field="name")
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
            raise InputError(N_("a unit named %(new)s exists already", new=repr(new)), field="name")
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
    """Import a UTF-8 CSV file (see :func:`import_units_text`)."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise InputError(N_("cannot read %(path)s: %(strerror)s", path=path, strerror=exc.strerror)) from None
    return import_units_text(session, data, str(path))


def import_units_text(session: Session, data: bytes | str, source: str = "units.csv") -> list[HandlingUnit]:
    """Import UTF-8 CSV (header: name, kind, and optionally phone, contacts — user names separated by ``;``).

    All or nothing: every bad row is checked and listed with its line in one :class:`UnitImportError`
    (at most ``MAX_PROBLEMS``), and the caller's transaction rolls back every row of the file.
    """
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InputError(N_("%(source)s is not UTF-8 (byte %(start)s)", source=source,
                                start=exc.start), field="file") from None
    else:
        text = data.removeprefix("\ufeff")
    if "\x00" in text:
        raise InputError(N_("%(source)s holds a NUL character: it is not a CSV text file", source=source), field="file")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        header = reader.fieldnames or []
    except csv.Error as exc:
        raise ImportRowError(source, 1, N_("not CSV: %(exc)s", exc=exc)) from None
    header = [col.strip() for col in header]
    reader.fieldnames = header
    unknown = [col for col in header if col not in CSV_COLUMNS]
    if unknown:
        raise ImportRowError(source, 1, N_("unknown column %(unknown)s; columns: %(csv_columns)s",
                                           unknown=repr(unknown[0][:40]), csv_columns=', '.join(CSV_COLUMNS)))
    missing = [col for col in REQUIRED if col not in header]
    if missing:
        raise ImportRowError(source, 1, N_("the header lacks the column %(missing)s", missing=repr(missing[0])))
    units: list[HandlingUnit] = []
    problems: list[tuple[int, str]] = []
    seen: dict[str, int] = {}
    rows = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            problems.append((reader.line_num, N_("not CSV: %(exc)s", exc=str(exc))))
            break
        rows += 1
        line = reader.line_num
        if None in row:
            problems.append((line, N_("more fields than the %(count)s columns of the header", count=len(header))))
            continue
        name = _clean(row.get("name"))
        if name and name in seen:
            problems.append((line, N_("unit %(name)s repeats line %(line)s", name=repr(name[:100]), line=seen[name])))
            continue
        if name:
            seen[name] = line
        try:
            units.append(add_unit(session, row.get("name"), row.get("kind"), row.get("phone"),
                                  (row.get("contacts") or "").split(";")))
        except InputError as exc:
            problems.append((line, exc.args[0] if len(exc.args) == 1 else str(exc)))
    if problems:
        raise UnitImportError(source, problems)
    if not rows:
        raise ImportRowError(source, 2, N_("no unit rows after the header"))
    audit.record(session, "units.import", "handling_units", Path(source).name[:100], {"rows": len(units)})
    return units


def list_units(session: Session, active_only: bool = False) -> list[HandlingUnit]:
    query = select(HandlingUnit).order_by(HandlingUnit.id)
    if active_only:
        query = query.where(HandlingUnit.active.is_(True))
    return list(session.execute(query).scalars())


def page_units(session: Session, limit: int | None = None, cursor: str | None = None,
               only: HandlingUnit | None = None, active_only: bool = False) -> Page:
    """A page of units, the newest first (``only``: just that unit — what a handling unit's user sees)."""
    query = select(HandlingUnit)
    if only is not None:
        query = query.where(HandlingUnit.id == only.id)
    if active_only:
        query = query.where(HandlingUnit.active.is_(True))
    return page(session, query, [HandlingUnit.id], lambda u: [u.id], limit, cursor)


def get_unit(session: Session, ref: str | int) -> HandlingUnit:
    """The unit with this id (a number of ASCII digits) or this name; ``NotFound`` otherwise."""
    unit = None
    if isinstance(ref, bool) or not isinstance(ref, (int, str)):
        raise InputError(N_("a unit is named by its id or its name"), field="unit")
    text = str(ref).strip()
    if isinstance(ref, int) or (text.isascii() and text.isdigit()):
        number = int(text) if len(text) <= 12 else MAX_ID + 1
        if 1 <= number <= MAX_ID:
            unit = session.get(HandlingUnit, number)
    elif text and len(text) <= MAX_NAME and text.isprintable():
        unit = session.execute(select(HandlingUnit).where(HandlingUnit.name == text)).scalar_one_or_none()
    if unit is None:
        raise NotFound(N_("no handling unit %(ref)s", ref=repr(str(ref)[:100])))
    return unit


def resolve(session: Session, refs: Iterable[str | int], field: str = "units") -> list[HandlingUnit]:
    """The active units named (by name or id), in order, each once; ``InputError`` naming the first unknown or
    inactive one — for results and proposals, which assign work only to units the node works with."""
    units: list[HandlingUnit] = []
    for ref in refs:
        try:
            unit = get_unit(session, ref)
        except NotFound:
            raise InputError(N_("no handling unit %(ref)s on this node (see: shangliang units list)",
                                ref=repr(str(ref)[:100])),
                             field=field) from None
        if not unit.active:
            raise InputError(N_("handling unit %(name)s is inactive", name=repr(unit.name)), field=field)
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


def readable_by(session: Session, user: User) -> HandlingUnit | None | bool:
    """What ``user`` may read: ``True`` (every unit: the office, an admin) or the one unit the user acts for
    (``None``: a handling unit's user who acts for none yet, so reads nothing)."""
    if user.role in WRITERS:
        return True
    if user.role == Role.HANDLING_UNIT.value:
        return unit_of_user(session, user.id)
    return None


def may_read(session: Session, user: User, unit: HandlingUnit) -> bool:
    seen = readable_by(session, user)
    return seen is True or (isinstance(seen, HandlingUnit) and seen.id == unit.id)


def detail(unit: HandlingUnit) -> dict[str, Any]:
    """A unit as the API and the commands show it: its contacts with their user ids."""
    return {**unit.as_dict(), "created_ms": unit.created_ms,
            "contact_users": [{"id": c.user_id, "username": c.user.username} for c in unit.contacts]}
