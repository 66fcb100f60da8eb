"""The appraisal JSON API (/api/v1/appraisals): handlers that take the validated request, call one service and
answer JSON. The URL table and the documented answers are in ``blueprint.py``; the shapes in ``schemas.py``."""

from __future__ import annotations

from flask import url_for
from shangliang.core.context import node_context
from shangliang.core.db import get_session, transaction
from shangliang.core.web.api import actor, api_user, json_response

from . import services
from .schemas import (
    AppraisalCandidatesQuery,
    AppraisalDecisionIn,
    AppraisalGroupIn,
    AppraisalIn,
    AppraisalListQuery,
    AppraisalPath,
    AppraisalRatingIn,
    AppraisalRectificationIn,
    AppraisalRectificationPath,
    AppraisalRectificationReportIn,
    AppraisalReportIn,
    AppraisalReportPath,
    AppraisalReviewIn,
    AppraisalSubjectIn,
    AppraisalSubjectPath,
    AppraisalVisitIn,
)


def _view(session, appraisal) -> dict:
    user = api_user()
    return services.detail(appraisal, ratings=user.role in services.WRITERS,
                           unit_id=services.unit_scope(session, user))


def _answer(session, appraisal, status: int = 200, headers=None):
    return json_response({"appraisal": _view(session, appraisal)}, status, headers)


def list_appraisals(query: AppraisalListQuery):
    """List appraisals.

    This node's democratic appraisals (民主评议), the latest year first, with how many subjects each has.
    """
    found = services.list_appraisals(get_session(), query.year)
    return json_response({"appraisals": [services.summary(a) for a in found]})


def create_appraisal(body: AppraisalIn):
    """Create an appraisal of a year.

    One a year of each kind: `departments` (government departments) or `key_topics` (the implementation of key
    topics). Enabled practices propose subjects at once (the `democratic_appraisal` practice: last year's key
    topics), each awaiting the office's confirmation.
    """
    with transaction(actor()) as session:
        appraisal = services.create_appraisal(session, node_context(), body.year, body.kind, body.title, actor())
        return _answer(session, appraisal, 201,
                       {"Location": url_for("appraisal_api.show_appraisal", appraisal_id=appraisal.id)})


def candidates(query: AppraisalCandidatesQuery):
    """List the key topics of the year before.

    The subjects proposed for the year's appraisal: the topics of the previous year's published consultation
    plan that reached a result here, with their results and the handling units that implemented them.
    """
    return json_response({"candidates": services.candidate_subjects(get_session(), node_context(), query.year)})


def show_appraisal(path: AppraisalPath):
    """Show an appraisal.

    Its subjects (with the tally of ratings; who rated what for the office and admins only), groups, visits
    and findings, the report, and the rectifications (a handling unit's user sees its own unit's only).
    """
    session = get_session()
    return _answer(session, services.get_appraisal(session, path.appraisal_id))


def add_subject(path: AppraisalPath, body: AppraisalSubjectIn):
    """Add a subject.

    A handling unit, or a topic with a result (with the unit that answers for it, optionally); confirmed at once.
    """
    with transaction(actor()) as session:
        subject = services.add_subject(session, node_context(), path.appraisal_id, body.unit, body.topic, body.note,
                                       actor())
        return _answer(session, subject.appraisal, 201)


def decide_subject(path: AppraisalSubjectPath, body: AppraisalDecisionIn):
    """Confirm or dismiss a proposed subject.

    A subject a practice proposed awaits this decision; a dismissal says why.
    """
    with transaction(actor()) as session:
        subject = services.decide_subject(session, node_context(), path.appraisal_id, path.subject_id, body.decision,
                                          body.note, actor())
        return _answer(session, subject.appraisal)


def add_group(path: AppraisalPath, body: AppraisalGroupIn):
    """Form an appraisal group.

    Members (each in one group of the appraisal) with a leader among them, and the confirmed subjects it
    appraises.
    """
    with transaction(actor()) as session:
        group = services.add_group(session, node_context(), path.appraisal_id, body.name, body.leader, body.members,
                                   body.subjects, actor())
        return _answer(session, group.appraisal, 201)


def record_visit(path: AppraisalPath, body: AppraisalVisitIn):
    """Record a visit and its findings.

    A group's visit to a subject: the day, the place and what was found.
    """
    with transaction(actor()) as session:
        visit = services.record_visit(session, node_context(), path.appraisal_id, body.group, body.subject,
                                      body.date, body.place, body.findings, actor())
        return _answer(session, visit.appraisal, 201)


def rate(path: AppraisalPath, body: AppraisalRatingIn):
    """Enter a rating.

    A group member's rating of a confirmed subject: satisfied, basically_satisfied or unsatisfied (满意, 基本满意,
    不满意); once per member and subject.
    """
    with transaction(actor()) as session:
        row = services.rate(session, node_context(), path.appraisal_id, body.subject, body.member, body.rating,
                            body.comment, actor())
        return _answer(session, row.subject.appraisal, 201)


def send_report(path: AppraisalPath, body: AppraisalReportIn):
    """Record the report to the party committee and government.

    Its text, the day it was sent and to whom. Refused (409) while a subject awaits confirmation or a confirmed
    subject is unrated.
    """
    with transaction(actor()) as session:
        appraisal = services.send_report(session, node_context(), path.appraisal_id, body.body, body.sent_on,
                                         body.recipients, actor())
        return _answer(session, appraisal)


def assign_rectification(path: AppraisalPath, body: AppraisalRectificationIn):
    """Assign the rectification of a subject.

    After the report: a unit (default: the subject's), what to rectify and a deadline in working days on the
    node's calendar (or a date).
    """
    with transaction(actor()) as session:
        row = services.assign_rectification(session, node_context(), path.appraisal_id, body.subject, body.unit,
                                            body.requirements, body.working_days, body.due, actor())
        return json_response({"rectification": services.rectification_dict(row)}, 201)


def list_rectifications():
    """List rectifications.

    Rectifications (整改) on this node, overdue first; a handling unit's user sees its own unit's only.
    """
    session = get_session()
    scope = services.unit_scope(session, api_user())
    rows = [] if scope is False else services.list_rectifications(session, scope)
    return json_response({"rectifications": [services.rectification_dict(r) for r in rows]})


def show_rectification(path: AppraisalRectificationPath):
    """Show a rectification.

    With its reports and their reviews; a handling unit's user finds only its own unit's.
    """
    session = get_session()
    scope = services.unit_scope(session, api_user())
    row = services.get_rectification(session, path.rectification_id, -1 if scope is False else scope)
    return json_response({"rectification": services.rectification_dict(row)})


def file_report(path: AppraisalRectificationPath, body: AppraisalRectificationReportIn):
    """File a rectification report.

    The unit's contact user files a progress or final report on its own unit's rectification.
    """
    with transaction(actor()) as session:
        report = services.file_rectification_report(session, node_context(), path.rectification_id, api_user().id,
                                                    body.kind, body.body, actor())
        return json_response({"rectification": services.rectification_dict(report.rectification)}, 201)


def review_report(path: AppraisalReportPath, body: AppraisalReviewIn):
    """Accept or return a rectification report.

    An accepted final report completes the rectification; a returned one says why.
    """
    with transaction(actor()) as session:
        report = services.review_rectification_report(session, node_context(), path.rectification_id, path.report_id,
                                                      body.decision, body.comment, actor())
        return json_response({"rectification": services.rectification_dict(report.rectification)})
