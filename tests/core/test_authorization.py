"""The authorisation matrix: every route of the app × every role and anonymous × (HTTP Basic, the signed-in
session), each answer asserted against one explicit table.

``TABLE`` has one entry per (method, URL rule) of a node with every bundled page-serving plugin enabled.
The matrix walks ``app.url_map``, not the table, so a route with no entry fails the matrix (and
``test_a_route_without_an_entry_fails_the_matrix`` shows that it does). Each entry names who may reach the
route and the answer an allowed request gets:

- ``OPEN``: anyone, signed in or not, the same answer (the sign-in page, health, the federation's
  signed-message endpoints, the API's own description);
- ``PAGE_READ``: a signed-in session of any role; anonymous and HTTP Basic (pages know only sessions)
  are sent to ``/login``;
- ``PAGE_WRITE``: a signed-in ``admin`` or ``office``; other roles 403, anonymous and Basic to ``/login``;
- ``API_READ``: any node user by Basic or session; anonymous 401 ``unauthenticated`` (JSON, with
  ``WWW-Authenticate: Basic``);
- ``API_WRITE``: ``admin`` or ``office`` by Basic or session (+ CSRF header); other roles 403
  ``forbidden``, anonymous 401 — the JSON error body of docs/api.md;
- ``PAGE_ONLINE``, ``API_ONLINE``: as ``PAGE_WRITE`` and ``API_WRITE`` but for ``member`` and ``public``
  (an opinion posted online while an activity's window is open, 网络协商); other roles 403.
- ``PAGE_UNIT``, ``API_UNIT``: as ``PAGE_WRITE`` and ``API_WRITE`` but for ``handling_unit`` (a unit's
  report on its part in implementing a result, filed by its contact user); other roles 403.
- ``PAGE_TOPIC``, ``API_TOPIC``: as ``PAGE_READ`` and ``API_READ`` but one topic (its page, implementation or
  attachment) that is not assigned to the matrix unit: a ``handling_unit`` user sees only the topics assigned
  to their unit, so is answered 404 (``not_found`` in the API).
- ``PAGE_ROLES``, ``API_ROLES``: as ``PAGE_WRITE`` and ``API_WRITE`` but for the roles the entry's ``allowed``
  names — a proposal's step taken by its proposer (``member``) or an assigned unit's contact
  (``handling_unit``); a role the route admits whom the service refuses (the office rating a member's
  proposal) answers 403 as well.

An allowed write is checked by its effect (a topic raised, its stage moved, a file attached), a refused one
by nothing having changed. The node is real (``make_node``, users added with ``users add``) and has CSRF
protection on, as in production: session writes send the session's token.
"""

from __future__ import annotations

import base64
import io
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import tomlkit
from flask import Flask
from shangliang.core.activities.models import Activity, Invitation, Material, Opinion
from shangliang.core.appraisal import models as appraisal_models
from shangliang.core.app import create_app
from shangliang.core.context import node_context
from shangliang.core.db import get_session, transaction
from shangliang.core.duty.models import DutyItem
from shangliang.core.plans.models import Plan, PlanAmendment, PlanItem, PlanStep
from shangliang.core.opinions import models as opinion_models
from shangliang.core.proposals import models as proposal_models
from shangliang.core.topics.models import Assignment, Instruction, Report, Topic, TopicAttachment, TopicEvent
from shangliang.core.units.models import HandlingUnit
from sqlalchemy import func, select

from ..conftest import invoke

ROLES = ("admin", "office", "member", "handling_unit", "public")
WRITERS = {"admin", "office"}
ONLINE = {"member", "public"}
RAISERS = frozenset(WRITERS | ONLINE)  # who raises a topic (a member and the public as themselves)
PASSWORD = "correct-horse-battery"
# three_together guards plan items and activities: the plan items below name a party and a government department.
# baotou_321 (its pages below) asks for nothing here, so the proposal close entry closes a rated proposal as without it.
PLUGINS = ["consultation_home", "work_station", "leader_follow_up", "quarterly_forum", "three_together", "baotou_321",
           "five_level"]
PLUGIN_TOML = """
[[plugins.consultation_home.homes]]
name = "海州区协商民主之家"
lead = "王芳"
members = ["王芳", "李强", "张伟"]

[plugins.work_station]
head = "刘书记"
head_is_member = false
deputies = ["J001"]

[plugins.baotou_321]
phases = []
face_to_face = 0
publication = false
"""
TOPIC = {"title": "两镇之间道路维修", "description": "连接两镇的道路破损严重", "category": "交通",
         "areas": ["620302001"], "raised_by_kind": "public", "raised_by_name": "村民代表"}
FILE = b"joint letter\n"
REMOTE = "620302001:01JZZZZZZZZZZZZZZZZZZZZZZZ"  # an activity of the matrix node's child

OPEN, PAGE_READ, PAGE_WRITE, API_READ, API_WRITE = "open", "page_read", "page_write", "api_read", "api_write"
PAGE_ONLINE, API_ONLINE = "page_online", "api_online"
# handling units: read by admin, office and handling_unit (its own unit: the matrix unit is matrix_handling_unit's)
PAGE_UNIT_READ, API_UNIT_READ = "page_unit_read", "api_unit_read"
UNIT_READERS = WRITERS | {"handling_unit"}
PAGE_UNIT, API_UNIT = "page_unit", "api_unit"  # implementation: a handling unit's contact user reports
MATRIX_UNIT = "矩阵交通局"  # the handling unit matrix_handling_unit acts for
PAGE_ROLES, API_ROLES = "page_roles", "api_roles"
PAGE_TOPIC, API_TOPIC = "page_topic", "api_topic"  # one topic not assigned to the matrix unit
ACTIVITY = {"form": "special", "title": "专题协商会", "starts": "2026-06-10 09:00", "ends": "2026-06-10 11:00",
            "place": "会议室", "organiser": "提案委员会"}


# ---------------------------------------------------------------------------------------------
# Who asks, and how


@dataclass(frozen=True)
class Who:
    role: str | None  # None: anonymous
    how: str  # "basic" | "session" | "none"

    def __str__(self) -> str:
        return "anonymous" if self.role is None else f"{self.role}-{self.how}"

    @property
    def username(self) -> str:
        return f"matrix_{self.role}"


WHO = [Who(None, "none")] + [Who(role, how) for role in ROLES for how in ("basic", "session")]


# ---------------------------------------------------------------------------------------------
# The table


@dataclass
class Call:
    """One request: the path, and what goes with it (a JSON body, a form, raw bytes)."""

    path: str
    json: Any = None
    form: dict[str, Any] | None = None
    data: bytes | None = None
    content_type: str | None = None


@dataclass
class Entry:
    access: str
    status: int  # the answer an allowed request gets
    call: Callable[[Matrix], Call]
    # For an allowed write: does the response (or the node) show that it took effect?
    took_effect: Callable[[Matrix, Call, Any], bool] | None = None
    writes: bool = False
    fresh: bool = False  # sent by a client of its own (signing in or out changes the client's session)
    allowed: frozenset[str] = frozenset()  # PAGE_ROLES, API_ROLES: the roles whose request is allowed


def _raised(m: Matrix, call: Call, response) -> bool:
    return "raised=" in response.headers.get("Location", "")


def _uid(call: Call) -> str:
    return call.path.split("?")[0].split("/")[-2]  # …/topics/<uid>/act, …/actions, …/attach, …/attachments


def _advanced(m: Matrix, call: Call, response) -> bool:
    return m.stage(_uid(call)) == "determined"


def _attached(m: Matrix, call: Call, response) -> bool:
    return m.attachment_count(_uid(call)) == 1


def _activity_uid(call: Call) -> str:
    return call.path.split("?")[0].split("/")[-2]  # …/activities/<uid>/act, …/actions, …/opinions, …/materials


def _planned(m: Matrix, call: Call, response) -> bool:
    return "/activities/" in response.headers.get("Location", "")


def _invited(m: Matrix, call: Call, response) -> bool:
    return m.activity_rows(Invitation, _activity_uid(call)) == 1


def _material_added(m: Matrix, call: Call, response) -> bool:
    return m.activity_rows(Material, _activity_uid(call)) == 1


def _opinion_posted(m: Matrix, call: Call, response) -> bool:
    return m.activity_rows(Opinion, _activity_uid(call)) == 1


def _sent(m: Matrix, call: Call, response) -> bool:
    """A join went into the outbox (one more message than before the call)."""
    return m.outbox_rows() == m.sent_before + 1


def _csrf_form(m: Matrix, fields: dict[str, Any]) -> dict[str, Any]:
    return {**fields, "csrf_token": m.csrf}


def _year(call: Call) -> int:
    return int(call.path.split("/plans/")[1].split("/")[0])


def _plan_made(m: Matrix, call: Call, response) -> bool:
    location = response.headers.get("Location", "")
    return "/plans/" in location and m.plan_rows(int(location.rstrip("/").split("/")[-1]))[0] is not None


def _plan_has(status: str | None = None, items: int | None = None, steps: int | None = None,
              amendments: int | None = None) -> Callable[[Matrix, Call, Any], bool]:
    def check(m: Matrix, call: Call, response) -> bool:
        found = m.plan_rows(_year(call))
        want = (status, items, steps, amendments)
        return all(w is None or w == f for w, f in zip(want, found))

    return check


def _impl_uid(call: Call) -> str:
    return call.path.split("/topics/")[1].split("/")[0]  # …/topics/<uid>/implementation/…


def _impl_has(assignments: int | None = None, instructions: int | None = None, reports: int | None = None,
              reviewed: int | None = None) -> Callable[[Matrix, Call, Any], bool]:
    def check(m: Matrix, call: Call, response) -> bool:
        found = m.implementation_rows(_impl_uid(call))
        want = (assignments, instructions, reports, reviewed)
        return all(w is None or w == f for w, f in zip(want, found))

    return check


PLAN_ITEM = {"form": "forum", "planned_month": 3, "lead": "提案委员会", "topic": TOPIC,
             "participants": {"departments": ["区委办公室", "区交通局"]}}
PLAN_ITEM_FORM = {"form": "forum", "planned_month": "3", "lead": "提案委员会", "departments": "区委办公室、区交通局", **{k: v for k, v in TOPIC.items()
                                                                             if k != "areas"}, "areas": "620302001"}
PLAN_STEP = {"step": "chair_meeting", "approver": "主席会议", "decision": "approved"}
PLAN_MOVE = {"kind": "move", "planned_month": 9, "reason": "调整", "approved_by": "主席会议", "reference": "纪要5号"}


def _unit_named(m: Matrix, call: Call, response) -> bool:
    return m.last_unit in m.unit_names()


def _unit_phone(m: Matrix, call: Call, response) -> bool:
    return m.unit_phone(MATRIX_UNIT) == m.last_phone


PROPOSAL_TABLES = (proposal_models.Proposal, proposal_models.ProposalSigner, proposal_models.ProposalAssignment,
                   proposal_models.ProposalReassignment, proposal_models.ProposalReply, proposal_models.ProposalContact,
                   proposal_models.ProposalRating, proposal_models.ProposalSupervision)
SUBMIT = frozenset({"admin", "office", "member"})
ADMIN = frozenset({"admin"})


def _plugin_is(enabled: bool) -> Callable[[Matrix, Call, Any], bool]:
    def check(m: Matrix, call: Call, response) -> bool:
        return ("four_ones" in m.node_toml()["plugins"]["enabled"]) == enabled

    return check


def _per_year_set(m: Matrix, call: Call, response) -> bool:
    return m.node_toml()["plugins"]["four_ones"]["per_year"] == m.per_year
UNIT = frozenset({"handling_unit"})
PROPOSAL = {"title": "关于农村公路养护的建议", "reasons": "道路破损", "suggestions": "设立养护资金", "category": "城乡建设",
            "term": 12, "session": 1, "year": 2027}
PROPOSAL_FORM = {**PROPOSAL, "term": "12", "session": "1", "year": "2027"}
RATING = {d: "satisfied" for d in ("contact", "attitude", "measures", "pertinence", "leader_attention", "result",
                                   "overall")}
REPLY = {"classification": "solved_or_solving", "text": "已安排资金"}

APPRAISAL_TABLES = (appraisal_models.Appraisal, appraisal_models.AppraisalSubject, appraisal_models.AppraisalGroup,
                    appraisal_models.AppraisalGroupMember, appraisal_models.AppraisalVisit,
                    appraisal_models.AppraisalRating, appraisal_models.AppraisalRectification,
                    appraisal_models.AppraisalRectificationReport)


def _appraisal_id(call: Call) -> int:
    return int(re.findall(r"/appraisals?/(\d+)", call.path)[0])


def _rectification_id(call: Call) -> int:
    return int(re.findall(r"/rectifications/(\d+)", call.path)[0])


def _appraisal_has(**want: Any) -> Callable[[Matrix, Call, Any], bool]:
    """The appraisal of the call has these counts (subjects, confirmed, groups, visits, ratings, rectifications) or
    this status."""

    def check(m: Matrix, call: Call, response) -> bool:
        found = m.appraisal_rows(_appraisal_id(call))
        return all(found[key] == value for key, value in want.items())

    return check


def _rectification_has(reports: int | None = None, reviewed: int | None = None) -> Callable[[Matrix, Call, Any], bool]:
    def check(m: Matrix, call: Call, response) -> bool:
        found = m.rectification_rows(_rectification_id(call))
        return (reports is None or found[0] == reports) and (reviewed is None or found[1] == reviewed)

    return check


def _appraisal_made(m: Matrix, call: Call, response) -> bool:
    year = call.json["year"] if call.json else int(call.form["year"])
    return m.appraisal_of_year(year) is not None


DUTY_ITEM = {"member": "M001", "kind": "good_deed", "title": "捐助学校", "date": "2026-03-05", "evidence": "感谢信"}
DUTY_REPORT = {"target": "6203", "member_no": "S001", "name": "赵敏",
               "items": [{"kind": "research", "title": "乡村调研", "date": "2026-05-01"}]}


def _duty_added(m: Matrix, call: Call, response) -> bool:
    return m.duty_rows() == m.duty_before + 1


def _proposal_ref(call: Call) -> str:
    return call.path.split("/proposals/")[1].split("/")[0]


