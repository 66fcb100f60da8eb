"""The rules of members' duty records (委员履职档案) and the yearly assessment (issue 13, items 2 and 3).

- A member's record for a year is what the node already knows, joined in date order: every feature and
  practice gives its items through the ``duty_record_items`` hook (attendance and speeches from activities,
  proposals, …); this feature gives the items kept in ``duty_items``: recorded by hand by the office (with
  evidence, refused without) and reported for the member by a lower node (``x-duty.items``).
- The yearly assessment applies the rules practices give through ``assessment_rules``: each member's standing
  (met / behind / no rules), what is still missing and the months left in the year; a rule that raises is a
  rule failure of that member, reported, never an error of the page.
- A reminder goes to each member falling behind who has a user account here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import zoneinfo
from collections import Counter
from typing import Any
from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from shangliang.core.context import NodeContext
from shangliang.core.errors import InputError, NotFound
from shangliang.core.i18n import N_
from shangliang.core.members.models import Member
from shangliang.core.models import Role
from shangliang.core.plugins import flatten

from .errors import MissingEvidence, NotAllowed
from .models import HAND_KINDS, DutyItem
from .rules import Outcome

OFFICE = {Role.OFFICE.value, Role.ADMIN.value}
READERS = {Role.OFFICE.value, Role.ADMIN.value, Role.MEMBER.value}
KIND = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
LIMITS = {"title": 300, "detail": 20_000, "evidence_text": 20_000, "file_name": 300, "file_type": 100}
#: The largest evidence file kept (bytes).
MAX_FILE = 10 * 1024 * 1024
FIRST_YEAR, LAST_YEAR = 1949, 9999


# ---------------------------------------------------------------------------------------------
# Members, years, time


def zone(config: Mapping[str, Any]) -> dt.tzinfo:
    return zoneinfo.ZoneInfo(config.get("TIMEZONE") or "Asia/Shanghai")


def today(node: NodeContext) -> dt.date:
    return dt.datetime.fromtimestamp(node.now_ms() / 1000, zone(node.config)).date()


def check_year(year: Any, field: str = "year") -> int:
    if isinstance(year, str) and year.strip().isdigit():
        year = int(year.strip())
    if not isinstance(year, int) or isinstance(year, bool) or not FIRST_YEAR <= year <= LAST_YEAR:
        raise InputError(N_("%(year)s is not a year (%(first_year)s to %(last_year)s)", year=repr(str(year)[:20]),
                            first_year=FIRST_YEAR, last_year=LAST_YEAR), field)
    return year


def year_of(node: NodeContext, year: Any = None) -> int:
    """``year`` checked, or this year on the node's time zone."""
    return today(node).year if year in (None, "") else check_year(year)


def months_left(node: NodeContext, year: int) -> int:
    """Whole months left in ``year`` after the current one (12 for a year to come, 0 for a past one)."""
    now = today(node)
    if year > now.year:
        return 12
    if year < now.year:
        return 0
    return 12 - now.month


def date_of_ms(ms: int, config: Mapping[str, Any]) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, zone(config)).date().isoformat()


def year_bounds_ms(year: int, config: Mapping[str, Any]) -> tuple[int, int]:
    """The first and the first-after millisecond of ``year`` on the node's time zone."""
    tz = zone(config)
    start = dt.datetime(year, 1, 1, tzinfo=tz)
    end = dt.datetime(year + 1, 1, 1, tzinfo=tz) if year < LAST_YEAR else dt.datetime(9999, 12, 31, 23, 59, tzinfo=tz)
    return int(start.timestamp() * 1000), int(end.timestamp() * 1000)


def get_member(session: Session, ref: Any) -> Member:
    """A member of this node's register by id or member number (``NotFound`` otherwise)."""
    text = str(ref if ref is not None else "").strip()
    member = None
    if text.isascii() and text.isdigit() and int(text) < 2 ** 31:
        member = session.get(Member, int(text))
    if member is None and text:
        member = session.execute(select(Member).where(Member.member_no == text)).scalar_one_or_none()
    if member is None:
        raise NotFound(N_("no member %(text)s on this node (a member's id or number)", text=repr(text[:60])))
    return member


