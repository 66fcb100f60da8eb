"""The topics JSON API (/api/v1/topics): handlers that take the validated request, call one service and
answer JSON. The URL table and the documented answers are in ``blueprint.py``; the shapes in ``schemas.py``."""

from __future__ import annotations

import flask
from flask import url_for

from shangliang.core.context import node_context
from shangliang.core.db import get_session, transaction
from shangliang.core.web.api import actor, json_response

from . import services
from .schemas import ActionIn, AttachmentPath, AttachQuery, TopicIn, TopicListQuery, TopicPath
from .views import send_attachment


def list_topics(query: TopicListQuery):
    """List topics.

    Topics known on this node, overdue first, then the most recently changed; a page at a time.
    """
    found = services.list_topics(get_session(), query.stage, query.holder, query.limit, query.cursor)
    return json_response({"topics": [t.as_dict() for t in found.items], "next_cursor": found.next_cursor})


def create_topic(body: TopicIn):
    """Raise a topic.

    Raise a topic here (收集议题): stage `collected`, held by this node; the answer carries the routing
    suggestion — where the matter belongs and what this node should do about it (staff decide).
    """
    with transaction(actor()) as session:
        topic, suggestion = services.raise_topic(session, node_context(), body, actor())
        data = topic.as_dict(events=True)
    return json_response({"topic": data, "suggestion": suggestion.as_dict()}, 201,
                         {"Location": url_for("topics_api.show_topic", uid=topic.uid)})


def show_topic(path: TopicPath):
    """Show a topic.

    One topic with its history, the routing suggestion and its route, every hop re-verified now.
    """
    session = get_session()
    return json_response(services.show(session, node_context(), services.get_topic(session, path.uid)))


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
    found, file_path = services.attachment_file(get_session(), node_context(), path.uid, path.sha256)
    return send_attachment(found, file_path)