def _proposal_is(status: str) -> Callable[[Matrix, Call, Any], bool]:
    return lambda m, call, response: m.proposal_row(call)["status"] == status


def _proposal_made(m: Matrix, call: Call, response) -> bool:
    return "/proposals/" in response.headers.get("Location", "")


OPINION_TABLES = (opinion_models.SocialOpinion, opinion_models.SocialOpinionEvent, opinion_models.OpinionIssue)
OPINION = {"title": "关于农村留守老人就医难的情况反映", "sentiment": "村卫生室缺医少药", "suggestion": "建立巡回医疗制度",
           "category": "社会民生", "year": 2026}
OPINION_FORM = {**OPINION, "year": "2026"}


def _opinion_ref(call: Call) -> str:
    return call.path.split("/opinions/")[1].split("/")[0]


def _opinion_events(kind: str) -> Callable[[Matrix, Call, Any], bool]:
    return lambda m, call, response: [e["kind"] for e in m.opinion_row(call)["events"]][-1:] == [kind]


def _opinion_made(m: Matrix, call: Call, response) -> bool:
    return re.search(r"/opinions/\d+$", response.headers.get("Location", "")) is not None


NEW_PASSWORD = "another-horse-battery"


def _peer_pinned(m: Matrix, call: Call, response) -> bool:
    return m.peer_name(m.last_peer) == f"矩阵镇{m.peers_made}"


def _peer_named(m: Matrix, call: Call, response) -> bool:
    return m.peer_name("620302001") == m.last_peer_name


def _peer_removed(m: Matrix, call: Call, response) -> bool:
    return m.peer_name(m.last_peer) is None


def _retried(m: Matrix, call: Call, response) -> bool:
    return m.outbox_status(m.last_dead) == "pending"


def _user_is(role: str, active: bool) -> Callable[[Matrix, Call, Any], bool]:
    return lambda m, call, response: m.user_row(m.last_user)[:2] == (role, active)


def _password_set(m: Matrix, call: Call, response) -> bool:
    from werkzeug.security import check_password_hash

    return check_password_hash(m.user_row(m.last_user)[2], NEW_PASSWORD)


def _member_added(m: Matrix, call: Call, response) -> bool:
    return m.last_member in m.member_names()