def member_summary(member: Member) -> dict[str, Any]:
    return {"id": member.id, "member_no": member.member_no, "name": member.name}


#: Who asks on the node's own command line (an administrator at the node): reads every record.
TRUSTED = "cli"


def check_reader(user: Any, member: Member) -> None:
    """The office and the administrator read every record; a member only their own (``NotAllowed``)."""
    if user is TRUSTED:
        return
    role = getattr(getattr(user, "role", None), "value", getattr(user, "role", None))
    if role in OFFICE:
        return
    if role == Role.MEMBER.value and getattr(user, "member_id", None) == member.id:
        return
    raise NotAllowed(N_("a member's duty record is read by the office and by the member"))


def member_record(session: Session, node: NodeContext, member_ref: Any, year: Any, user: Any) -> dict[str, Any]:
    """A member's record and standing for a year, for ``user`` (``NotAllowed`` for another member)."""
    year = year_of(node, year)
    member = get_member(session, member_ref)
    check_reader(user, member)
    rec = _record(session, node, member, year)
    return {**rec, "assessment": assess_member(session, node, member, year)}


# ---------------------------------------------------------------------------------------------
# The record


def _item(found: Mapping[str, Any]) -> dict[str, Any]:
    item = {key: found.get(key) for key in ("kind", "title", "date", "source", "ref")}
    item["detail"] = found.get("detail") or ""
    item["ref"] = None if item["ref"] is None else str(item["ref"])
    item["reported_by"] = found.get("reported_by")
    for key, value in found.items():  # a feature's extra facts (``form``, ``role``, ``status``, …) are kept
        item.setdefault(key, value)
    return item


def record_items(session: Session, node: NodeContext, member: Member, year: int) -> list[dict[str, Any]]:
    """Every item of ``member``'s record for ``year``, from every feature and practice, in date order."""
    found = flatten(node.pm.hook.duty_record_items(session=session, node=node, member=member_summary(member),
                                                   year=year))
    items = [_item(f) for f in found if isinstance(f, Mapping)]
    return sorted(items, key=lambda i: (str(i["date"] or ""), str(i["kind"] or ""), str(i["title"] or "")))


def record(session: Session, node: NodeContext, member_ref: Any, year: Any = None) -> dict[str, Any]:
    """A member's duty record for a year: the member, the items in date order and the count by kind."""
    year = year_of(node, year)
    member = get_member(session, member_ref)
    return _record(session, node, member, year)


def _record(session: Session, node: NodeContext, member: Member, year: int) -> dict[str, Any]:
    items = record_items(session, node, member, year)
    return {"member": member_summary(member), "year": year, "items": items,
            "counts": dict(sorted(Counter(i["kind"] for i in items).items()))}


def kept_items(session: Session, member_id: int, year: int) -> list[DutyItem]:
    """The items kept by this feature (by hand, reported by a lower node) for a member and year."""
    return list(session.execute(select(DutyItem).where(DutyItem.member_id == member_id, DutyItem.year == year)
                                .order_by(DutyItem.date, DutyItem.id)).scalars())


def kept_as_record_items(session: Session, member_id: int, year: int) -> list[dict[str, Any]]:
    """``duty_items`` as record items (this feature's ``duty_record_items``)."""
    out = []
    for row in kept_items(session, member_id, year):
        out.append({"kind": row.kind, "title": row.title, "date": row.date, "detail": row.detail,
                    "source": "duty" if row.reported_by is None else f"node:{row.reported_by}",
                    "ref": str(row.id), "reported_by": row.reported_by, "item_id": row.id,
                    "evidence": row.evidence_text or "", "evidence_file": row.evidence_name})
    return out


# ---------------------------------------------------------------------------------------------
# Items recorded by hand, with evidence


def _text(value: Any, field: str, limit: int, required: bool = True) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InputError(N_("%(field)s must be text", field=field), field)
    value = value.strip()
    if required and not value:
        raise InputError(N_("%(field)s is empty", field=field), field)
    if len(value) > limit:
        raise InputError(N_("%(field)s is longer than %(limit)s characters, the most kept", field=field,
                            limit=limit), field)
    return value


