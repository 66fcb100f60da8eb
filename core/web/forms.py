"""Page forms that take effect once (``core.once``): every form carries ``{{ once_field() }}``, and its view
runs its unit of work through :func:`run_once`, so a double click applies the change once and both
clicks see the first outcome."""

from __future__ import annotations

from typing import Callable

import flask
from markupsafe import Markup
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .. import once
from ..db import get_session, transaction

# A unit of work of a form: change what the form asks for and say how it went,
# as (flash category, message, the URL to show next).
Work = Callable[[Session], tuple[str, str, str]]


def init_app(app: flask.Flask) -> None:
    app.add_template_global(once_field)


def once_field() -> Markup:
    """The hidden field of a form's one-time token (a new one each time the page is drawn)."""
    return Markup('<input type="hidden" name="{}" value="{}">').format(once.FIELD, once.new_token())


def run_once(actor: str, work: Work) -> flask.Response:
    """Run ``work`` in a write transaction, unless this form was sent before; flash its message and redirect.
    A refusal ``work`` raises propagates (nothing is stored and the token stays unspent)."""
    token = flask.request.form.get(once.FIELD)
    try:
        with transaction(actor) as session:
            first = once.earlier(session, token)
            if first is None:
                row = once.spend(session, token)
                category, message, url = work(session)
                once.record(row, {"category": category, "message": message, "url": url})
    except IntegrityError:
        # PostgreSQL: the same token was spent by a submission that committed while this one waited.
        session = get_session()
        session.rollback()
        first = once.earlier(session, token)
        if first is None:
            raise
    if first is not None:
        category, message, url = first["category"], first["message"], first["url"]
    flask.flash(message, category)
    return flask.redirect(url, 303)