TABLE: dict[tuple[str, str], Entry] = {
    # core pages
    ("GET", "/"): Entry(OPEN, 200, lambda m: Call("/")),
    ("GET", "/healthz"): Entry(OPEN, 200, lambda m: Call("/healthz")),
    # search: any signed-in user, finding what their lists show
    ("GET", "/search"): Entry(PAGE_READ, 200, lambda m: Call("/search?q=%E9%81%93%E8%B7%AF")),
    ("GET", "/api/v1/search"): Entry(API_READ, 200, lambda m: Call("/api/v1/search?q=%E9%81%93%E8%B7%AF")),
    # summaries (a level sees its subtree): the office and admin only
    ("GET", "/summaries"): Entry(PAGE_ROLES, 200, lambda m: Call("/summaries"), allowed=WRITERS),
    ("GET", "/summaries.xlsx"): Entry(PAGE_ROLES, 200, lambda m: Call("/summaries.xlsx"), allowed=WRITERS),
    ("GET", "/api/v1/summaries"): Entry(API_ROLES, 200, lambda m: Call("/api/v1/summaries"), allowed=WRITERS),
    # the workbench's inbox: any signed-in user, their own notifications (and their role's)
    ("GET", "/inbox"): Entry(PAGE_READ, 200, lambda m: Call("/inbox")),
    ("POST", "/inbox/read"): Entry(PAGE_ROLES, 302, lambda m: Call("/inbox/read", form=_csrf_form(m, {"id": "all"})),
                                   lambda m, call, response: response.headers["Location"].endswith("/inbox"),
                                   writes=True, allowed=frozenset(ROLES)),
    ("GET", "/api/v1/me/workbench"): Entry(API_READ, 200, lambda m: Call("/api/v1/me/workbench")),
    ("GET", "/api/v1/me/inbox"): Entry(API_READ, 200, lambda m: Call("/api/v1/me/inbox")),
    ("POST", "/api/v1/me/inbox/read"): Entry(API_ROLES, 200, lambda m: Call("/api/v1/me/inbox/read",
                                                                            json={"all": True}),
                                             lambda m, call, response: response.get_json()["unread"] == 0,
                                             writes=True, allowed=frozenset(ROLES)),
    ("GET", "/login"): Entry(OPEN, 200, lambda m: Call("/login")),
    ("POST", "/login"): Entry(OPEN, 302, lambda m: Call("/login", form=_csrf_form(
        m, {"username": "matrix_signin", "password": PASSWORD})), fresh=True),
    ("POST", "/logout"): Entry(OPEN, 302, lambda m: Call("/logout", form=_csrf_form(m, {})), fresh=True),
    ("GET", "/lang/<code>"): Entry(OPEN, 302, lambda m: Call("/lang/en")),
    ("GET", "/static/<path:filename>"): Entry(OPEN, 404, lambda m: Call("/static/none.css")),  # no such file (vendored scripts are open)
    # the API's description
    ("GET", "/api/v1/openapi.json"): Entry(OPEN, 200, lambda m: Call("/api/v1/openapi.json")),
    ("GET", "/api/v1/docs"): Entry(OPEN, 200, lambda m: Call("/api/v1/docs")),
    # the federation: signed messages, not users; the same answer whoever asks
    ("GET", "/federation/v1/node"): Entry(OPEN, 200, lambda m: Call("/federation/v1/node")),
    # A parent's signed receipt of a child's audit anchor: public, like the descriptor (none kept here: 404).
    ("GET", "/federation/v1/anchors/<child>"): Entry(OPEN, 404, lambda m: Call("/federation/v1/anchors/620302001")),
    ("POST", "/federation/v1/inbox"): Entry(OPEN, 400, lambda m: Call("/federation/v1/inbox", data=b"{}",
                                                                      content_type="application/json")),
    # topic pages
    ("GET", "/topics"): Entry(PAGE_READ, 200, lambda m: Call("/topics")),
    # raising a topic: the office naming who raised it, a member or the public as themselves
    ("POST", "/topics"): Entry(PAGE_ROLES, 303, lambda m: Call("/topics", form=_csrf_form(
        m, {**TOPIC, "areas": "620302001"})), _raised, writes=True, allowed=RAISERS),
    ("GET", "/topics/mine"): Entry(PAGE_READ, 200, lambda m: Call("/topics/mine")),
    ("GET", "/topics/<uid>"): Entry(PAGE_TOPIC, 200, lambda m: Call(f"/topics/{m.uid}")),
    ("POST", "/topics/<uid>/act"): Entry(PAGE_WRITE, 303, lambda m: Call(f"/topics/{m.fresh_topic()}/act", form=_csrf_form(
        m, {"action": "advance", "to_stage": "determined"})), _advanced, writes=True),
    ("POST", "/topics/<uid>/attach"): Entry(PAGE_WRITE, 303, lambda m: Call(
        f"/topics/{m.fresh_topic()}/attach", form=_csrf_form(m, {"file": (io.BytesIO(FILE), "信.txt")})), _attached, writes=True),
    ("GET", "/topics/<uid>/attachments/<sha256>"): Entry(PAGE_TOPIC, 200, lambda m: Call(
        f"/topics/{m.uid}/attachments/{m.sha256}")),
    # the topics API
    ("GET", "/api/v1/topics"): Entry(API_READ, 200, lambda m: Call("/api/v1/topics")),
    ("POST", "/api/v1/topics"): Entry(API_ROLES, 201, lambda m: Call("/api/v1/topics", json=TOPIC),
                                      lambda m, call, response: response.get_json()["topic"]["stage"] == "collected",
                                      writes=True, allowed=RAISERS),
    ("GET", "/api/v1/topics/mine"): Entry(API_READ, 200, lambda m: Call("/api/v1/topics/mine")),
    ("GET", "/api/v1/topics/<uid>"): Entry(API_TOPIC, 200, lambda m: Call(f"/api/v1/topics/{m.uid}")),
    ("POST", "/api/v1/topics/<uid>/actions"): Entry(API_WRITE, 200, lambda m: Call(
        f"/api/v1/topics/{m.fresh_topic()}/actions", json={"action": "advance", "to_stage": "determined"}),
        _advanced, writes=True),
    ("POST", "/api/v1/topics/<uid>/attachments"): Entry(API_WRITE, 201, lambda m: Call(
        f"/api/v1/topics/{m.fresh_topic()}/attachments?name=letter.txt", data=FILE,
        content_type="application/octet-stream"), _attached, writes=True),
    ("GET", "/api/v1/topics/<uid>/attachments/<sha256>"): Entry(API_TOPIC, 200, lambda m: Call(
        f"/api/v1/topics/{m.uid}/attachments/{m.sha256}")),
    # implementation of a topic's result (办理实施): the office assigns, instructs and reviews; a unit reports
    ("GET", "/topics/assignments"): Entry(PAGE_READ, 200, lambda m: Call("/topics/assignments")),
    ("POST", "/topics/<uid>/implementation/assign"): Entry(PAGE_WRITE, 303, lambda m: Call(
        f"/topics/{m.implementing_topic()}/implementation/assign", form=_csrf_form(
            m, {"unit": MATRIX_UNIT, "role": "lead", "deadline": "10"})), _impl_has(assignments=1), writes=True),
    ("POST", "/topics/<uid>/implementation/instruct"): Entry(PAGE_WRITE, 303, lambda m: Call(
        f"/topics/{m.implementing_topic()}/implementation/instruct", form=_csrf_form(
            m, {"leader": "张区长", "body": "请抓紧办理"})), _impl_has(instructions=1), writes=True),
    ("POST", "/topics/<uid>/implementation/report"): Entry(PAGE_UNIT, 303, lambda m: Call(
        f"/topics/{m.assigned_topic()}/implementation/report", form=_csrf_form(
            m, {"kind": "progress", "body": "已开工"})), _impl_has(reports=1), writes=True),
    ("POST", "/topics/<uid>/implementation/reports/<int:report_id>/review"): Entry(PAGE_WRITE, 303, lambda m: Call(
        "/topics/{}/implementation/reports/{}/review".format(*m.pending_report()), form=_csrf_form(
            m, {"decision": "accept"})), _impl_has(reviewed=1), writes=True),
    ("GET", "/api/v1/topics/assignments"): Entry(API_READ, 200, lambda m: Call("/api/v1/topics/assignments")),
    ("GET", "/api/v1/topics/<uid>/implementation"): Entry(API_TOPIC, 200, lambda m: Call(
        f"/api/v1/topics/{m.uid}/implementation")),
    ("POST", "/api/v1/topics/<uid>/implementation/assignments"): Entry(API_WRITE, 201, lambda m: Call(
        f"/api/v1/topics/{m.implementing_topic()}/implementation/assignments", json={"assignments": [
            {"unit": MATRIX_UNIT, "role": "lead", "working_days": 10}]}), _impl_has(assignments=1), writes=True),
    ("POST", "/api/v1/topics/<uid>/implementation/instructions"): Entry(API_WRITE, 201, lambda m: Call(
        f"/api/v1/topics/{m.implementing_topic()}/implementation/instructions",
        json={"leader": "张区长", "body": "请抓紧办理"}), _impl_has(instructions=1), writes=True),
    ("POST", "/api/v1/topics/<uid>/implementation/reports"): Entry(API_UNIT, 201, lambda m: Call(
        f"/api/v1/topics/{m.assigned_topic()}/implementation/reports", json={"kind": "progress", "body": "已开工"}),
        _impl_has(reports=1), writes=True),
    ("POST", "/api/v1/topics/<uid>/implementation/reports/<int:report_id>/review"): Entry(API_WRITE, 200, lambda m: Call(
        "/api/v1/topics/{}/implementation/reports/{}/review".format(*m.pending_report()), json={"decision": "accept"}),
        _impl_has(reviewed=1), writes=True),
    # plan pages
    ("GET", "/plans"): Entry(PAGE_READ, 200, lambda m: Call("/plans")),
    ("POST", "/plans"): Entry(PAGE_WRITE, 303, lambda m: Call("/plans", form=_csrf_form(
        m, {"year": str(m.new_year())})), _plan_made, writes=True),
    ("GET", "/plans/<int:year>"): Entry(PAGE_READ, 200, lambda m: Call(f"/plans/{m.plan_year}")),
    ("POST", "/plans/<int:year>/items"): Entry(PAGE_WRITE, 303, lambda m: Call(
        f"/plans/{m.fresh_plan('empty')[0]}/items", form=_csrf_form(m, PLAN_ITEM_FORM)), _plan_has(items=1), writes=True),
    ("POST", "/plans/<int:year>/items/<int:item_id>/remove"): Entry(PAGE_WRITE, 303, lambda m: Call(
        "/plans/{}/items/{}/remove".format(*m.fresh_plan("draft")), form=_csrf_form(m, {})), _plan_has(items=0),
        writes=True),
    ("POST", "/plans/<int:year>/steps"): Entry(PAGE_WRITE, 303, lambda m: Call(
        f"/plans/{m.fresh_plan('draft')[0]}/steps", form=_csrf_form(m, PLAN_STEP)), _plan_has("in_approval", steps=1),
        writes=True),
    ("POST", "/plans/<int:year>/publish"): Entry(PAGE_WRITE, 303, lambda m: Call(
        f"/plans/{m.fresh_plan('approved')[0]}/publish", form=_csrf_form(m, {})), _plan_has("published"), writes=True),
    ("POST", "/plans/<int:year>/amendments"): Entry(PAGE_WRITE, 303, lambda m: Call(
        "/plans/{}/amendments".format(m.fresh_plan("published")[0]), form=_csrf_form(
            m, {**PLAN_MOVE, "planned_month": "9", "item_id": str(m.last_item)})), _plan_has(amendments=1), writes=True),
    # topic statistics (charts, .xlsx): read by any signed-in user; the download is the page with ?format=xlsx
    ("GET", "/topics/statistics"): Entry(PAGE_READ, 200, lambda m: Call("/topics/statistics?format=xlsx")),
    ("GET", "/api/v1/topics/statistics"): Entry(API_READ, 200, lambda m: Call("/api/v1/topics/statistics")),
    # the plans API
    ("GET", "/api/v1/plans"): Entry(API_READ, 200, lambda m: Call("/api/v1/plans")),
    ("POST", "/api/v1/plans"): Entry(API_WRITE, 201, lambda m: Call("/api/v1/plans", json={"year": m.new_year()}),
                                     lambda m, call, response: response.get_json()["status"] == "draft", writes=True),
    ("GET", "/api/v1/plans/forms"): Entry(API_READ, 200, lambda m: Call("/api/v1/plans/forms")),
    ("GET", "/api/v1/plans/<int:year>"): Entry(API_READ, 200, lambda m: Call(f"/api/v1/plans/{m.plan_year}")),
    ("POST", "/api/v1/plans/<int:year>/items"): Entry(API_WRITE, 201, lambda m: Call(
        f"/api/v1/plans/{m.fresh_plan('empty')[0]}/items", json=PLAN_ITEM), _plan_has(items=1), writes=True),
    ("DELETE", "/api/v1/plans/<int:year>/items/<int:item_id>"): Entry(API_WRITE, 200, lambda m: Call(
        "/api/v1/plans/{}/items/{}".format(*m.fresh_plan("draft")), json={}), _plan_has(items=0), writes=True),
    ("POST", "/api/v1/plans/<int:year>/steps"): Entry(API_WRITE, 201, lambda m: Call(
        f"/api/v1/plans/{m.fresh_plan('draft')[0]}/steps", json=PLAN_STEP), _plan_has("in_approval", steps=1),
        writes=True),
    ("POST", "/api/v1/plans/<int:year>/publish"): Entry(API_WRITE, 200, lambda m: Call(
        f"/api/v1/plans/{m.fresh_plan('approved')[0]}/publish", json={}), _plan_has("published"), writes=True),
    ("POST", "/api/v1/plans/<int:year>/amendments"): Entry(API_WRITE, 201, lambda m: Call(
        "/api/v1/plans/{}/amendments".format(m.fresh_plan("published")[0]), json={**PLAN_MOVE, "item_id": m.last_item}),
        _plan_has(amendments=1), writes=True),
    # activity pages
    ("GET", "/activities"): Entry(PAGE_READ, 200, lambda m: Call("/activities")),
    ("POST", "/activities"): Entry(PAGE_WRITE, 303, lambda m: Call("/activities", form=_csrf_form(
        m, {**ACTIVITY, "topics": m.determined_topic()})), _planned, writes=True),
    ("GET", "/activities/<uid>"): Entry(PAGE_READ, 200, lambda m: Call(f"/activities/{m.activity}")),
    ("POST", "/activities/<uid>/act"): Entry(PAGE_WRITE, 303, lambda m: Call(
        f"/activities/{m.fresh_activity()}/act", form=_csrf_form(m, {"action": "invite", "kind": "department",
                                                                     "name": "交通局"})), _invited, writes=True),
    ("POST", "/activities/<uid>/materials"): Entry(PAGE_WRITE, 303, lambda m: Call(
        f"/activities/{m.fresh_activity()}/materials", form=_csrf_form(m, {"file": (io.BytesIO(FILE), "议程.txt")})),
        _material_added, writes=True),
    ("POST", "/activities/<uid>/opinions"): Entry(PAGE_ONLINE, 303, lambda m: Call(
        f"/activities/{m.fresh_activity(window=True)}/opinions", form=_csrf_form(m, {"text": "先修东段"})),
        _opinion_posted, writes=True),
    ("GET", "/activities/<uid>/materials/<sha256>"): Entry(PAGE_READ, 200, lambda m: Call(
        f"/activities/{m.activity}/materials/{m.sha256}")),
    # a lower level's activities this node joins (the matrix node's child 620302001 is paired)
    ("GET", "/activities/remote"): Entry(PAGE_READ, 200, lambda m: Call("/activities/remote")),
    ("POST", "/activities/remote"): Entry(PAGE_WRITE, 303, lambda m: Call("/activities/remote", form=_csrf_form(
        m, {"action": "join", "mode": "ask", "uid": REMOTE, "departments": "区交通运输局"})), _sent, writes=True),
    # the activities API
    ("GET", "/api/v1/activities"): Entry(API_READ, 200, lambda m: Call("/api/v1/activities")),
    ("GET", "/api/v1/activities.ics"): Entry(API_READ, 200, lambda m: Call("/api/v1/activities.ics")),
    ("POST", "/api/v1/activities"): Entry(API_WRITE, 201, lambda m: Call("/api/v1/activities", json={
        **ACTIVITY, "topics": [m.determined_topic()]}),
        lambda m, call, response: response.get_json()["activity"]["status"] == "planned", writes=True),
    ("GET", "/api/v1/activities/<uid>"): Entry(API_READ, 200, lambda m: Call(f"/api/v1/activities/{m.activity}")),
    ("POST", "/api/v1/activities/<uid>/actions"): Entry(API_WRITE, 200, lambda m: Call(
        f"/api/v1/activities/{m.fresh_activity()}/actions", json={"action": "invite", "kind": "department",
                                                                  "name": "交通局"}), _invited, writes=True),
    ("POST", "/api/v1/activities/<uid>/opinions"): Entry(API_ONLINE, 201, lambda m: Call(
        f"/api/v1/activities/{m.fresh_activity(window=True)}/opinions", json={"text": "先修东段"}),
        _opinion_posted, writes=True),
    ("POST", "/api/v1/activities/<uid>/materials"): Entry(API_WRITE, 201, lambda m: Call(
        f"/api/v1/activities/{m.fresh_activity()}/materials?name=agenda.txt", data=FILE,
        content_type="application/octet-stream"), _material_added, writes=True),
    ("GET", "/api/v1/activities/<uid>/materials/<sha256>"): Entry(API_READ, 200, lambda m: Call(
        f"/api/v1/activities/{m.activity}/materials/{m.sha256}")),
    ("GET", "/api/v1/activities/remote"): Entry(API_READ, 200, lambda m: Call("/api/v1/activities/remote")),
    ("GET", "/api/v1/activities/remote/<uid>"): Entry(API_READ, 200, lambda m: Call(
        f"/api/v1/activities/remote/{REMOTE}")),
    ("POST", "/api/v1/activities/remote/<uid>/actions"): Entry(API_WRITE, 200, lambda m: Call(
        f"/api/v1/activities/remote/{REMOTE}/actions", json={"action": "join", "mode": "ask",
                                                             "participants": [{"name": "区交通运输局"}]}),
        _sent, writes=True),
    # proposals (提案): the matrix member is linked to member M001, the handling-unit user is 交通局's contact;
    # m.proposal is theirs, assigned to 交通局 and published, so every role may read it
    ("GET", "/proposals"): Entry(PAGE_READ, 200, lambda m: Call("/proposals")),
    ("POST", "/proposals"): Entry(PAGE_ROLES, 303, lambda m: Call("/proposals", form=_csrf_form(
        m, {**PROPOSAL_FORM, "proposer": "M002"})), _proposal_made, writes=True, allowed=SUBMIT),
    ("GET", "/proposals/new"): Entry(PAGE_ROLES, 200, lambda m: Call("/proposals/new"), allowed=SUBMIT),
    ("GET", "/proposals/mine"): Entry(PAGE_READ, 200, lambda m: Call("/proposals/mine")),
    ("GET", "/proposals/assigned"): Entry(PAGE_READ, 200, lambda m: Call("/proposals/assigned")),
    ("GET", "/proposals/public"): Entry(OPEN, 200, lambda m: Call("/proposals/public")),
    ("GET", "/proposals/<ref>"): Entry(PAGE_READ, 200, lambda m: Call(f"/proposals/{m.proposal}")),
    ("POST", "/proposals/<ref>/office"): Entry(PAGE_WRITE, 303, lambda m: Call(
        f"/proposals/{m.fresh_proposal('submitted')}/office", form=_csrf_form(m, {"action": "review",
                                                                               "decision": "filed"})),
        _proposal_is("filed"), writes=True),
    ("POST", "/proposals/<ref>/proposer"): Entry(PAGE_ROLES, 303, lambda m: Call(
        f"/proposals/{m.fresh_proposal('replied')}/proposer", form=_csrf_form(m, {"action": "rate", **RATING})),
        _proposal_is("rated"), writes=True, allowed=frozenset({"member"})),
    ("POST", "/proposals/<ref>/unit"): Entry(PAGE_ROLES, 303, lambda m: Call(
        f"/proposals/{m.fresh_proposal('assigned')}/unit", form=_csrf_form(m, {"action": "reply", **REPLY})),
        _proposal_is("replied"), writes=True, allowed=UNIT),
    # proposal statistics (charts, .xlsx): read by any signed-in user (a handling unit's user: its own unit's row
    # only); the download is the page with ?format=xlsx
    ("GET", "/proposals/statistics"): Entry(PAGE_READ, 200, lambda m: Call("/proposals/statistics?format=xlsx")),
    ("GET", "/api/v1/proposals/statistics"): Entry(API_READ, 200, lambda m: Call("/api/v1/proposals/statistics")),
    # the proposals API
    ("GET", "/api/v1/proposals"): Entry(API_READ, 200, lambda m: Call("/api/v1/proposals")),
    ("POST", "/api/v1/proposals"): Entry(API_ROLES, 201, lambda m: Call("/api/v1/proposals", json={
        **PROPOSAL, "body_kind": "party_group", "body_name": "民革支部"}),
        lambda m, call, response: response.get_json()["proposal"]["kind"] == "body", writes=True, allowed=WRITERS),
    ("GET", "/api/v1/proposals/public"): Entry(API_READ, 200, lambda m: Call("/api/v1/proposals/public")),
    ("GET", "/api/v1/proposals/standards"): Entry(API_READ, 200, lambda m: Call("/api/v1/proposals/standards")),
    ("GET", "/api/v1/proposals/<ref>"): Entry(API_READ, 200, lambda m: Call(f"/api/v1/proposals/{m.proposal}")),
    ("POST", "/api/v1/proposals/<ref>/signers/confirm"): Entry(API_ROLES, 200, lambda m: Call(
        f"/api/v1/proposals/{m.fresh_proposal('signing')}/signers/confirm", json={}), _proposal_is("submitted"),
        writes=True, allowed=frozenset({"member"})),
    ("POST", "/api/v1/proposals/<ref>/revision"): Entry(API_ROLES, 200, lambda m: Call(
        f"/api/v1/proposals/{m.fresh_proposal('returned')}/revision", json={"suggestions": "设立专项资金"}),
        _proposal_is("submitted"), writes=True, allowed=frozenset({"member"})),
    ("POST", "/api/v1/proposals/<ref>/review"): Entry(API_WRITE, 200, lambda m: Call(
        f"/api/v1/proposals/{m.fresh_proposal('submitted')}/review", json={"decision": "filed"}),
        _proposal_is("filed"), writes=True),
    ("POST", "/api/v1/proposals/<ref>/flags"): Entry(API_WRITE, 200, lambda m: Call(
        f"/api/v1/proposals/{m.fresh_proposal('filed')}/flags", json={"key": True}),
        lambda m, call, response: m.proposal_row(call)["key"], writes=True),
    ("POST", "/api/v1/proposals/<ref>/assignments"): Entry(API_WRITE, 200, lambda m: Call(
        f"/api/v1/proposals/{m.fresh_proposal('filed')}/assignments", json={"lead": MATRIX_UNIT}),
        _proposal_is("assigned"), writes=True),
    ("POST", "/api/v1/proposals/<ref>/reassignment-requests"): Entry(API_ROLES, 201, lambda m: Call(
        f"/api/v1/proposals/{m.fresh_proposal('assigned')}/reassignment-requests", json={"reason": "不属本单位职责"}),
        lambda m, call, response: len(m.proposal_row(call)["reassignments"]) == 1, writes=True, allowed=UNIT),
    ("POST", "/api/v1/proposals/<ref>/reassignment-requests/<int:request_id>/decision"): Entry(API_WRITE, 200,
        lambda m: Call("/api/v1/proposals/{}/reassignment-requests/{}/decision".format(*m.reassignment_asked()),
                       json={"decision": "refused", "note": "仍由本单位办理"}),
        lambda m, call, response: m.proposal_row(call)["reassignments"][0]["decision"] == "refused", writes=True),
    ("POST", "/api/v1/proposals/<ref>/replies"): Entry(API_ROLES, 201, lambda m: Call(
        f"/api/v1/proposals/{m.fresh_proposal('assigned')}/replies", json=REPLY), _proposal_is("replied"),
        writes=True, allowed=UNIT),
    ("POST", "/api/v1/proposals/<ref>/contacts"): Entry(API_ROLES, 201, lambda m: Call(
        f"/api/v1/proposals/{m.fresh_proposal('assigned')}/contacts", json={"phase": "before", "kind": "call"}),
        lambda m, call, response: len(m.proposal_row(call)["contacts"]) == 1, writes=True, allowed=WRITERS | UNIT),
    ("POST", "/api/v1/proposals/<ref>/ratings"): Entry(API_ROLES, 201, lambda m: Call(
        f"/api/v1/proposals/{m.fresh_proposal('replied')}/ratings", json=RATING), _proposal_is("rated"),
        writes=True, allowed=frozenset({"member"})),
    ("POST", "/api/v1/proposals/<ref>/supervision"): Entry(API_WRITE, 201, lambda m: Call(
        f"/api/v1/proposals/{m.fresh_proposal('key')}/supervision", json={"chair": "主席", "note": "请加快办理"}),
        lambda m, call, response: len(m.proposal_row(call)["supervisions"]) == 1, writes=True),
    ("POST", "/api/v1/proposals/<ref>/publication"): Entry(API_WRITE, 200, lambda m: Call(
        f"/api/v1/proposals/{m.fresh_proposal('filed')}/publication", json={"proposal": True}),
        lambda m, call, response: m.proposal_row(call)["publication"]["proposal"], writes=True),
    ("POST", "/api/v1/proposals/<ref>/close"): Entry(API_WRITE, 200, lambda m: Call(
        f"/api/v1/proposals/{m.fresh_proposal('rated')}/close", json={}), _proposal_is("closed"), writes=True),
    # proposals across levels: the proposer's consent, forwarding to the paired parent (never delivered), a
    # proposal made from a closed topic's result
    ("POST", "/proposals/<ref>/consent"): Entry(PAGE_ROLES, 303, lambda m: Call(
        f"/proposals/{m.fresh_proposal('submitted')}/consent", form=_csrf_form(m, {"action": "consent",
                                                                                "note": "书面同意书已存档"})),
        lambda m, call, response: m.proposal_row(call)["consent"] is not None, writes=True, allowed=SUBMIT),
    ("POST", "/proposals/<ref>/forward"): Entry(PAGE_WRITE, 303, lambda m: Call(
        f"/proposals/{m.fresh_proposal('consented')}/forward", form=_csrf_form(m, {"action": "forward"})),
        _proposal_is("forwarded"), writes=True),
    ("POST", "/proposals/from-topic"): Entry(PAGE_WRITE, 303, lambda m: Call("/proposals/from-topic", form=_csrf_form(
        m, {"topic": m.closed_topic(), "term": "12", "session": "1", "body_kind": "special_committee",
            "body_name": "提案委员会"})), _proposal_made, writes=True),
    ("POST", "/api/v1/proposals/<ref>/consent"): Entry(API_ROLES, 200, lambda m: Call(
        f"/api/v1/proposals/{m.fresh_proposal('submitted')}/consent", json={"note": "书面同意书已存档"}),
        lambda m, call, response: m.proposal_row(call)["consent"] is not None, writes=True, allowed=SUBMIT),
    ("POST", "/api/v1/proposals/<ref>/forward"): Entry(API_WRITE, 200, lambda m: Call(
        f"/api/v1/proposals/{m.fresh_proposal('consented')}/forward", json={"note": "请市政协审查"}),
        _proposal_is("forwarded"), writes=True),
    ("POST", "/api/v1/proposals/from-topic"): Entry(API_WRITE, 201, lambda m: Call(
        "/api/v1/proposals/from-topic", json={"topic": m.closed_topic(), "term": 12, "session": 1, "body_kind": "special_committee",
        "body_name": "提案委员会"}), _proposal_made, writes=True),
    # social-opinion reports (社情民意信息): every signed-in user reads; a member writes their own (the matrix member
    # is M001), the office writes a body's or a member's and edits, decides and compiles
    ("GET", "/opinions"): Entry(PAGE_READ, 200, lambda m: Call("/opinions")),
    ("POST", "/opinions"): Entry(PAGE_ROLES, 303, lambda m: Call("/opinions", form=_csrf_form(
        m, {**OPINION_FORM, "member_no": "M002"})), _opinion_made, writes=True, allowed=SUBMIT),
    ("GET", "/opinions/new"): Entry(PAGE_ROLES, 200, lambda m: Call("/opinions/new"), allowed=SUBMIT),
    ("GET", "/opinions/issues"): Entry(PAGE_READ, 200, lambda m: Call("/opinions/issues")),
    ("POST", "/opinions/issues"): Entry(PAGE_WRITE, 303, lambda m: Call("/opinions/issues", form=_csrf_form(
        m, {"year": "2026", "number": str(m.next_issue()), "opinions": m.fresh_opinion()})),
        lambda m, call, response: m.issue_rows() == m.issue_number, writes=True),
    ("GET", "/opinions/statistics"): Entry(PAGE_READ, 200, lambda m: Call("/opinions/statistics?format=xlsx")),
    ("GET", "/opinions/<ref>"): Entry(PAGE_READ, 200, lambda m: Call(f"/opinions/{m.opinion}")),
    ("POST", "/opinions/<ref>/edit"): Entry(PAGE_WRITE, 303, lambda m: Call(
        f"/opinions/{m.fresh_opinion()}/edit", form=_csrf_form(m, {"category": "医疗卫生"})),
        _opinion_events("edited"), writes=True),
    ("POST", "/opinions/<ref>/decide"): Entry(PAGE_WRITE, 303, lambda m: Call(
        f"/opinions/{m.fresh_opinion()}/decide", form=_csrf_form(m, {"decision": "used"})),
        _opinion_events("used"), writes=True),
    ("GET", "/api/v1/opinions"): Entry(API_READ, 200, lambda m: Call("/api/v1/opinions")),
    ("POST", "/api/v1/opinions"): Entry(API_ROLES, 201, lambda m: Call("/api/v1/opinions", json={
        **OPINION, "author_kind": "sector", "author_name": "农业界"}),
        lambda m, call, response: response.get_json()["opinion"]["author"]["kind"] == "sector", writes=True,
        allowed=WRITERS),
    ("GET", "/api/v1/opinions/statistics"): Entry(API_READ, 200, lambda m: Call("/api/v1/opinions/statistics")),
    ("GET", "/api/v1/opinions/issues"): Entry(API_READ, 200, lambda m: Call("/api/v1/opinions/issues")),
    ("POST", "/api/v1/opinions/issues"): Entry(API_WRITE, 201, lambda m: Call("/api/v1/opinions/issues", json={
        "year": 2026, "number": m.next_issue(), "opinions": [int(m.fresh_opinion())]}),
        lambda m, call, response: m.issue_rows() == m.issue_number, writes=True),
    ("POST", "/api/v1/opinions/from-proposal"): Entry(API_WRITE, 201, lambda m: Call(
        "/api/v1/opinions/from-proposal", json={"proposal": m.not_filed_proposal()}),
        lambda m, call, response: response.get_json()["opinion"]["author"]["member_no"] == "M001", writes=True),
    ("GET", "/api/v1/opinions/<ref>"): Entry(API_READ, 200, lambda m: Call(f"/api/v1/opinions/{m.opinion}")),
    ("PATCH", "/api/v1/opinions/<ref>"): Entry(API_WRITE, 200, lambda m: Call(
        f"/api/v1/opinions/{m.fresh_opinion()}", json={"category": "医疗卫生"}), _opinion_events("edited"),
        writes=True),
    ("POST", "/api/v1/opinions/<ref>/decisions"): Entry(API_WRITE, 201, lambda m: Call(
        f"/api/v1/opinions/{m.fresh_opinion()}/decisions", json={"decision": "forwarded"}),
        lambda m, call, response: m.opinion_row(call)["forwarded_to"] == "6203", writes=True),
    # plugins (/admin/plugins, /api/v1/plugins): the administrator's only; each change is written to node.toml,
    # which the running matrix app does not read again (four_ones is not among PLUGINS)
    ("GET", "/admin/plugins"): Entry(PAGE_ROLES, 200, lambda m: Call("/admin/plugins"), allowed=ADMIN),
    ("POST", "/admin/plugins/<name>/enable"): Entry(PAGE_ROLES, 303, lambda m: Call(
        f"/admin/plugins/{m.plugin_set('four_ones', False)}/enable", form=_csrf_form(m, {})),
        _plugin_is(True), writes=True, allowed=ADMIN),
    ("POST", "/admin/plugins/<name>/disable"): Entry(PAGE_ROLES, 303, lambda m: Call(
        f"/admin/plugins/{m.plugin_set('four_ones', True)}/disable", form=_csrf_form(m, {})),
        _plugin_is(False), writes=True, allowed=ADMIN),
    ("POST", "/admin/plugins/<name>/settings"): Entry(PAGE_ROLES, 303, lambda m: Call(
        "/admin/plugins/four_ones/settings", form=_csrf_form(m, {"setting-per_year": str(m.new_per_year())})),
        _per_year_set, writes=True, allowed=ADMIN),
    ("GET", "/api/v1/plugins"): Entry(API_ROLES, 200, lambda m: Call("/api/v1/plugins"), allowed=ADMIN),
    ("POST", "/api/v1/plugins/<name>/enable"): Entry(API_ROLES, 200, lambda m: Call(
        f"/api/v1/plugins/{m.plugin_set('four_ones', False)}/enable", json={}), _plugin_is(True), writes=True,
        allowed=ADMIN),
    ("POST", "/api/v1/plugins/<name>/disable"): Entry(API_ROLES, 200, lambda m: Call(
        f"/api/v1/plugins/{m.plugin_set('four_ones', True)}/disable", json={}), _plugin_is(False), writes=True,
        allowed=ADMIN),
    ("PUT", "/api/v1/plugins/<name>/settings"): Entry(API_ROLES, 200, lambda m: Call(
        "/api/v1/plugins/four_ones/settings", json={"settings": {"per_year": m.new_per_year()}}), _per_year_set,
        writes=True, allowed=ADMIN),
    # plugin pages: public pages of local practice (who leads a consultation home, who runs the station)
    ("GET", "/practices/consultation-homes/"): Entry(OPEN, 200, lambda m: Call("/practices/consultation-homes/")),
    ("GET", "/practices/work-station/"): Entry(OPEN, 200, lambda m: Call("/practices/work-station/")),
    # 三个一起: the year's counts from the plan and activities, for the node's users
    ("GET", "/practices/three-together/"): Entry(PAGE_READ, 200, lambda m: Call("/practices/three-together/")),
    # 领导包抓: the leaders and what they follow, for the node's users
    ("GET", "/practices/leader-follow-up/"): Entry(PAGE_READ, 200, lambda m: Call("/practices/leader-follow-up/")),
    # 五级联动: the county's to-coordinate list (topics from villages through their townships), for the office
    ("GET", "/practices/five-level/"): Entry(PAGE_ROLES, 200, lambda m: Call("/practices/five-level/"),
                                             allowed=frozenset(WRITERS)),
    # handling units (承办单位): pages
    ("GET", "/units"): Entry(PAGE_UNIT_READ, 200, lambda m: Call("/units")),
    ("POST", "/units"): Entry(PAGE_WRITE, 303, lambda m: Call("/units", form=_csrf_form(
        m, {"name": m.new_unit(), "kind": "party"})), _unit_named, writes=True),
    ("POST", "/units/import"): Entry(PAGE_WRITE, 303, lambda m: Call("/units/import", form=_csrf_form(
        m, {"csv": f"name,kind\n{m.new_unit()},other\n"})), _unit_named, writes=True),
    ("GET", "/units/<ref>"): Entry(PAGE_UNIT_READ, 200, lambda m: Call(f"/units/{MATRIX_UNIT}")),
    ("POST", "/units/<ref>"): Entry(PAGE_WRITE, 303, lambda m: Call(f"/units/{MATRIX_UNIT}", form=_csrf_form(
        m, {"name": MATRIX_UNIT, "kind": "government", "phone": m.new_phone(), "contacts": "matrix_handling_unit",
            "active": "on"})), _unit_phone, writes=True),
    # handling units: the API
    ("GET", "/api/v1/units"): Entry(API_UNIT_READ, 200, lambda m: Call("/api/v1/units")),
    ("POST", "/api/v1/units"): Entry(API_WRITE, 201, lambda m: Call("/api/v1/units", json={
        "name": m.new_unit(), "kind": "government"}), _unit_named, writes=True),
    ("POST", "/api/v1/units/import"): Entry(API_WRITE, 201, lambda m: Call(
        "/api/v1/units/import", data=f"name,kind\n{m.new_unit()},party\n".encode(), content_type="text/csv"),
        _unit_named, writes=True),
    ("GET", "/api/v1/units/<ref>"): Entry(API_UNIT_READ, 200, lambda m: Call(f"/api/v1/units/{MATRIX_UNIT}")),
    ("PATCH", "/api/v1/units/<ref>"): Entry(API_WRITE, 200, lambda m: Call(f"/api/v1/units/{MATRIX_UNIT}", json={
        "phone": m.new_phone()}), _unit_phone, writes=True),
    # 321 proposal method (baotou_321): the open proposals with what each lacks, and one proposal's items, for the
    # node's users (each sees the proposals they may see; m.proposal is published, so every role sees it)
    ("GET", "/practices/baotou-321/"): Entry(PAGE_READ, 200, lambda m: Call("/practices/baotou-321/")),
    ("GET", "/practices/baotou-321/<ref>"): Entry(PAGE_READ, 200,
                                                  lambda m: Call(f"/practices/baotou-321/{m.proposal}")),
    # duty records (委员履职档案): the office's assessment table and items by hand; a member reads their own record
    # (the matrix member is M001); a report to a higher committee goes to the paired parent (never delivered)
    ("GET", "/duty"): Entry(PAGE_ROLES, 200, lambda m: Call("/duty"), allowed=SUBMIT),  # a member: their own record
    ("POST", "/duty/items"): Entry(PAGE_WRITE, 303, lambda m: Call("/duty/items", form=_csrf_form(m, DUTY_ITEM)),
                                   _duty_added, writes=True),
    ("POST", "/duty/reports"): Entry(PAGE_WRITE, 303, lambda m: Call("/duty/reports", form=_csrf_form(m, {
        "target": "6203", "member_no": "S001", "name": "赵敏", "kind": "research", "title": "乡村调研",
        "date": "2026-05-01"})), _sent, writes=True),
    ("GET", "/duty/items/<int:item_id>/evidence"): Entry(PAGE_WRITE, 200, lambda m: Call(
        f"/duty/items/{m.duty_item()}/evidence")),
    ("GET", "/duty/members/<ref>"): Entry(PAGE_ROLES, 200, lambda m: Call("/duty/members/M001?format=docx"),
                                          allowed=SUBMIT),
    ("GET", "/api/v1/duty"): Entry(API_ROLES, 200, lambda m: Call("/api/v1/duty"), allowed=frozenset(WRITERS)),
    ("POST", "/api/v1/duty/items"): Entry(API_WRITE, 201, lambda m: Call("/api/v1/duty/items", json=DUTY_ITEM),
                                          _duty_added, writes=True),
    ("POST", "/api/v1/duty/reports"): Entry(API_WRITE, 201, lambda m: Call("/api/v1/duty/reports", json=DUTY_REPORT),
                                            _sent, writes=True),
    ("POST", "/api/v1/duty/reminders"): Entry(API_WRITE, 200, lambda m: Call("/api/v1/duty/reminders", json={})),
    ("GET", "/api/v1/members/<ref>/duty"): Entry(API_ROLES, 200, lambda m: Call("/api/v1/members/M001/duty"),
                                                 allowed=SUBMIT),
    # democratic appraisal (民主评议): any user reads (a handling unit its own rectifications only); the office runs
    # it; a handling unit's contact user reports on its unit's rectification (the matrix unit's)
    ("GET", "/appraisal"): Entry(PAGE_READ, 200, lambda m: Call("/appraisal")),
    ("POST", "/appraisal"): Entry(PAGE_WRITE, 303, lambda m: Call("/appraisal", form=_csrf_form(
        m, {"year": str(m.new_year()), "kind": "departments", "title": "民主评议"})), _appraisal_made, writes=True),
    ("GET", "/appraisal/rectifications"): Entry(PAGE_READ, 200, lambda m: Call("/appraisal/rectifications")),
    ("POST", "/appraisal/rectifications/<int:rectification_id>"): Entry(PAGE_UNIT, 303, lambda m: Call(
        f"/appraisal/rectifications/{m.fresh_appraisal('rectifying')[2]}", form=_csrf_form(
            m, {"kind": "progress", "body": "已制定整改方案"})), _rectification_has(reports=1), writes=True),
    ("GET", "/appraisal/<int:appraisal_id>"): Entry(PAGE_READ, 200, lambda m: Call(
        f"/appraisal/{m.an_appraisal()}")),
    ("POST", "/appraisal/<int:appraisal_id>"): Entry(PAGE_WRITE, 303, lambda m: Call(
        f"/appraisal/{m.fresh_appraisal('empty')[0]}", form=_csrf_form(m, {"action": "subject", "unit": MATRIX_UNIT})),
        _appraisal_has(subjects=1), writes=True),
    ("GET", "/api/v1/appraisals"): Entry(API_READ, 200, lambda m: Call("/api/v1/appraisals")),
    ("POST", "/api/v1/appraisals"): Entry(API_WRITE, 201, lambda m: Call("/api/v1/appraisals", json={
        "year": m.new_year(), "kind": "departments", "title": "民主评议"}), _appraisal_made, writes=True),
    ("GET", "/api/v1/appraisals/candidates"): Entry(API_READ, 200, lambda m: Call(
        "/api/v1/appraisals/candidates?year=2027")),
    ("GET", "/api/v1/appraisals/rectifications"): Entry(API_READ, 200, lambda m: Call(
        "/api/v1/appraisals/rectifications")),
    ("GET", "/api/v1/appraisals/rectifications/<int:rectification_id>"): Entry(API_READ, 200, lambda m: Call(
        f"/api/v1/appraisals/rectifications/{m.a_rectification()}")),
    ("POST", "/api/v1/appraisals/rectifications/<int:rectification_id>/reports"): Entry(API_UNIT, 201, lambda m: Call(
        f"/api/v1/appraisals/rectifications/{m.fresh_appraisal('rectifying')[2]}/reports",
        json={"kind": "progress", "body": "已制定整改方案"}), _rectification_has(reports=1), writes=True),
    ("POST", "/api/v1/appraisals/rectifications/<int:rectification_id>/reports/<int:report_id>/review"): Entry(
        API_WRITE, 200, lambda m: Call("/api/v1/appraisals/rectifications/{}/reports/{}/review".format(
            *m.fresh_appraisal("pending")[2:]), json={"decision": "accept"}), _rectification_has(reviewed=1),
        writes=True),
    ("GET", "/api/v1/appraisals/<int:appraisal_id>"): Entry(API_READ, 200, lambda m: Call(
        f"/api/v1/appraisals/{m.an_appraisal()}")),
    ("POST", "/api/v1/appraisals/<int:appraisal_id>/subjects"): Entry(API_WRITE, 201, lambda m: Call(
        f"/api/v1/appraisals/{m.fresh_appraisal('empty')[0]}/subjects", json={"unit": MATRIX_UNIT}),
        _appraisal_has(subjects=1), writes=True),
    ("POST", "/api/v1/appraisals/<int:appraisal_id>/subjects/<int:subject_id>/decision"): Entry(
        API_WRITE, 200, lambda m: Call("/api/v1/appraisals/{}/subjects/{}/decision".format(
            *m.fresh_appraisal("proposed")[:2]), json={"decision": "confirm"}), _appraisal_has(confirmed=1),
        writes=True),
    ("POST", "/api/v1/appraisals/<int:appraisal_id>/groups"): Entry(API_WRITE, 201, lambda m: Call(
        f"/api/v1/appraisals/{m.fresh_appraisal('subject')[0]}/groups", json={"name": "评议组", "leader": "M002"}),
        _appraisal_has(groups=1), writes=True),
    ("POST", "/api/v1/appraisals/<int:appraisal_id>/visits"): Entry(API_WRITE, 201, lambda m: Call(
        "/api/v1/appraisals/{}/visits".format(m.fresh_appraisal("open")[0]), json={
            "group": m.last_group, "subject": m.last_subject, "date": "2026-01-05", "place": "矩阵交通局",
            "findings": "养护资金不足"}), _appraisal_has(visits=1), writes=True),
    ("POST", "/api/v1/appraisals/<int:appraisal_id>/ratings"): Entry(API_WRITE, 201, lambda m: Call(
        "/api/v1/appraisals/{}/ratings".format(m.fresh_appraisal("open")[0]), json={
            "subject": m.last_subject, "member": "M002", "rating": "satisfied"}), _appraisal_has(ratings=1),
        writes=True),
    ("POST", "/api/v1/appraisals/<int:appraisal_id>/report"): Entry(API_WRITE, 200, lambda m: Call(
        f"/api/v1/appraisals/{m.fresh_appraisal('rated')[0]}/report", json={"body": "评议报告",
                                                                             "recipients": ["区委", "区政府"]}),
        _appraisal_has(status="reported"), writes=True),
    ("POST", "/api/v1/appraisals/<int:appraisal_id>/rectifications"): Entry(API_WRITE, 201, lambda m: Call(
        "/api/v1/appraisals/{}/rectifications".format(m.fresh_appraisal("reported")[0]), json={
            "subject": m.last_subject, "requirements": "加强养护", "working_days": 10}),
        _appraisal_has(rectifications=1), writes=True),
    # similar matters (/similar, issue 15): suggestions read and decided by admin and office
    ("GET", "/similar"): Entry(PAGE_ROLES, 200, lambda m: Call("/similar"), allowed=WRITERS),
    ("POST", "/similar/<int:suggestion_id>/decide"): Entry(PAGE_ROLES, 303, lambda m: Call(
        f"/similar/{m.fresh_suggestion()}/decide", form=_csrf_form(m, {"decision": "dismiss"})),
        lambda m, call, r: m.suggestion_state() == "dismissed", writes=True, allowed=WRITERS),
    ("GET", "/api/v1/similar"): Entry(API_ROLES, 200, lambda m: Call("/api/v1/similar"), allowed=WRITERS),
    ("GET", "/api/v1/similar/<int:suggestion_id>"): Entry(API_ROLES, 200, lambda m: Call(
        f"/api/v1/similar/{m.fresh_suggestion()}"), allowed=WRITERS),
    ("POST", "/api/v1/similar/<int:suggestion_id>/merge"): Entry(API_ROLES, 200, lambda m: Call(
        f"/api/v1/similar/{m.fresh_suggestion()}/merge", json={}),
        lambda m, call, r: m.suggestion_state() == "merged", writes=True, allowed=WRITERS),
    ("POST", "/api/v1/similar/<int:suggestion_id>/separate"): Entry(API_ROLES, 200, lambda m: Call(
        f"/api/v1/similar/{m.fresh_suggestion()}/separate", json={}),
        lambda m, call, r: m.suggestion_state() == "separate", writes=True, allowed=WRITERS),
    ("POST", "/api/v1/similar/<int:suggestion_id>/dismiss"): Entry(API_ROLES, 200, lambda m: Call(
        f"/api/v1/similar/{m.fresh_suggestion()}/dismiss", json={}),
        lambda m, call, r: m.suggestion_state() == "dismissed", writes=True, allowed=WRITERS),
    # administration (/admin, issue 16): the index, peers, outbox and audit pages read by admin and office; every
    # change (a neighbour pinned, renamed or removed; a dead letter retried) by the admin only
    ("GET", "/admin"): Entry(PAGE_ROLES, 200, lambda m: Call("/admin"), allowed=WRITERS),
    ("GET", "/admin/peers"): Entry(PAGE_ROLES, 200, lambda m: Call("/admin/peers"), allowed=WRITERS),
    ("POST", "/admin/peers"): Entry(PAGE_ROLES, 303, lambda m: Call("/admin/peers", form=_csrf_form(
        m, {"pairing": m.new_peer_line()})), _peer_pinned, writes=True, allowed=ADMIN),
    ("POST", "/admin/peers/<node_id>/name"): Entry(PAGE_ROLES, 303, lambda m: Call(
        "/admin/peers/620302001/name", form=_csrf_form(m, {"name": m.new_peer_name()})), _peer_named, writes=True,
        allowed=ADMIN),
    ("POST", "/admin/peers/<node_id>/remove"): Entry(PAGE_ROLES, 303, lambda m: Call(
        f"/admin/peers/{m.fresh_peer()}/remove", form=_csrf_form(m, {"confirm": m.last_peer})), _peer_removed,
        writes=True, allowed=ADMIN),
    ("POST", "/admin/peers/<node_id>/delivery"): Entry(PAGE_ROLES, 303, lambda m: Call(
        "/admin/peers/620302001/delivery", form=_csrf_form(m, {"delivery": "http"})), allowed=ADMIN),
    # bundles: an allowed export to a node that is no neighbour and an import with no file are named refusals
    ("GET", "/admin/bundles"): Entry(PAGE_ROLES, 200, lambda m: Call("/admin/bundles"), allowed=WRITERS),
    ("POST", "/admin/bundles/export"): Entry(PAGE_ROLES, 400, lambda m: Call(
        "/admin/bundles/export", form=_csrf_form(m, {"to": "620302009"})), writes=True, allowed=ADMIN),
    ("POST", "/admin/bundles/import"): Entry(PAGE_ROLES, 400, lambda m: Call(
        "/admin/bundles/import", form=_csrf_form(m, {})), writes=True, allowed=ADMIN),
    ("GET", "/metrics"): Entry(OPEN, 200, lambda m: Call("/metrics")),  # from this host: no token needed
    ("GET", "/admin/outbox"): Entry(PAGE_ROLES, 200, lambda m: Call("/admin/outbox?status=dead"), allowed=WRITERS),
    ("GET", "/admin/outbox/<int:outbox_id>"): Entry(PAGE_ROLES, 200, lambda m: Call(
        f"/admin/outbox/{m.fresh_dead()}"), allowed=WRITERS),
    ("POST", "/admin/outbox/<int:outbox_id>/retry"): Entry(PAGE_ROLES, 303, lambda m: Call(
        f"/admin/outbox/{m.fresh_dead()}/retry", form=_csrf_form(m, {})), _retried, writes=True, allowed=ADMIN),
    ("GET", "/admin/audit"): Entry(PAGE_ROLES, 200, lambda m: Call("/admin/audit?action=insert"), allowed=WRITERS),
    ("POST", "/admin/audit/verify"): Entry(PAGE_ROLES, 200, lambda m: Call("/admin/audit/verify", form=_csrf_form(
        m, {})), allowed=WRITERS),
    ("GET", "/api/v1/peers"): Entry(API_ROLES, 200, lambda m: Call("/api/v1/peers"), allowed=WRITERS),
    ("PUT", "/api/v1/peers/<node_id>/delivery"): Entry(API_ROLES, 200, lambda m: Call(
        "/api/v1/peers/620302001/delivery", json={"delivery": "http"}), allowed=ADMIN),
    ("POST", "/api/v1/bundles/export"): Entry(API_ROLES, 400, lambda m: Call(
        "/api/v1/bundles/export", json={"to": "620302009"}), writes=True, allowed=ADMIN),
    ("POST", "/api/v1/bundles/import"): Entry(API_ROLES, 400, lambda m: Call(
        "/api/v1/bundles/import", data=b"{}", content_type="application/json"), writes=True, allowed=ADMIN),
    ("GET", "/api/v1/peers/health"): Entry(API_ROLES, 200, lambda m: Call("/api/v1/peers/health"), allowed=WRITERS),
    ("POST", "/api/v1/peers"): Entry(API_ROLES, 201, lambda m: Call("/api/v1/peers", json={
        "pairing": m.new_peer_line()}), _peer_pinned, writes=True, allowed=ADMIN),
    ("PATCH", "/api/v1/peers/<node_id>"): Entry(API_ROLES, 200, lambda m: Call("/api/v1/peers/620302001", json={
        "name": m.new_peer_name()}), _peer_named, writes=True, allowed=ADMIN),
    ("DELETE", "/api/v1/peers/<node_id>"): Entry(API_ROLES, 200, lambda m: Call(
        f"/api/v1/peers/{m.fresh_peer()}", json={}), _peer_removed, writes=True, allowed=ADMIN),
    ("GET", "/api/v1/outbox"): Entry(API_ROLES, 200, lambda m: Call("/api/v1/outbox?status=dead"), allowed=WRITERS),
    ("GET", "/api/v1/outbox/<int:outbox_id>"): Entry(API_ROLES, 200, lambda m: Call(
        f"/api/v1/outbox/{m.fresh_dead()}"), allowed=WRITERS),
    ("POST", "/api/v1/outbox/<int:outbox_id>/retry"): Entry(API_ROLES, 200, lambda m: Call(
        f"/api/v1/outbox/{m.fresh_dead()}/retry", json={}), _retried, writes=True, allowed=ADMIN),
    ("GET", "/api/v1/audit"): Entry(API_ROLES, 200, lambda m: Call("/api/v1/audit?limit=5"), allowed=WRITERS),
    ("GET", "/api/v1/audit/verify"): Entry(API_ROLES, 200, lambda m: Call("/api/v1/audit/verify"), allowed=WRITERS),
    # users and roles (/admin/users, /api/v1/users): the admin only
    ("GET", "/admin/users"): Entry(PAGE_ROLES, 200, lambda m: Call("/admin/users"), allowed=ADMIN),
    ("POST", "/admin/users"): Entry(PAGE_ROLES, 303, lambda m: Call("/admin/users", form=_csrf_form(m, {
        "username": m.new_username(), "role": "member", "password": PASSWORD})), _user_is("member", True),
        writes=True, allowed=ADMIN),
    ("POST", "/admin/users/<username>/role"): Entry(PAGE_ROLES, 303, lambda m: Call(
        f"/admin/users/{m.fresh_user()}/role", form=_csrf_form(m, {"role": "office"})), _user_is("office", True),
        writes=True, allowed=ADMIN),
    ("POST", "/admin/users/<username>/active"): Entry(PAGE_ROLES, 303, lambda m: Call(
        f"/admin/users/{m.fresh_user()}/active", form=_csrf_form(m, {})), _user_is("member", False), writes=True,
        allowed=ADMIN),
    ("POST", "/admin/users/<username>/password"): Entry(PAGE_ROLES, 303, lambda m: Call(
        f"/admin/users/{m.fresh_user()}/password", form=_csrf_form(m, {"password": NEW_PASSWORD})), _password_set,
        writes=True, allowed=ADMIN),
    ("GET", "/api/v1/users"): Entry(API_ROLES, 200, lambda m: Call("/api/v1/users"), allowed=ADMIN),
    ("POST", "/api/v1/users"): Entry(API_ROLES, 201, lambda m: Call("/api/v1/users", json={
        "username": m.new_username(), "role": "member", "password": PASSWORD}), _user_is("member", True),
        writes=True, allowed=ADMIN),
    ("GET", "/api/v1/users/<username>"): Entry(API_ROLES, 200, lambda m: Call("/api/v1/users/matrix_member"),
                                               allowed=ADMIN),
    ("PATCH", "/api/v1/users/<username>"): Entry(API_ROLES, 200, lambda m: Call(
        f"/api/v1/users/{m.fresh_user()}", json={"role": "office", "active": False}), _user_is("office", False),
        writes=True, allowed=ADMIN),
    ("PUT", "/api/v1/users/<username>/password"): Entry(API_ROLES, 200, lambda m: Call(
        f"/api/v1/users/{m.fresh_user()}/password", json={"password": NEW_PASSWORD}), _password_set, writes=True,
        allowed=ADMIN),
    # members (/admin/members, /api/v1/members): admin and office
    ("GET", "/admin/members"): Entry(PAGE_ROLES, 200, lambda m: Call("/admin/members"), allowed=WRITERS),
    ("POST", "/admin/members"): Entry(PAGE_WRITE, 303, lambda m: Call("/admin/members", form=_csrf_form(m, {
        "name": m.new_member(), "sector": "农业界"})), _member_added, writes=True),
    ("POST", "/admin/members/import"): Entry(PAGE_WRITE, 303, lambda m: Call("/admin/members/import", form=_csrf_form(
        m, {"csv": f"name,sector\n{m.new_member()},农业界\n"})), _member_added, writes=True),
    ("GET", "/api/v1/members"): Entry(API_ROLES, 200, lambda m: Call("/api/v1/members"), allowed=WRITERS),
    ("POST", "/api/v1/members"): Entry(API_WRITE, 201, lambda m: Call("/api/v1/members", json={
        "name": m.new_member(), "sector": "农业界"}), _member_added, writes=True),
    ("POST", "/api/v1/members/import"): Entry(API_WRITE, 201, lambda m: Call(
        "/api/v1/members/import", data=f"name,sector\n{m.new_member()},农业界\n".encode(), content_type="text/csv"),
        _member_added, writes=True),
}


