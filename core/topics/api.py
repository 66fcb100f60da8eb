"""The topics JSON API (/api/v1/topics): handlers that take the validated request, call one service and
answer JSON. The URL table and the documented answers are in ``blueprint.py``; the shapes in ``schemas.py``."""

from __future__ import annotations

import flask
from flask import url_for

from shangliang.core.context import node_context
from shangliang.core.db import get_session, transaction
from shangliang.core.web.api import actor, json_response

from . import implementation, services
from .schemas import (ActionIn, AssignIn, AttachmentPath, AttachQuery, InstructionIn, ReportIn, ReportPath, ReviewIn,
                      TopicIn, TopicListQuery, TopicPath)
from .views import send_attachment


def list_topics(query: TopicListQuery):
    """List topics.

    Topics known on this node, overdue first, then the most recently changed; a page at a time. A handling
    unit's user sees only the topics whose result is assigned to their unit.
    """
    session = get_session()
    found = services.list_topics(session, query.stage, query.holder, query.limit, query.cursor, _scope())
    return json_response({"topics": [t.as_dict() for t in found.items], "next_cursor": found.next_cursor})


def create_topic(body: TopicIn):
    """Raise a topic.

    Raise a topic here (收集议题): stage `collected`, held by this node; the answer carries the routing
    suggestion — where the matter belongs and what this node should do about it (staff decide). The office
    names who raised it; a member raises as themselves (kind `member`, their name and number) and the public
    as themselves (kind `public`), whatever `raised_by_*` says; a member's user not linked to a member is
    refused (403).
    """
    with transaction(actor()) as session:
        topic, suggestion = services.raise_topic(session, node_context(), body, actor(), user=flask.g.api_user)
        data = topic.as_dict(events=True)
    return json_response({"topic": data, "suggestion": suggestion.as_dict()}, 201,
                         {"Location": url_for("topics_api.show_topic", uid=topic.uid)})


def my_topics():
    """List the topics I raised.

    The topics the asking user raised on this node (from a page or the API), the most recently changed
    first, each with its stage and, once fed back, its result: what a member or the public follows.
    """
    rows = services.raised_by_user(get_session(), flask.g.api_user.username)
    return json_response({"topics": [t.as_dict() for t in rows], "next_cursor": None})


def show_topic(path: TopicPath):
    """Show a topic.

    One topic with its history, the routing suggestion and its route, every hop re-verified now. A handling
    unit's user is answered 404 for a topic not assigned to their unit.
    """
    session = get_session()
    return json_response(services.show(session, node_context(), services.get_topic(session, path.uid,
                                                                                   scope=_scope())))


def act_on_topic(path: TopicPath, body: ActionIn):
    """Act on a topic.

    One action (`advance`, `escalate`, `delegate`, `accept`, `return`, `result`) in one transaction: the
    topic change and the envelope it sends are stored together, or (on any refusal) nothing is.
    """
    with transaction(actor()) as session:
        answer = services.act(session, node_context(), path.uid, body.root, actor()).as_dict()
    return json_response(answer)


def attach_file(path: TopicPath, query: AttachQuery):
    """Attach a file.

    Attach a file to a topic held here: the body is the file's raw bytes. Its name, size and SHA-256
    travel with the topic only while it has not left the node where it was raised.
    """
    request = flask.request
    content = services.read_upload(request.stream.read, request.content_length, flask.current_app.config)
    with transaction(actor()) as session:
        (added,) = services.attach(session, node_context(), path.uid, [(query.name, content)], actor())
    return json_response({"attachment": added}, 201)


def download_attachment(path: AttachmentPath):
    """Download an attachment.

    The file's bytes (`Content-Disposition: attachment` with its name), where this node keeps them.
    """
    found, file_path = services.attachment_file(get_session(), node_context(), path.uid, path.sha256, _scope())
    return send_attachment(found, file_path)


# -- implementation of a result (办理实施) ----------------------------------------------------------------


def _scope() -> services.Scope:
    """What the API user reads: a handling unit's user the topics assigned to their unit, others every topic."""
    return services.scope_of(get_session(), flask.g.api_user)


def show_implementation(path: TopicPath):
    """Show the implementation of a topic.

    The units assigned with their deadlines, states and reports, the leaders' instructions, and whether the
    topic may move on to feedback. A handling unit's user sees its own unit's assignment only.
    """
    return json_response(implementation.state(get_session(), node_context(), path.uid, _scope()))


def assign_units(path: TopicPath, body: AssignIn):
    """Assign handling units.

    At the implementing stage: the lead unit (exactly one) and participating units, each with a deadline in
    working days on this node's calendar or a due date; all or none.
    """
    with transaction(actor()) as session:
        implementation.assign(session, node_context(), path.uid, body.assignments, actor())
        data = implementation.state(session, node_context(), path.uid)
    return json_response(data, 201)


def add_instruction(path: TopicPath, body: InstructionIn):
    """Record an instruction of a leader.

    A party or government leader's instruction (批示) on the topic's implementation, with its date.
    """
    with transaction(actor()) as session:
        implementation.instruct(session, node_context(), path.uid, body.leader, body.body, body.date, actor())
        data = implementation.state(session, node_context(), path.uid)
    return json_response(data, 201)


def file_report(path: TopicPath, body: ReportIn):
    """File a report of a unit.

    A progress or final report on the unit's own assignment, by the unit's contact user (role
    handling_unit); a unit not assigned to the topic is refused and nothing is stored.
    """
    user = flask.g.api_user
    with transaction(actor()) as session:
        report = implementation.file_report(session, node_context(), path.uid, user.id, body.kind, body.body, actor())
        data = {"report": report.as_dict(), "implementation": implementation.state(
            session, node_context(), path.uid, services.Scope(True, report.assignment.unit_id))}
    return json_response(data, 201)


def review_report(path: ReportPath, body: ReviewIn):
    """Review a report of a unit.

    The office accepts or returns (with its reason) a pending report; an accepted report travels back to
    where the topic was raised, and an accepted final report completes the unit's part.
    """
    with transaction(actor()) as session:
        implementation.review_report(session, node_context(), path.uid, path.report_id, body.decision, body.comment,
                                     actor())
        data = implementation.state(session, node_context(), path.uid)
    return json_response(data)


def list_assignments():
    """List assignments.

    Units' assignments on this node, overdue first then by deadline; a handling unit's user sees its own
    unit's only.
    """
    rows = implementation.list_assignments(get_session(), _scope())
    return json_response({"assignments": [a.as_dict(reports=False) for a in rows]})
