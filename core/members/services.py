"""Member services (委员): one identity, three channels — sector (界别), special committee (专委会), township group."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shangliang.core import audit
from shangliang.core.errors import ImportRowError, InputError
from shangliang.core.i18n import N_
from shangliang.core.pagination import Page, page

from .models import Member, Sector, SpecialCommittee, TownshipGroup

CSV_COLUMNS = ("name", "sector", "special_committee", "township_group", "member_no", "phone")
REQUIRED = ("name", "sector")
MAX_FIELD = 100


def _named(session: Session, model, name: str | None):
    """The sector, committee or group with this name, created on first mention."""
    if not name:
        return None
    found = session.execute(select(model).where(model.name == name)).scalar_one_or_none()
    if found is None:
        found = model(name=name)
        session.add(found)
        session.flush()
    return found


def _clean(value: Any) -> str | None:
    if value is None:
        return None
    value = str(value).strip()
    return value or None


def add_member(session: Session, name: str, sector: str, special_committee: str | None = None,
               township_group: str | None = None, member_no: str | None = None, phone: str | None = None) -> Member:
    fields = {"name": _clean(name), "sector": _clean(sector), "special_committee": _clean(special_committee),
              "township_group": _clean(township_group), "member_no": _clean(member_no), "phone": _clean(phone)}
    for required in REQUIRED:
        if not fields[required]:
            raise InputError(N_("%(required)s is empty", required=required), field=required)
    for key, value in fields.items():
        if value and len(value) > MAX_FIELD:
            raise InputError(N_("%(key)s is longer than %(max_field)s characters", key=key,
                                max_field=MAX_FIELD), field=key)
        if value and any(ord(c) < 32 or ord(c) == 127 or 0xD800 <= ord(c) <= 0xDFFF for c in value):
            raise InputError(N_("%(key)s holds a control character", key=key), field=key)
    if fields["member_no"] and session.execute(
        select(Member.id).where(Member.member_no == fields["member_no"])
    ).first():
        raise InputError(N_("member number %(member_no)s is already taken",
                            member_no=repr(fields['member_no'])), field="member_no")
    member = Member(
        name=fields["name"],
        member_no=fields["member_no"],
        phone=fields["phone"],
        sector=_named(session, Sector, fields["sector"]),
        special_committee=_named(session, SpecialCommittee, fields["special_committee"]),
        township_group=_named(session, TownshipGroup, fields["township_group"]),
    )
    session.add(member)
    session.flush()
    return member


def import_members(session: Session, path: Path) -> list[Member]:
    """Import a UTF-8 CSV file (see :func:`import_members_text`)."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise InputError(N_("cannot read %(path)s: %(strerror)s", path=path, strerror=exc.strerror)) from None
    return import_members_text(session, data, str(path))


def import_members_text(session: Session, data: bytes | str, source: str = "members.csv") -> list[Member]:
    """Import UTF-8 CSV text or bytes (an uploaded file; header row: name, sector, and any of the other columns).

    All or nothing: the first bad row raises :class:`ImportRowError` naming its line, and the
    caller's transaction rolls back every row of the file.
    """
    path = source
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InputError(N_("%(path)s is not UTF-8 (byte %(start)s)", path=path,
                                start=exc.start), field="file") from None
    else:
        text = data.removeprefix("\ufeff")
    if "\x00" in text:
        raise InputError(N_("%(path)s holds a NUL character: it is not a CSV text file", path=path), field="file")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        header = reader.fieldnames or []
    except csv.Error as exc:
        raise ImportRowError(str(path), 1, N_("not CSV: %(exc)s", exc=exc)) from None
    unknown = [col for col in header if col not in CSV_COLUMNS]
    if unknown:
        raise ImportRowError(str(path), 1, N_("unknown column %(unknown)s; columns: %(csv_columns)s",
                                              unknown=repr(unknown[0]), csv_columns=', '.join(CSV_COLUMNS)))
    missing = [col for col in REQUIRED if col not in header]
    if missing:
        raise ImportRowError(str(path), 1, N_("the header lacks the column %(missing)s", missing=repr(missing[0])))
    members = []
    seen_numbers: dict[str, int] = {}
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise ImportRowError(str(path), reader.line_num, N_("not CSV: %(exc)s", exc=exc)) from None
        line = reader.line_num
        if None in row:
            raise ImportRowError(str(path), line, N_("more fields than the %(count)s columns of the header",
                                                     count=len(header)))
        number = _clean(row.get("member_no"))
        if number and number in seen_numbers:
            raise ImportRowError(str(path), line, N_("member number %(number)s repeats line %(seen_numbers)s",
                                                     number=repr(number), seen_numbers=seen_numbers[number]))
        if number:
            seen_numbers[number] = line
        try:
            members.append(add_member(session, **{col: row.get(col) for col in CSV_COLUMNS}))
        except InputError as exc:
            raise ImportRowError(str(path), line, exc.args[0] if len(exc.args) == 1 else str(exc)) from None
    if not members:
        raise ImportRowError(str(path), 2, N_("no member rows after the header"))
    audit.record(session, "members.import", "members", Path(str(path)).name[:200], {"rows": len(members)})
    return members


def list_members(session: Session) -> list[Member]:
    return list(session.execute(select(Member).order_by(Member.id)).scalars())


def page_members(session: Session, limit: int | None = 50, cursor: str | None = None) -> Page:
    """A page of members, the newest first."""
    return page(session, select(Member), [Member.id], lambda m: [m.id], limit, cursor)


def member_dict(member: Member) -> dict:
    return {
        "id": member.id,
        "member_no": member.member_no,
        "name": member.name,
        "sector": member.sector.name if member.sector else None,
        "special_committee": member.special_committee.name if member.special_committee else None,
        "township_group": member.township_group.name if member.township_group else None,
        "phone": member.phone,
        "active": member.active,
    }


def members_by_number(session: Session, numbers: list[str]) -> dict[str, Member]:
    """The members with these member numbers, by number (numbers not on record are left out)."""
    if not numbers:
        return {}
    return {m.member_no: m for m in session.execute(select(Member).where(Member.member_no.in_(numbers))).scalars()}