def routes(app: Flask) -> list[tuple[str, str]]:
    """Every (method, rule) the app serves (HEAD and OPTIONS are Flask's own)."""
    return sorted((method, rule.rule) for rule in app.url_map.iter_rules()
                  for method in rule.methods - {"HEAD", "OPTIONS"})


def unlisted(app: Flask, table: dict[tuple[str, str], Entry] = TABLE) -> list[str]:
    """Routes of ``app`` with no entry in ``table``."""
    return [f"{method} {rule}" for method, rule in routes(app) if (method, rule) not in table]


# ---------------------------------------------------------------------------------------------
# What each kind of access answers


def expected(entry: Entry, who: Who) -> str:
    """"allowed", "login" (sent to the sign-in page), "401", "403" or "404"."""
    signed_in = who.how == "session"
    if entry.access == OPEN:
        return "allowed"
    if entry.access == PAGE_READ:
        return "allowed" if signed_in else "login"
    if entry.access == PAGE_WRITE:
        if not signed_in:
            return "login"
        return "allowed" if who.role in WRITERS else "403"
    if entry.access == API_READ:
        return "401" if who.role is None else "allowed"
    if entry.access == PAGE_TOPIC:
        if not signed_in:
            return "login"
        return "404" if who.role == "handling_unit" else "allowed"
    if entry.access == API_TOPIC:
        if who.role is None:
            return "401"
        return "404" if who.role == "handling_unit" else "allowed"
    if entry.access == API_WRITE:
        if who.role is None:
            return "401"
        return "allowed" if who.role in WRITERS else "403"
    if entry.access == PAGE_UNIT_READ:
        if not signed_in:
            return "login"
        return "allowed" if who.role in UNIT_READERS else "403"
    if entry.access == API_UNIT_READ:
        if who.role is None:
            return "401"
        return "allowed" if who.role in UNIT_READERS else "403"
    if entry.access == PAGE_ONLINE:
        if not signed_in:
            return "login"
        return "allowed" if who.role in ONLINE else "403"
    if entry.access == API_ONLINE:
        if who.role is None:
            return "401"
        return "allowed" if who.role in ONLINE else "403"
    if entry.access == PAGE_UNIT:
        if not signed_in:
            return "login"
        return "allowed" if who.role == "handling_unit" else "403"
    if entry.access == API_UNIT:
        if who.role is None:
            return "401"
        return "allowed" if who.role == "handling_unit" else "403"
    if entry.access == PAGE_ROLES:
        if not signed_in:
            return "login"
        return "allowed" if who.role in entry.allowed else "403"
    if entry.access == API_ROLES:
        if who.role is None:
            return "401"
        return "allowed" if who.role in entry.allowed else "403"
    raise AssertionError(f"unknown access {entry.access!r}")


