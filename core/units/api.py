"""The units JSON API (/api/v1/units): handlers that take the validated request, call one service and answer
JSON. The URL table and the documented answers are in ``blueprint.py``; the shapes in ``schemas.py``."""

from __future__ import annotations

import flask
from flask import url_for
from shangliang.core.db import get_session, transaction
from shangliang.core.errors import ImportRowError
from shangliang.core.web.api import actor, api_user, error_response, json_response
from werkzeug.exceptions import Forbidden

from . import services
from .schemas import UnitIn, UnitListQuery, UnitPath, UnitUpdate


def _readable(session, ref: str):
    unit = services.get_unit(session, ref)
    if not services.may_read(session, api_user(), unit):
        raise Forbidden("a handling unit's user reads only the unit it acts for")
    return unit


def list_units(query: UnitListQuery):
    """List handling units.

    The handling units (承办单位) this node works with, the newest first; a page at a time. The office and
    admins see every unit, a handling unit's user only the unit it acts for.
    """
    session = get_session()
    seen = services.readable_by(session, api_user())
    if seen is None:
        return json_response({"units": [], "next_cursor": None})
    found = services.page_units(session, query.limit, query.cursor, None if seen is True else seen,
                                bool(query.active))
    return json_response({"units": [services.detail(u) for u in found.items], "next_cursor": found.next_cursor})


def create_unit(body: UnitIn):
    """Add a handling unit.

    Add a unit with its kind, phone and contacts (users with the role `handling_unit`, each acting for one
    unit). The name is unique on this node and cannot be only digits (a number refers to an id).
    """
    with transaction(actor()) as session:
        unit = services.add_unit(session, body.name, body.kind, body.phone, body.contacts)
        data = services.detail(unit)
    return json_response({"unit": data}, 201, {"Location": url_for("units_api.show_unit", ref=str(data["id"]))})


def show_unit(path: UnitPath):
    """Show a handling unit.

    The unit by its id or its name, with its contacts.
    """
    return json_response({"unit": services.detail(_readable(get_session(), path.ref))})


def update_unit(path: UnitPath, body: UnitUpdate):
    """Change a handling unit.

    Change what the body gives: name, kind, phone, active, or the whole list of contacts.
    """
    with transaction(actor()) as session:
        unit = services.update_unit(session, path.ref, body.name, body.kind, body.phone, body.active, body.contacts)
        data = services.detail(unit)
    return json_response({"unit": data})


def import_units():
    """Import handling units from CSV.

    The body is a UTF-8 CSV file (`Content-Type: text/csv`) with a header row: `name`, `kind` and optionally
    `phone` and `contacts` (user names separated by `;`). All or nothing: a file with bad lines is refused
    with every bad line listed beside the error body, in `problems` (each `line` and `message`, at most 50),
    and nothing is imported.
    """
    data = flask.request.get_data()
    try:
        with transaction(actor()) as session:
            units = services.import_units_text(session, data, "units.csv")
            rows = [services.detail(u) for u in units]
    except ImportRowError as exc:
        response = error_response(400, "invalid_input", str(exc), "file")
        body = response.get_json()
        problems = getattr(exc, "problems", None) or [(exc.line, str(exc))]
        body["problems"] = [{"line": line, "message": message} for line, message in problems]
        return json_response(body, 400)
    return json_response({"imported": len(rows), "units": rows}, 201)
