"""The opinions JSON API (/api/v1/opinions): handlers that take the validated request, call one service and
answer JSON. The URL table and the documented answers are in ``blueprint.py``; the shapes in ``schemas.py``."""

from __future__ import annotations

from flask import url_for

from shangliang.core.context import node_context
from shangliang.core.db import get_session, transaction
from shangliang.core.web.api import actor, api_user, json_response

from . import services, statistics
from .schemas import (OpinionDecisionIn, OpinionEditIn, OpinionFromProposalIn, OpinionIn, OpinionIssueIn,
                      OpinionListQuery, OpinionPath, OpinionStatisticsQuery)


def _who() -> services.Who:
    return services.who_of(api_user())


def list_opinions(query: OpinionListQuery):
    """List social-opinion reports.

    The node's reports (社情民意信息), newest first, a page at a time; every user of the node reads them.
    """
    found = services.list_opinions(get_session(), _who(), query.status, query.year, query.limit, query.cursor)
    return json_response({"opinions": [services.summary(o) for o in found.items], "next_cursor": found.next_cursor})


def write_opinion(body: OpinionIn):
    """Write a social-opinion report.

    A member writes their own; the office writes a body's (sector, special committee, station) or a member's on
    their behalf — of this node (`member_no`) or of a committee above it (`author_node`, `author_name`,
    `member_no`: a county member writing through a township work station).
    """
    with transaction(actor()) as session:
        o = services.write(session, node_context(), body, _who(), actor())
        data = o.as_dict()
    return json_response({"opinion": data}, 201, {"Location": url_for("opinions_api.show_opinion", ref=data["ref"])})


def opinion_from_proposal(body: OpinionFromProposalIn):
    """Write a report from a proposal not filed.

    The office writes the report a proposal not filed (不立案) with the disposal `social_opinion` becomes: its
    title, reasons (as the sentiment), suggestions, category and year, its proposer as the author. The proposal
    keeps the report's id (its `opinion.ref`).
    """
    with transaction(actor()) as session:
        o = services.from_proposal(session, node_context(), body.proposal, _who(), actor())
        data = o.as_dict()
    return json_response({"opinion": data}, 201, {"Location": url_for("opinions_api.show_opinion", ref=data["ref"])})


def show_opinion(path: OpinionPath):
    """Show a social-opinion report.

    One report with its author and every decision on it, made here or told back down from the levels above.
    """
    return json_response({"opinion": services.get_opinion(get_session(), path.ref).as_dict()})


def edit_opinion(path: OpinionPath, body: OpinionEditIn):
    """Edit a report.

    The office edits a report's text before it is forwarded or set aside; the edit is recorded as an event.
    """
    with transaction(actor()) as session:
        o = services.edit(session, node_context(), path.ref, body, _who(), actor())
        return json_response({"opinion": o.as_dict()})


def decide_opinion(path: OpinionPath, body: OpinionDecisionIn):
    """Decide on a report.

    The office decides: `used` (采用 here), `forwarded` to the parent node (`x-opinions.forward`), `reported`
    to the party committee or government (报送, with the body), `not_used` (with the reason), `adopted` by a
    named body, or a leader's `instruction` (批示: leader, text, date). A decision on a report forwarded here is
    told back down (`x-opinions.decision`) to where it was written.
    """
    with transaction(actor()) as session:
        o, sent = services.decide(session, node_context(), path.ref, body, _who(), actor())
        return json_response({"opinion": o.as_dict(), "sent": sent}, 201)


def list_issues():
    """List the issues of the periodical.

    Every issue (期) the office compiled, newest first, with its reports.
    """
    return json_response({"issues": [i.as_dict() for i in services.list_issues(get_session())]})


def compile_issue(body: OpinionIssueIn):
    """Compile an issue.

    The office compiles reports into an issue (期) of its periodical, named by year and number (2026年第3期).
    """
    with transaction(actor()) as session:
        issue = services.compile_issue(session, node_context(), body, _who(), actor())
        return json_response({"issue": issue.as_dict()}, 201)


def opinion_statistics(query: OpinionStatisticsQuery):
    """Social-opinion report statistics.

    For a year: reports written, used, forwarded, reported, not used, adopted at any level and instructions —
    in total, per member, per node where decided, per level — and written, adopted and instructed per year.
    The page `/opinions/statistics` shows the same and downloads them as .xlsx (`?format=xlsx`).
    """
    return json_response(statistics.opinion_statistics(get_session(), node_context(), query.year))