def judge(entry: Entry, want: str, matrix: Matrix, call: Call, response, before: tuple) -> str | None:
    """What is wrong with ``response`` (None when it is what the table says)."""
    status = response.status_code
    if want == "allowed":
        if status != entry.status:
            return f"allowed: expected {entry.status}, got {status} {response.get_data(as_text=True)[:200]!r}"
        if entry.took_effect is not None and not entry.took_effect(matrix, call, response):
            return f"allowed: answered {status} but did not take effect"
        return None
    if entry.writes and matrix.fingerprint() != before:
        return f"refused ({want}) but the node changed"
    if want == "login":
        location = response.headers.get("Location", "")
        if status != 302 or not location.split("?")[0].endswith("/login"):
            return f"expected a redirect to /login, got {status} {location!r}"
        return None
    if status != int(want):
        return f"expected {want}, got {status} {response.get_data(as_text=True)[:200]!r}"
    if call.path.startswith("/api/"):
        body = response.get_json(silent=True)
        code = {"401": "unauthenticated", "403": "forbidden", "404": "not_found"}[want]
        if not (isinstance(body, dict) and isinstance(body.get("error"), dict) and body["error"].get("code") == code
                and isinstance(body["error"].get("message"), str)):
            return f"expected the JSON error body with code {code!r}, got {response.get_data(as_text=True)[:200]!r}"
        if want == "401" and not response.headers.get("WWW-Authenticate", "").startswith("Basic"):
            return "401 without WWW-Authenticate: Basic"
    return None


