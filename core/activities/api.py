"""The activities JSON API (/api/v1/activities): handlers that take the validated request, call one service
and answer JSON. The URL table and the documented answers are in ``blueprint.py``; the shapes in ``schemas.py``."""

from __future__ import annotations

import flask
from flask import Response, url_for

from shangliang.core.context import node_context
from shangliang.core.db import get_session, transaction
from shangliang.core.web.api import actor, json_response

from . import services
from . import federation
from .schemas import (ActivityActionIn, ActivityIn, ActivityListQuery, ActivityMaterialPath, ActivityMaterialQuery,
                      ActivityOnlineOpinionIn, ActivityPath, ActivityRemoteActionIn, ActivityRemoteJoinAction,
                      ActivityRemotePath)
from .views import send_material, user_of


def list_activities(query: ActivityListQuery):
    """List activities.

    Consultation activities held on this node, the latest start first; a page at a time.
    """
    found = services.list_activities(get_session(), query.status, query.limit, query.cursor)
    return json_response({"activities": [a.as_dict(full=False) for a in found.items],
                          "next_cursor": found.next_cursor})


def create_activity(body: ActivityIn):
    """Plan an activity.

    Plan a consultation activity (协商活动) in one of the node's consultation forms, on topics held here
    (determined, researching or consulting); it starts `planned`.
    """
    with transaction(actor()) as session:
        activity = services.create(session, node_context(), body, actor())
        data = services.show(node_context(), activity)
    return json_response({"activity": data, "participation": None}, 201,
                         {"Location": url_for("activities_api.show_activity", uid=activity.uid)})


def show_activity(path: ActivityPath):
    """Show an activity.

    One activity with its topics, invitations and replies, attendance, materials, research, opinions (with
    their moderation), consensus and minutes.
    """
    return json_response(services.show(node_context(), services.get_activity(get_session(), path.uid)))


def act_on_activity(path: ActivityPath, body: ActivityActionIn):
    """Act on an activity.

    One action (`invite`, `invite_level` — a higher level, over signed messages —, `reply`, `attend`, `research`, `opinion`, `open_window`, `close_window`, `moderate`,
    `consensus`, `minutes`, `close`, `cancel`) in one transaction, after the practice's guards
    (`activity_guard`); on any refusal nothing is stored. Closing answers each member's participation.
    """
    with transaction(actor()) as session:
        answer = services.act(session, node_context(), path.uid, body.root, actor()).as_dict(node_context())
    return json_response(answer)


def post_opinion(path: ActivityPath, body: ActivityOnlineOpinionIn):
    """Post an opinion online.

    网络协商: a signed-in member or person of the public posts an opinion while the activity's online window
    is open; outside the window it is refused and nothing is stored.
    """
    with transaction(actor()) as session:
        opinion = services.post_online(session, node_context(), path.uid, body.text, user_of(flask.g.api_user),
                                       actor())
        data = opinion.as_dict()
    return json_response({"opinion": data}, 201)


def add_material(path: ActivityPath, query: ActivityMaterialQuery):
    """Add a material.

    Send a material beforehand: the body is the file's raw bytes, kept on this node as topic attachments are.
    """
    request = flask.request
    content = services.read_upload(request.stream.read, request.content_length, flask.current_app.config)
    with transaction(actor()) as session:
        (added,) = services.add_materials(session, node_context(), path.uid, [(query.name, content)], actor())
        data = added.as_dict()
    return json_response({"material": data}, 201)


def download_material(path: ActivityMaterialPath):
    """Download a material.

    The file's bytes (`Content-Disposition: attachment` with its name).
    """
    found, file_path = services.material_file(get_session(), node_context(), path.uid, path.sha256)
    return send_material(found, file_path)


def calendar():
    """The activities as iCalendar.

    Every activity of this node as an iCalendar file (RFC 5545, `text/calendar`), for calendar programs.
    """
    return Response(services.calendar(get_session(), node_context()), mimetype="text/calendar",
                    headers={"Content-Disposition": 'attachment; filename="activities.ics"'})


def list_remote():
    """List the activities of lower levels.

    The activities of nodes below this one that this level was invited to (`x-activities.invite`), joined or
    asked to join, with what their hosts' updates told: status, this level's participants and opinions as
    recorded, the consensus, the minutes.
    """
    return json_response({"activities": federation.remote_list(get_session(), node_context())})


def show_remote(path: ActivityRemotePath):
    """Show an activity of a lower level.

    One activity of a node below this one, as this level knows it from the messages exchanged.
    """
    return json_response(federation.remote(get_session(), node_context(), path.uid))


def act_on_remote(path: ActivityRemotePath, body: ActivityRemoteActionIn):
    """Join an activity of a lower level, or send opinions to it.

    `join`: accept an invitation (`mode` `accept`) or ask to join (`ask`) with this level's participants;
    `send_opinions`: this level's opinions, once it has joined. Each is one signed message down to the host,
    relayed by the nodes between, written in this transaction; on any refusal nothing is sent.
    """
    action = body.root
    node = node_context()
    with transaction(actor()) as session:
        if isinstance(action, ActivityRemoteJoinAction):
            sent = federation.join(session, node, path.uid, action.mode, [p.model_dump() for p in action.participants],
                                   action.note or "", actor())
        else:
            sent = federation.send_opinions(session, node, path.uid, [o.model_dump() for o in action.opinions],
                                            actor())
        data = federation.remote(session, node, path.uid)
    return json_response({"sent": sent, "activity": data})
