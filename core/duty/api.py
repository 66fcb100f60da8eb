"""The duty JSON API: ``/api/v1/duty`` (the year's assessment table, items recorded by hand, reports to a higher
committee, reminders) and ``/api/v1/members/{ref}/duty`` (a member's record). Handlers take the validated
request, call one service and answer JSON; the URL table is in ``blueprint.py``."""

from __future__ import annotations

from shangliang.core.context import node_context
from shangliang.core.db import get_session, transaction
from shangliang.core.web.api import actor, api_user, json_response

from . import federation, services
from .schemas import DutyItemIn, DutyMemberPath, DutyRemindIn, DutyReportIn, DutyYearQuery


def member_duty(path: DutyMemberPath, query: DutyYearQuery):
    """Show the duty record of a member.

    The member's duty record (委员履职档案) for the year: every item the node knows, in date order (attendance,
    speeches, proposals, social-opinion reports, items recorded by hand, items reported by lower nodes), the
    count by kind and the member's standing in the year's assessment. The office reads every member's; a
    member their own (others: 403).
    """
    return json_response(services.member_record(get_session(), node_context(), path.ref, query.year, api_user()))


def assessment(query: DutyYearQuery):
    """Show the assessment table of a year.

    Every active member's standing under the rules of the enabled practices (met, behind, or no_rules when no
    practice gives one), each rule's outcome with its reason, what is still missing and the months left in the
    year. A rule that raises is reported as a rule failure of that member.
    """
    return json_response(services.assessment(get_session(), node_context(), query.year))


def add_item(body: DutyItemIn):
    """Record a duty item by hand.

    An item the node does not know otherwise (a good deed 好事实事, training 培训, research 调研, a development idea,
    …), recorded by the office with its evidence. Without evidence: 400 ``invalid_input`` (field ``evidence``),
    nothing stored.
    """
    with transaction(actor()) as session:
        row = services.add_item(session, node_context(), body.member, body.kind, body.title, body.date,
                                body.detail, body.evidence, actor=actor())
        return json_response({"item": row.as_dict()}, 201)


def report(body: DutyReportIn):
    """Report items to a higher committee.

    Items of a member of a higher committee who takes part here, sent over a signed ``x-duty.items`` message to
    this node's parent and passed on up to ``target``, the member's committee node, whose record of the member
    then holds them (with this node as the reporter).
    """
    with transaction(actor()) as session:
        sent = federation.report(session, node_context(), body.target, body.member_no, body.name,
                                 [i.model_dump() for i in body.items], body.year)
        return json_response({"sent": sent}, 201)


def remind(body: DutyRemindIn):
    """Remind members falling behind.

    Each member behind in the year's assessment who has a user account here is told what is still missing and
    the months left; the office is told who was reminded. Beat does the same every ``[duty] reminder_seconds``.
    """
    with transaction(actor()) as session:
        done = services.remind(session, node_context(), body.year)
        return json_response({"year": done["year"], "reminded": done["reminded"],
                              "without_account": done["without_account"]})