# ---------------------------------------------------------------------------------------------
# The node


CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@dataclass
class Matrix:
    app: Flask
    uid: str = ""
    sha256: str = ""
    activity: str = ""
    csrf: str = ""
    sent_before: int = 0
    clients: dict[str, Any] = field(default_factory=dict)
    plan_year: int = 0
    next_year: int = 1949
    last_item: int = 0
    last_unit: str = ""
    last_phone: str = ""
    units_made: int = 0
    suggestions_made: int = 0
    last_suggestion: int = 0
    proposal: str = ""
    duty_before: int = 0
    opinion: str = ""
    issue_number: int = 0
    appraisal: int = 0
    rectification: int = 0
    last_subject: int = 0
    last_group: int = 0
    per_year: int = 1
    peers_made: int = 0
    last_peer: str = ""
    last_peer_name: str = ""
    last_dead: int = 0
    users_made: int = 0
    last_user: str = ""
    last_member: str = ""

    def basic(self, username: str) -> dict[str, str]:
        token = base64.b64encode(f"{username}:{PASSWORD}".encode()).decode()
        return {"Authorization": f"Basic {token}"}

    def fresh_topic(self) -> str:
        answer = self.app.test_client().post("/api/v1/topics", json=TOPIC, headers=self.basic("matrix_setup"))
        assert answer.status_code == 201, answer.get_data(as_text=True)
        return answer.get_json()["topic"]["uid"]

    def new_unit(self) -> str:
        self.units_made += 1
        self.last_unit = f"矩阵单位{self.units_made}"
        return self.last_unit

    def new_phone(self) -> str:
        self.units_made += 1
        self.last_phone = f"0935-{self.units_made}"
        return self.last_phone

    def unit_names(self) -> set[str]:
        with self.app.app_context():
            return set(get_session().execute(select(HandlingUnit.name)).scalars())

    def unit_phone(self, name: str) -> str | None:
        with self.app.app_context():
            return get_session().execute(select(HandlingUnit.phone).where(HandlingUnit.name == name)).scalar()

    def new_year(self) -> int:
        self.next_year += 1
        return self.next_year

    def fresh_plan(self, stage: str) -> tuple[int, int]:
        """A new year's plan made through the API: ``empty``, ``draft`` (one item), ``approved`` or
        ``published``; its year and its item's id (0 when empty)."""
        client, headers, year = self.app.test_client(), self.basic("matrix_setup"), self.new_year()

        def post(path: str, body: dict) -> dict:
            answer = client.post(f"/api/v1/plans{path}", json=body, headers=headers)
            assert answer.status_code in (200, 201), answer.get_data(as_text=True)
            return answer.get_json()

        post("", {"year": year})
        self.last_item = 0
        if stage != "empty":
            self.last_item = post(f"/{year}/items", PLAN_ITEM)["items"][0]["id"]
        if stage in ("approved", "published"):
            post(f"/{year}/steps", PLAN_STEP)
            post(f"/{year}/steps", {**PLAN_STEP, "step": "standing_committee"})
        if stage == "published":
            post(f"/{year}/publish", {})
        return year, self.last_item

    def plan_rows(self, year: int) -> tuple:
        """The plan of ``year``: its status and how many items, steps and amendments it has."""
        with self.app.app_context():
            session = get_session()
            plan = session.execute(select(Plan).where(Plan.year == year)).scalar()
            if plan is None:
                return (None, 0, 0, 0)
            return (plan.status, len(plan.items), len(plan.steps), len(plan.amendments))
    def determined_topic(self) -> str:
        uid = self.fresh_topic()
        moved = self.app.test_client().post(f"/api/v1/topics/{uid}/actions", headers=self.basic("matrix_setup"),
                                            json={"action": "advance", "to_stage": "determined"})
        assert moved.status_code == 200, moved.get_data(as_text=True)
        return uid

    def implementing_topic(self) -> str:
        """A fresh topic advanced to ``implementing`` (units are assigned there)."""
        uid = self.determined_topic()
        for stage in ("researching", "consulting", "implementing"):
            moved = self.app.test_client().post(f"/api/v1/topics/{uid}/actions", headers=self.basic("matrix_setup"),
                                                json={"action": "advance", "to_stage": stage})
            assert moved.status_code == 200, moved.get_data(as_text=True)
        return uid

    def assigned_topic(self) -> str:
        """A fresh implementing topic whose lead unit is the unit matrix_handling_unit acts for."""
        uid = self.implementing_topic()
        answer = self.app.test_client().post(f"/api/v1/topics/{uid}/implementation/assignments",
                                             headers=self.basic("matrix_setup"), json={"assignments": [
                                                 {"unit": MATRIX_UNIT, "role": "lead", "working_days": 10}]})
        assert answer.status_code == 201, answer.get_data(as_text=True)
        return uid

    def pending_report(self) -> tuple[str, int]:
        """A fresh assigned topic with the unit's final report awaiting review: its uid and the report's id."""
        uid = self.assigned_topic()
        answer = self.app.test_client().post(f"/api/v1/topics/{uid}/implementation/reports",
                                             headers=self.basic("matrix_handling_unit"),
                                             json={"kind": "final", "body": "已完工"})
        assert answer.status_code == 201, answer.get_data(as_text=True)
        return uid, answer.get_json()["report"]["id"]

    def implementation_rows(self, uid: str) -> tuple:
        """The topic's assignments, instructions, reports and reviewed reports."""
        with self.app.app_context():
            session = get_session()
            topic = session.execute(select(Topic.id).where(Topic.uid == uid)).scalar()
            count = lambda query: session.execute(query).scalar()  # noqa: E731
            reports = select(func.count()).select_from(Report).join(Assignment).where(Assignment.topic_id == topic)
            return (count(select(func.count()).select_from(Assignment).where(Assignment.topic_id == topic)),
                    count(select(func.count()).select_from(Instruction).where(Instruction.topic_id == topic)),
                    count(reports), count(reports.where(Report.review != "pending")))

    def fresh_activity(self, window: bool = False) -> str:
        """An activity planned on a fresh topic (with its online window open when ``window``)."""
        client = self.app.test_client()
        answer = client.post("/api/v1/activities", json={**ACTIVITY, "topics": [self.determined_topic()]},
                             headers=self.basic("matrix_setup"))
        assert answer.status_code == 201, answer.get_data(as_text=True)
        uid = answer.get_json()["activity"]["uid"]
        if window:
            opened = client.post(f"/api/v1/activities/{uid}/actions", headers=self.basic("matrix_setup"),
                                 json={"action": "open_window", "closes": "2099-01-01 00:00"})
            assert opened.status_code == 200, opened.get_data(as_text=True)
        return uid

    def activity_rows(self, model, uid: str) -> int:
        with self.app.app_context():
            return get_session().execute(select(func.count()).select_from(model).join(Activity)
                                         .where(Activity.uid == uid)).scalar()

    def duty_rows(self) -> int:
        with self.app.app_context():
            return get_session().execute(select(func.count()).select_from(DutyItem)).scalar()

    def duty_item(self) -> int:
        """An item of M001's duty recorded by hand, with an evidence file: its id."""
        from shangliang.core.context import node_context
        from shangliang.core.db import transaction
        from shangliang.core.duty import services as duty

        with self.app.app_context(), transaction("matrix") as session:
            return duty.add_item(session, node_context(), "M001", "good_deed", "捐助学校", "2026-03-05",
                                 file_name="照片.jpg", file_data=FILE, actor="matrix").id

    def outbox_rows(self) -> int:
        from shangliang.federation.models import OutboxMessage

        with self.app.app_context():
            return get_session().execute(select(func.count()).select_from(OutboxMessage)).scalar()

    def stage(self, uid: str) -> str | None:
        with self.app.app_context():
            return get_session().execute(select(Topic.stage).where(Topic.uid == uid)).scalar()

    def attachment_count(self, uid: str) -> int:
        with self.app.app_context():
            return get_session().execute(select(func.count()).select_from(TopicAttachment)
                                         .join(Topic).where(Topic.uid == uid)).scalar()

    def fresh_proposal(self, stage: str) -> str:
        """A proposal of the matrix member (M001) made through the API and taken to ``stage``: ``signing`` (M002's,
        M001 co-signs), ``submitted``, ``returned``, ``filed``, ``assigned`` (to the matrix unit), ``key``
        (assigned and a key proposal), ``replied``, ``rated``; its number, or its id before it is filed."""
        client = self.app.test_client()

        def post(path: str, body: dict, user: str = "matrix_setup") -> dict:
            answer = client.post(f"/api/v1/proposals{path}", json=body, headers=self.basic(user))
            assert answer.status_code in (200, 201), answer.get_data(as_text=True)
            return answer.get_json()["proposal"]

        if stage == "signing":
            return str(post("", {**PROPOSAL, "proposer": "M002", "cosigners": ["M001"]})["id"])
        p = post("", PROPOSAL, "matrix_member")
        ref = str(p["id"])
        if stage == "submitted":
            return ref
        if stage == "consented":
            post(f"/{ref}/consent", {}, "matrix_member")
            return ref
        if stage == "returned":
            post(f"/{ref}/review", {"decision": "returned", "reason": "请补充"})
            return ref
        ref = post(f"/{ref}/review", {"decision": "filed"})["number"]
        if stage == "filed":
            return ref
        post(f"/{ref}/assignments", {"lead": MATRIX_UNIT})
        if stage == "key":
            post(f"/{ref}/flags", {"key": True})
        if stage in ("assigned", "key"):
            return ref
        post(f"/{ref}/replies", REPLY, "matrix_handling_unit")
        if stage == "replied":
            return ref
        post(f"/{ref}/ratings", RATING, "matrix_member")
        return ref

    def closed_topic(self) -> str:
        """A topic taken to its result here (closed), for a proposal made from it."""
        client = self.app.test_client()
        uid = self.fresh_topic()
        for fields in [{"action": "advance", "to_stage": stage} for stage in
                       ("determined", "researching", "consulting", "implementing", "feedback")] + [
                {"action": "result", "kind": "协商意见", "title": "道路养护纳入计划", "summary": "列入年度计划",
                 "measures": ["三月底前勘测"], "handling_units": []}]:
            answer = client.post(f"/api/v1/topics/{uid}/actions", json=fields, headers=self.basic("matrix_setup"))
            assert answer.status_code == 200, answer.get_data(as_text=True)
        return uid

    def reassignment_asked(self) -> tuple[str, int]:
        """An assigned proposal whose unit asked for reassignment: its number and the request's id."""
        ref = self.fresh_proposal("assigned")
        answer = self.app.test_client().post(f"/api/v1/proposals/{ref}/reassignment-requests",
                                             json={"reason": "不属本单位职责"}, headers=self.basic("matrix_handling_unit"))
        assert answer.status_code == 201, answer.get_data(as_text=True)
        return ref, answer.get_json()["proposal"]["reassignments"][0]["id"]

    def fresh_opinion(self) -> str:
        """A report of the matrix member (M001), written through the API: its id."""
        answer = self.app.test_client().post("/api/v1/opinions", json=OPINION, headers=self.basic("matrix_member"))
        assert answer.status_code == 201, answer.get_data(as_text=True)
        return str(answer.get_json()["opinion"]["id"])

    def not_filed_proposal(self) -> str:
        """A proposal of the matrix member not filed, to become a social-opinion report: its id."""
        ref = self.fresh_proposal("submitted")
        answer = self.app.test_client().post(f"/api/v1/proposals/{ref}/review", headers=self.basic("matrix_setup"),
                                             json={"decision": "not_filed", "reason": "转社情民意",
                                                   "disposal": "social_opinion"})
        assert answer.status_code == 200, answer.get_data(as_text=True)
        return ref

    def next_issue(self) -> int:
        """The number of a new issue of 2026 (the issue count once it is compiled)."""
        self.issue_number = self.issue_rows() + 1
        return self.issue_number

    def issue_rows(self) -> int:
        with self.app.app_context():
            return get_session().execute(select(func.count()).select_from(opinion_models.OpinionIssue)).scalar()

    def opinion_row(self, call: Call) -> dict:
        from shangliang.core.opinions import services as opinions

        with self.app.app_context():
            return opinions.get_opinion(get_session(), _opinion_ref(call)).as_dict()

    def proposal_row(self, call: Call) -> dict:
        """The proposal a call was about, as the office sees it."""
        from shangliang.core.proposals import services as proposals

        with self.app.app_context():
            session = get_session()
            return proposals.get_proposal(session, _proposal_ref(call)).as_dict()

    def fresh_appraisal(self, stage: str) -> tuple[int, int, int, int]:
        """A new year's appraisal of departments made through the services: ``empty``; ``proposed`` (the matrix unit
        proposed by a practice); ``subject`` (the matrix unit confirmed); ``open`` (and a group led by M002
        appraising it); ``rated`` (M002 rated it); ``reported``; ``rectifying`` (its rectification assigned to the
        matrix unit); ``pending`` (the unit's final report awaits review). Its id, the subject's, the
        rectification's and the report's (0 where there is none); ``last_subject`` and ``last_group`` are set."""
        from shangliang.core.appraisal import services as appraisal
        from shangliang.core.context import node_context
        from shangliang.core.db import transaction
        from shangliang.core.users.models import User

        stages = ("empty", "proposed", "subject", "open", "rated", "reported", "rectifying", "pending")
        reach = stages.index(stage)
        subject = group = rect = report = 0
        with self.app.app_context():
            with transaction("matrix") as session:
                node = node_context()
                made = appraisal.create_appraisal(session, node, self.new_year(), "departments", "民主评议", "matrix")
                aid = made.id
                if stage == "proposed":
                    subject = appraisal.propose_subjects(session, node, aid, [{"unit": MATRIX_UNIT,
                                                                               "source": "matrix"}], "matrix")[0].id
                elif reach >= stages.index("subject"):
                    subject = appraisal.add_subject(session, node, aid, MATRIX_UNIT, None, "", "matrix").id
                if reach >= stages.index("open"):
                    group = appraisal.add_group(session, node, aid, "评议组", "M002", [], [subject], "matrix").id
                if reach >= stages.index("rated"):
                    appraisal.rate(session, node, aid, subject, "M002", "satisfied", "", "matrix")
                if reach >= stages.index("reported"):
                    appraisal.send_report(session, node, aid, "评议报告", "", ["区委"], "matrix")
                if reach >= stages.index("rectifying"):
                    rect = appraisal.assign_rectification(session, node, aid, subject, None, "整改", 10, None,
                                                          "matrix").id
                if reach >= stages.index("pending"):
                    user = session.execute(select(User).where(User.username == "matrix_handling_unit")).scalar_one()
                    report = appraisal.file_rectification_report(session, node, rect, user.id, "final", "已整改",
                                                                 "matrix").id
        self.last_subject, self.last_group = subject, group
        return aid, subject, rect, report

    def an_appraisal(self) -> int:
        """An appraisal to read (made once)."""
        if not self.appraisal:
            self.appraisal = self.fresh_appraisal("rated")[0]
        return self.appraisal

    def a_rectification(self) -> int:
        """A rectification of the matrix unit to read (made once)."""
        if not self.rectification:
            self.rectification = self.fresh_appraisal("rectifying")[2]
        return self.rectification

    def appraisal_rows(self, appraisal_id: int) -> dict[str, Any]:
        from shangliang.core.appraisal import services as appraisal

        with self.app.app_context():
            found = appraisal.detail(appraisal.get_appraisal(get_session(), appraisal_id))
            return {"status": found["status"], "subjects": len(found["subjects"]),
                    "confirmed": sum(1 for x in found["subjects"] if x["status"] == "confirmed"),
                    "groups": len(found["groups"]), "visits": len(found["visits"]),
                    "ratings": sum(x["tally"]["total"] for x in found["subjects"]),
                    "rectifications": sum(1 for x in found["subjects"] if x["rectification"])}

    def rectification_rows(self, rectification_id: int) -> tuple[int, int]:
        """The rectification's reports, and those reviewed."""
        with self.app.app_context():
            row = get_session().get(appraisal_models.AppraisalRectification, rectification_id)
            return len(row.reports), sum(1 for r in row.reports if r.review != "pending")

    def appraisal_of_year(self, year: int) -> int | None:
        with self.app.app_context():
            return get_session().execute(select(appraisal_models.Appraisal.id)
                                         .where(appraisal_models.Appraisal.year == year)).scalar()

    def node_toml(self) -> dict[str, Any]:
        return tomllib.loads((Path(self.app.config["NODE_DIR"]) / "node.toml").read_text(encoding="utf-8"))

    def plugin_set(self, name: str, enabled: bool) -> str:
        """Enable or disable an installed plugin in node.toml before a call changes it back (the same service)."""
        from shangliang.core.nodedir import set_plugin_enabled

        set_plugin_enabled(Path(self.app.config["NODE_DIR"]), name, enabled, "matrix")
        return name

    def new_per_year(self) -> int:
        self.per_year += 1
        return self.per_year

    # administration: neighbours, dead letters, users and members made for one request each

    def new_peer_line(self) -> str:
        """The pairing line of a new child of the matrix node (620302100, 620302101, …)."""
        from shangliang.federation.signing import b64u_encode, public_from_seed

        self.peers_made += 1
        self.last_peer = f"620302{100 + self.peers_made}"
        public = b64u_encode(public_from_seed(bytes([self.peers_made % 256] * 32)))
        return f"{self.last_peer} http://127.0.0.1:9 ed25519:m{self.peers_made}:{public} 矩阵镇{self.peers_made}"

    def fresh_peer(self) -> str:
        from shangliang.federation import peers

        line = self.new_peer_line()
        with self.app.app_context(), transaction("matrix") as session:
            peers.add_from_pairing(session, "620302", line)
        return self.last_peer

    def new_peer_name(self) -> str:
        self.peers_made += 1
        self.last_peer_name = f"矩阵镇政协{self.peers_made}"
        return self.last_peer_name

    def peer_name(self, node_id: str) -> str | None:
        from shangliang.federation.models import Peer

        with self.app.app_context():
            peer = get_session().get(Peer, node_id)
            return None if peer is None else peer.name

    def fresh_suggestion(self) -> int:
        """An open suggestion of two new topics held here: the same drainage complaint from two townships."""
        from shangliang.core.similar import services as similar
        from shangliang.core.topics.schemas import TopicIn
        from shangliang.core.topics import services as topics

        self.suggestions_made += 1
        n = self.suggestions_made
        with self.app.app_context(), transaction("matrix") as session:
            made = []
            for area, title, text in (("620302001", f"东街{n}村排水沟堵塞，雨天积水严重",
                                       "村里排水沟常年堵塞没人清理，每逢下雨路面积水，希望尽快疏通排水沟。"),
                                      ("620302002", f"雨天道路积水，西{n}村排水沟淤堵无人疏通",
                                       "主干道两侧的排水沟被淤泥堵死，一下雨道路积水严重，请求清淤疏通。")):
                topic, _route = topics.raise_topic(session, node_context(), TopicIn(
                    title=title, description=text, category="城乡建设", areas=[area], raised_by_kind="public",
                    raised_by_name="村民"), "matrix")
                made.append(similar.index_topic(session, node_context(), topic))
            self.last_suggestion = made[-1].id
        return self.last_suggestion

    def suggestion_state(self) -> str | None:
        from shangliang.core.similar.models import SimilarSuggestion

        with self.app.app_context():
            return get_session().execute(select(SimilarSuggestion.state)
                                         .where(SimilarSuggestion.id == self.last_suggestion)).scalar()

    def fresh_dead(self) -> int:
        """A message to the matrix node's child that delivery gave up on."""
        from shangliang.federation import outbox

        with self.app.app_context(), transaction("matrix") as session:
            _envelope, row = outbox.originate(session, node_context(), "x-matrix.note", {"n": self.peers_made},
                                              "620302001", "forward")
            row.status, row.attempts, row.last_error = "dead", 7, "HTTP 500"
            self.last_dead = row.id
        return self.last_dead

    def outbox_status(self, outbox_id: int) -> str | None:
        from shangliang.federation.models import OutboxMessage

        with self.app.app_context():
            return get_session().execute(select(OutboxMessage.status).where(OutboxMessage.id == outbox_id)).scalar()

    def new_username(self) -> str:
        self.users_made += 1
        self.last_user = f"matrix_made{self.users_made}"
        return self.last_user

    def fresh_user(self) -> str:
        from shangliang.core.users import services as users

        name = self.new_username()
        with self.app.app_context(), transaction("matrix") as session:
            users.add_user(session, name, "member", PASSWORD, method=self.app.config["USERS_HASH_METHOD"])
        return name

    def user_row(self, username: str) -> tuple:
        from shangliang.core.users.models import User

        with self.app.app_context():
            found = get_session().execute(select(User.role, User.active, User.password_hash)
                                          .where(User.username == username)).one_or_none()
            return tuple(found) if found else (None, None, None)

    def new_member(self) -> str:
        self.users_made += 1
        self.last_member = f"矩阵委员{self.users_made}"
        return self.last_member

    def member_names(self) -> set[str]:
        from shangliang.core.members.models import Member

        with self.app.app_context():
            return set(get_session().execute(select(Member.name)).scalars())

    def admin_state(self) -> tuple:
        """What the administration pages change: users (role, active, password), members, neighbours and their
        names, and the outbox's statuses."""
        from shangliang.core.members.models import Member
        from shangliang.core.users.models import User
        from shangliang.federation.models import OutboxMessage, Peer

        with self.app.app_context():
            session = get_session()
            return (tuple(session.execute(select(User.username, User.role, User.active, User.password_hash)
                                          .order_by(User.id)).all()),
                    session.execute(select(func.count()).select_from(Member)).scalar(),
                    tuple(session.execute(select(Peer.node_id, Peer.name).order_by(Peer.node_id)).all()),
                    tuple(session.execute(select(OutboxMessage.id, OutboxMessage.status)
                                          .order_by(OutboxMessage.id)).all()))

    def fingerprint(self) -> tuple:
        """How much the node holds: topics, their events and attachments; plans and their rows; activities,
        their invitations, materials and opinions; the messages it sends; implementation assignments,
        instructions and reports; and its node.toml (plugins)."""
        from shangliang.federation.models import OutboxMessage

        tables = (Topic, TopicEvent, TopicAttachment, Plan, PlanItem, PlanStep, PlanAmendment, Activity, Invitation,
                  Material, Opinion, OutboxMessage, HandlingUnit, Assignment, Instruction, Report, *PROPOSAL_TABLES,
                  *OPINION_TABLES, DutyItem, *APPRAISAL_TABLES)
        with self.app.app_context():
            session = get_session()
            # One statement for all the counts: on PostgreSQL, forty round trips a cell made this test four
            # times as long as on SQLite.
            counts = session.execute(select(*(select(func.count()).select_from(table).scalar_subquery()
                                              for table in tables))).one()
            return tuple(counts) + ((Path(self.app.config["NODE_DIR"]) / "node.toml").read_text(encoding="utf-8"),) \
                + self.admin_state() + self.similar_state()

    def similar_state(self) -> tuple:
        """What deciding on similar matters changes: each suggestion's state, the topics merged."""
        from shangliang.core.similar.models import SimilarMerged, SimilarSuggestion

        with self.app.app_context():
            session = get_session()
            return (tuple(session.execute(select(SimilarSuggestion.id, SimilarSuggestion.state)
                                          .order_by(SimilarSuggestion.id)).all()),
                    session.execute(select(func.count()).select_from(SimilarMerged)).scalar())

    def client(self, who: Who, fresh: bool = False):
        """A test client for ``who`` (signed in through /login for a session), the headers it sends and its
        CSRF token; kept for the next request of ``who`` unless ``fresh``."""
        if not fresh and who in self.clients:
            return self.clients[who]
        client = self.app.test_client()
        headers: dict[str, str] = {}
        if who.how == "basic":
            headers = self.basic(who.username)
        elif who.how == "session":
            answer = client.post("/login", data={"username": who.username, "password": PASSWORD,
                                                 "csrf_token": self._token(client)})
            assert answer.status_code == 302, f"{who} could not sign in: {answer.status_code}"
        token = self._token(client)
        if who.how == "session":
            headers = {"X-CSRFToken": token}
        made = (client, headers, token)
        if not fresh:
            self.clients[who] = made
        return made

    @staticmethod
    def _token(client) -> str:
        return CSRF.search(client.get("/login").get_data(as_text=True)).group(1)

    def send(self, who: Who, method: str, call: Call, fresh: bool = False):
        client, headers, self.csrf = self.client(who, fresh)
        self.sent_before = self.outbox_rows()
        self.duty_before = self.duty_rows()
        kwargs: dict[str, Any] = {"headers": headers}
        if call.json is not None:
            kwargs["json"] = call.json
        elif call.form is not None:
            form = dict(call.form)
            if "csrf_token" in form:
                form["csrf_token"] = self.csrf  # the token of the client just made
            kwargs["data"] = form
        elif call.data is not None:
            kwargs["data"] = call.data
            kwargs["content_type"] = call.content_type
        return client.open(call.path, method=method, **kwargs)