def check_kind(kind: Any) -> str:
    kind = _text(kind, "kind", 40)
    if not KIND.fullmatch(kind):
        raise InputError(N_("kind %(kind)s must be a short word (a-z, 0-9, _), e.g. %(hand_kinds)s",
                            kind=repr(kind[:40]), hand_kinds=', '.join(HAND_KINDS)),
                         "kind")
    return kind


def check_date(value: Any, field: str = "date") -> str:
    value = _text(value, field, 10)
    try:
        if not DATE.fullmatch(value):
            raise ValueError
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise InputError(N_("%(value)s is not a date (YYYY-MM-DD)", value=repr(value[:20])), field) from None
    check_year(day.year, field)
    return day.isoformat()


def add_item(session: Session, node: NodeContext, member_ref: Any, kind: Any, title: Any, date: Any,
             detail: Any = "", evidence_text: Any = None, file_name: str | None = None, file_type: str | None = None,
             file_data: bytes | None = None, actor: str = "") -> DutyItem:
    """Record an item of a member's duty by hand (good deed, training, research, …) with its evidence: a text,
    an attached file or both. Refused (``MissingEvidence``, nothing stored) without evidence."""
    member = get_member(session, member_ref)
    kind, title, date = check_kind(kind), _text(title, "title", LIMITS["title"]), check_date(date)
    detail = _text(detail, "detail", LIMITS["detail"], required=False)
    evidence = _text(evidence_text, "evidence_text", LIMITS["evidence_text"], required=False) or None
    name = kind_of_file = None
    if file_data is not None and len(file_data) == 0:
        file_data = None
    if file_data is not None:
        if len(file_data) > MAX_FILE:
            raise InputError(N_("the evidence file is larger than %(max_file)s MiB, the most kept",
                                max_file=MAX_FILE // (1024 * 1024)),
                             "evidence_file")
        name = _text(file_name or "", "evidence_file", LIMITS["file_name"])
        name = name.replace("\\", "/").rsplit("/", 1)[-1] or "evidence"
        kind_of_file = (file_type or "application/octet-stream").strip()[:LIMITS["file_type"]]
    if evidence is None and file_data is None:
        raise MissingEvidence()
    row = DutyItem(member_id=member.id, year=int(date[:4]), kind=kind, title=title, date=date, detail=detail,
                   evidence_text=evidence, evidence_name=name, evidence_type=kind_of_file,
                   evidence_size=None if file_data is None else len(file_data),
                   evidence_sha256=None if file_data is None else hashlib.sha256(file_data).hexdigest(),
                   evidence_data=file_data, recorded_by=(actor or "unknown")[:200], recorded_ms=node.now_ms())
    session.add(row)
    session.flush()
    return row


def get_item(session: Session, item_id: Any) -> DutyItem:
    text = str(item_id).strip()
    row = session.get(DutyItem, int(text)) if text.isascii() and text.isdigit() and int(text) < 2 ** 31 else None
    if row is None:
        raise NotFound(N_("no duty item %(text)s on this node", text=repr(text[:40])))
    return row


def remove_item(session: Session, item_id: Any) -> dict[str, Any]:
    """Remove an item recorded by hand here (one reported by a lower node stays: it is that node's word)."""
    row = get_item(session, item_id)
    if row.reported_by is not None:
        raise InputError(N_("duty item %(id)s was reported by %(reported_by)s; only items recorded here by hand are "
                            "removed here", id=row.id, reported_by=row.reported_by), "id")
    gone = row.as_dict()
    session.delete(row)
    session.flush()
    return gone


# ---------------------------------------------------------------------------------------------
# The yearly assessment


def rules(node: NodeContext) -> list[Any]:
    """The assessment rules of the enabled practices (none by default)."""
    return [r for r in flatten(node.pm.hook.assessment_rules(config=node.config)) if r is not None]


def _label(rule: Any) -> str:
    return str(getattr(rule, "label", None) or getattr(rule, "key", None) or type(rule).__name__)


def apply_rule(rule: Any, rec: Mapping[str, Any], history) -> dict[str, Any]:
    """One rule on one record: ``met`` and ``reason``; a check that raises (or answers something that is not an
    ``Outcome``) is a rule failure (``failed``), reported with its reason."""
    key = str(getattr(rule, "key", _label(rule)))
    out = {"rule": key, "label": _label(rule), "source": str(getattr(rule, "source", "") or "")}
    try:
        verdict = rule.check(rec, history)
        if not isinstance(verdict, Outcome):
            met, reason = verdict  # a (met, reason) pair is accepted too
            verdict = Outcome(bool(met), str(reason))
    except Exception as exc:  # noqa: BLE001 — a plugin's rule: its failure is reported, never a 500
        return {**out, "met": False, "failed": True,
                "reason": f"rule failure: {type(exc).__name__}: {str(exc)[:300]}"}
    return {**out, "met": bool(verdict.met), "failed": False, "reason": str(verdict.reason)}


def assess_member(session: Session, node: NodeContext, member: Member, year: int,
                  rule_set: list[Any] | None = None) -> dict[str, Any]:
    """One member's standing for ``year``: each rule's outcome, what is missing, the months left."""
    rule_set = rules(node) if rule_set is None else rule_set
    rec = _record(session, node, member, year)
    cache: dict[int, dict[str, Any]] = {year: rec}

    def history(other: int) -> dict[str, Any]:
        other = check_year(other)
        if other not in cache:
            cache[other] = _record(session, node, member, other)
        return cache[other]

    outcomes = [apply_rule(rule, rec, history) for rule in rule_set]
    standing = "no_rules" if not outcomes else "met" if all(o["met"] for o in outcomes) else "behind"
    return {"member": rec["member"], "year": year, "standing": standing, "outcomes": outcomes,
            "missing": [o["reason"] for o in outcomes if not o["met"]],
            "failures": [o["rule"] for o in outcomes if o["failed"]],
            "months_left": months_left(node, year), "items": len(rec["items"]), "counts": rec["counts"]}


def assessment(session: Session, node: NodeContext, year: Any = None) -> dict[str, Any]:
    """The year's assessment table: every active member's standing under the practices' rules."""
    year = year_of(node, year)
    rule_set = rules(node)
    members = session.execute(select(Member).where(Member.active.is_(True)).order_by(Member.id)).scalars()
    rows = [assess_member(session, node, m, year, rule_set) for m in members]
    return {"year": year, "months_left": months_left(node, year),
            "rules": [{"rule": str(getattr(r, "key", _label(r))), "label": _label(r),
                       "source": str(getattr(r, "source", "") or "")} for r in rule_set],
            "members": rows,
            "counts": dict(Counter(r["standing"] for r in rows))}


def member_assessment(session: Session, node: NodeContext, member_ref: Any, year: Any = None) -> dict[str, Any]:
    year = year_of(node, year)
    return assess_member(session, node, get_member(session, member_ref), year)


def remind(session: Session, node: NodeContext, year: Any = None) -> dict[str, Any]:
    """Tell each member falling behind in ``year`` (with a user account here) what is still missing; the office
    is told who was reminded. Nothing is sent for a past year or when no rule applies."""
    from shangliang.core.notifications import notify
    from shangliang.core.users.models import User

    table = assessment(session, node, year)
    reminded, without_account = [], []
    if table["months_left"] == 0 and table["year"] < today(node).year:
        return {"year": table["year"], "reminded": [], "without_account": [], "skipped": "past year"}
    for row in table["members"]:
        if row["standing"] != "behind":
            continue
        users = list(session.execute(select(User).where(User.member_id == row["member"]["id"])).scalars())
        if not users:
            without_account.append(row["member"]["name"])
            continue
        body = "\n".join(f"- {reason}" for reason in row["missing"])
        body += f"\n\n{row['months_left']} month(s) left in {table['year']}."
        for user in users:
            notify(session, f"履职提醒 Duty reminder {table['year']}: {row['member']['name']}", body,
                   user_id=user.id, source="duty")
        reminded.append(row["member"]["name"])
    if reminded:
        notify(session, f"履职提醒已发送 Duty reminders sent ({table['year']})",
               "\n".join(reminded), role=Role.OFFICE.value, source="duty")
    return {"year": table["year"], "reminded": reminded, "without_account": without_account}
