"""The members JSON API (/api/v1/members): handlers that take the validated request, call one service and answer
JSON; the URL table is in ``blueprint.py``."""

from __future__ import annotations

import flask
from shangliang.core.db import get_session, transaction
from shangliang.core.errors import ImportRowError
from shangliang.core.web.api import actor, error_response, json_response

from . import services
from .schemas import MemberIn, MemberListQuery


def list_members(query: MemberListQuery):
    """List members.

    The committee's members (委员) on this node, the newest first, with sector, special committee and township
    group.
    """
    found = services.page_members(get_session(), query.limit, query.cursor)
    return json_response({"members": [services.member_dict(m) for m in found.items],
                          "next_cursor": found.next_cursor})


def create_member(body: MemberIn):
    """Add a member.

    A member with a sector and, optionally, a special committee, a township group, a member number (unique on
    this node) and a phone (`shangliang members add`).
    """
    with transaction(actor()) as session:
        member = services.add_member(session, body.name, body.sector, body.special_committee, body.township_group,
                                     body.member_no, body.phone)
        data = services.member_dict(member)
    return json_response({"member": data}, 201)


def import_members():
    """Import members from CSV.

    The body is a UTF-8 CSV file (`Content-Type: text/csv`) with a header row: `name`, `sector` and optionally
    `special_committee`, `township_group`, `member_no`, `phone` (`shangliang members import`). All or nothing:
    the first bad line is refused with its number (`line` beside the error body) and nothing is imported.
    """
    data = flask.request.get_data()
    try:
        with transaction(actor()) as session:
            members = services.import_members_text(session, data, "members.csv")
            rows = [services.member_dict(m) for m in members]
    except ImportRowError as exc:
        response = error_response(400, "invalid_input", str(exc), "file")
        body = response.get_json()
        body["line"] = exc.line
        return json_response(body, 400)
    return json_response({"imported": len(rows), "members": rows}, 201)