def make_matrix_node(make_node, runner):
    node_dir = make_node(node_id="620302", name="金川区政协")
    path = node_dir / "node.toml"
    document = tomlkit.parse(path.read_text(encoding="utf-8"))
    document["plugins"]["enabled"] = PLUGINS
    path.write_text(tomlkit.dumps(document) + PLUGIN_TOML, encoding="utf-8")
    # proposals: two members; the matrix member user is M001 (a proposer), the handling-unit user acts for a unit
    for name, number in (("李强", "M001"), ("王芳", "M002")):
        result = invoke(runner, node_dir, "members", "add", "--name", name, "--sector", "农业界", "--member-no", number)
        assert result.exit_code == 0, result.output
    for username, role in ([(Who(role, "").username, role) for role in ROLES]
                           + [("matrix_setup", "office"), ("matrix_signin", "member")]):
        linked = ["--member", "M001"] if username == "matrix_member" else []
        result = invoke(runner, node_dir, "users", "add", username, "--role", role, "--password-stdin", *linked,
                        input=PASSWORD + "\n")
        assert result.exit_code == 0, result.output
    # a handling unit that matrix_handling_unit acts for (it reads only that unit)
    result = invoke(runner, node_dir, "units", "add", "--name", MATRIX_UNIT, "--kind", "government",
                    "--contacts", "matrix_handling_unit")
    assert result.exit_code == 0, result.output
    # a paired child, so that a join to one of its activities can be written (and never delivered)
    from shangliang.federation.signing import NodeKey, b64u_encode, public_from_seed

    child = NodeKey("ed25519:child", bytes(range(32)))
    result = invoke(runner, node_dir, "peers", "add", "620302001", "http://127.0.0.1:9",
                    f"{child.key_id}:{b64u_encode(public_from_seed(bytes(range(32))))}")
    assert result.exit_code == 0, result.output
    # proposals across levels: a paired parent, so that a proposal can be forwarded (and never delivered)
    result = invoke(runner, node_dir, "peers", "add", "6203", "http://127.0.0.1:9",
                    f"ed25519:parent:{b64u_encode(public_from_seed(bytes(range(1, 33))))}")
    assert result.exit_code == 0, result.output
    return node_dir


