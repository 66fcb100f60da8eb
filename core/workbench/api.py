"""The workbench JSON API (/api/v1/me/…): what waits for the user asking, and their inbox. Handlers take the
validated request, call one service and answer JSON; the URL table is in ``blueprint.py``."""

from __future__ import annotations

from shangliang.core.context import node_context
from shangliang.core.db import get_session, transaction
from shangliang.core.plugins import get_plugin_manager
from shangliang.core.web.api import actor, api_user, error_response, json_response

from . import services
from .schemas import InboxQuery, InboxReadIn

MARK_AT_ONCE = 200


def show_workbench():
    """What waits for you.

    Every kind of work waiting for the user asking on this node, most urgent first: for the office the topics
    to accept, overdue topics, units' reports, proposals to review, reports to decide, plans awaiting approval;
    for a member their proposals, invitations and reports; for a handling unit what is assigned to it. Each
    with its count, the first few entries and the page where it is done; labels in the asker's language.
    """
    session, user = get_session(), api_user()
    items = services.collect(get_plugin_manager(), session, user, node_context())
    return json_response({"items": [i.as_dict() for i in items], "unread": services.unread_count(session, user)})


def list_inbox(query: InboxQuery):
    """Your notifications.

    The notifications addressed to you or to your role, newest first (at most 50); a notification to a role
    is the role's shared in-tray.
    """
    session, user = get_session(), api_user()
    found = services.inbox(session, user, unread_only=bool(query.unread))
    return json_response({"notifications": [services.as_dict(n) for n in found],
                          "unread": services.unread_count(session, user)})


def mark_read(body: InboxReadIn):
    """Mark notifications read.

    The notifications given by id, or every one with `all`; an id not in your inbox refuses the whole request
    (404) and marks nothing.
    """
    if not body.all and not body.ids:
        return error_response(400, "invalid_input", "give the ids to mark read, or all: true", "ids")
    if len(body.ids) > MARK_AT_ONCE:
        return error_response(400, "invalid_input", f"at most {MARK_AT_ONCE} ids at once", "ids")
    user = api_user()
    with transaction(actor()) as session:
        if body.all:
            marked = services.mark_read(session, user)
        else:
            marked = sum(services.mark_read(session, user, i) for i in dict.fromkeys(body.ids))
        unread = services.unread_count(session, user)
    return json_response({"marked": marked, "unread": unread})