@pytest.fixture
def matrix(make_node, runner):
    app = create_app(make_matrix_node(make_node, runner))  # CSRF on, as in production
    m = Matrix(app)
    m.uid = m.fresh_topic()
    upload = app.test_client().post(f"/api/v1/topics/{m.uid}/attachments?name=letter.txt", data=FILE,
                                    content_type="application/octet-stream", headers=m.basic("matrix_setup"))
    assert upload.status_code == 201, upload.get_data(as_text=True)
    m.sha256 = upload.get_json()["attachment"]["sha256"]
    m.plan_year = m.fresh_plan("draft")[0]
    m.activity = m.fresh_activity()
    asked = app.test_client().post(f"/api/v1/activities/remote/{REMOTE}/actions", headers=m.basic("matrix_setup"),
                                   json={"action": "join", "mode": "ask", "participants": [{"name": "区政协"}]})
    assert asked.status_code == 200, asked.get_data(as_text=True)
    material = app.test_client().post(f"/api/v1/activities/{m.activity}/materials?name=letter.txt", data=FILE,
                                      content_type="application/octet-stream", headers=m.basic("matrix_setup"))
    assert material.status_code == 201 and material.get_json()["material"]["sha256"] == m.sha256
    m.proposal = m.fresh_proposal("replied")  # theirs, assigned to the matrix unit, and public
    published = app.test_client().post(f"/api/v1/proposals/{m.proposal}/publication", json={"proposal": True},
                                       headers=m.basic("matrix_setup"))
    assert published.status_code == 200, published.get_data(as_text=True)
    m.opinion = m.fresh_opinion()
    yield m
    app.extensions["shangliang.db"].engine.dispose()


# ---------------------------------------------------------------------------------------------
# The tests


#: The matrix runs in parts, each a class of its own with a node of its own: the suite's workers take a class each
#: (``--dist loadscope``), so the matrix's cells are checked side by side (one part alone took 300 s in CI).
PARTS = 3


def part_routes(app: Flask, part: int) -> list[tuple[str, str]]:
    """Every ``PARTS``-th route of the table from ``part``, in the order of the app's sorted routes."""
    return [route for route in sorted(routes(app))[part::PARTS] if route in TABLE]


def check_part(matrix: Matrix, part: int) -> int:
    """11 identities × every ``PARTS``-th route from ``part`` (sorted routes): one failure lists every cell of
    the part that differs from the table; how many cells were checked."""
    missing = unlisted(matrix.app)
    stale = sorted(f"{m} {r}" for m, r in set(TABLE) - set(routes(matrix.app)))
    wrong, cells = [], 0
    for method, rule in part_routes(matrix.app, part):
        entry = TABLE[(method, rule)]
        for who in WHO:
            want = expected(entry, who)
            call = entry.call(matrix)  # may raise a fresh topic to act on
            before = matrix.fingerprint() if entry.writes else ()
            response = matrix.send(who, method, call, entry.fresh)
            problem = judge(entry, want, matrix, call, response, before)
            cells += 1
            if problem:
                wrong.append(f"{method} {rule} as {who}: {problem}")
    assert not missing, f"routes with no entry in the authorisation table: {missing}"
    assert not stale, f"entries for routes the app does not serve: {stale}"
    assert not wrong, f"{len(wrong)} of {cells} cells differ from the table:\n" + "\n".join(wrong)
    return cells


class TestMatrixPart1:
    def test_every_route_answers_every_role_as_the_table_says(self, matrix):
        assert check_part(matrix, 0) == len(part_routes(matrix.app, 0)) * len(WHO) > 0


class TestMatrixPart2:
    def test_every_route_answers_every_role_as_the_table_says(self, matrix):
        assert check_part(matrix, 1) == len(part_routes(matrix.app, 1)) * len(WHO) > 0


class TestMatrixPart3:
    def test_every_route_answers_every_role_as_the_table_says(self, matrix):
        assert check_part(matrix, 2) == len(part_routes(matrix.app, 2)) * len(WHO) > 0


def test_the_table_covers_every_kind_of_access():
    """Every kind of access is exercised, and the expectations differ where they should."""
    kinds = {entry.access for entry in TABLE.values()}
    assert kinds == {OPEN, PAGE_READ, PAGE_WRITE, API_READ, API_WRITE, PAGE_ONLINE, API_ONLINE, PAGE_UNIT_READ,
                     API_UNIT_READ, PAGE_UNIT, API_UNIT, PAGE_ROLES, API_ROLES, PAGE_TOPIC, API_TOPIC}
    topic = TABLE[("GET", "/api/v1/topics/<uid>")]  # a topic not assigned to the unit the handling unit acts for
    assert [expected(topic, who) for who in WHO] == ["401", "allowed", "allowed", "allowed", "allowed", "allowed",
                                                     "allowed", "404", "404", "allowed", "allowed"]
    write = TABLE[("POST", "/api/v1/topics/<uid>/actions")]
    assert [expected(write, who) for who in WHO] == ["401", "allowed", "allowed", "allowed", "allowed",
                                                     "403", "403", "403", "403", "403", "403"]
    raised = TABLE[("POST", "/api/v1/topics")]  # the office, a member and the public raise; a handling unit not
    assert [expected(raised, who) for who in WHO] == ["401", "allowed", "allowed", "allowed", "allowed",
                                                      "allowed", "allowed", "403", "403", "allowed", "allowed"]
    online = TABLE[("POST", "/api/v1/activities/<uid>/opinions")]
    assert [expected(online, who) for who in WHO] == ["401", "403", "403", "403", "403", "allowed", "allowed",
                                                      "403", "403", "allowed", "allowed"]
    units = TABLE[("GET", "/api/v1/units/<ref>")]
    assert [expected(units, who) for who in WHO] == ["401", "allowed", "allowed", "allowed", "allowed",
                                                     "403", "403", "allowed", "allowed", "403", "403"]
    unit = TABLE[("POST", "/api/v1/topics/<uid>/implementation/reports")]  # implementation: a unit's report
    assert [expected(unit, who) for who in WHO] == ["401", "403", "403", "403", "403", "403", "403",
                                                    "allowed", "allowed", "403", "403"]
    page = TABLE[("POST", "/topics/<uid>/act")]
    assert [expected(page, who) for who in WHO] == ["login", "login", "allowed", "login", "allowed",
                                                    "login", "403", "login", "403", "login", "403"]


def test_a_route_without_an_entry_fails_the_matrix(make_node):
    """A route added to a fresh app, with no entry in the table, is reported by the check the matrix runs."""
    app = create_app(make_node())
    assert unlisted(app, TABLE) == []  # on a node without page plugins, every route has its entry
    app.add_url_rule("/secret-report", "secret_report", lambda: "every member's phone number", methods=["GET", "POST"])
    assert unlisted(app, TABLE) == ["GET /secret-report", "POST /secret-report"]
    app.extensions["shangliang.db"].engine.dispose()


def test_a_role_the_table_would_refuse_is_caught(matrix):
    """The judge is not blind: a handling unit's successful raise, measured against its row, is a violation."""
    entry = TABLE[("POST", "/api/v1/topics")]
    office = Who("office", "basic")
    call = entry.call(matrix)
    before = matrix.fingerprint()
    response = matrix.send(office, "POST", call)
    assert response.status_code == 201
    # Judged as if the office user were `handling_unit`: a 201 where a 403 was due, and the node changed.
    problem = judge(entry, expected(entry, Who("handling_unit", "basic")), matrix, call, response, before)
    assert problem == "refused (403) but the node changed"
