"""The page of 五级联动: /practices/five-level/ — the county's to-coordinate list (统筹), for the office."""

from __future__ import annotations

import time

from flask import Blueprint, current_app, render_template
from shangliang.core.db import get_session
from shangliang.core.web import auth

from . import services

bp = Blueprint(services.NAME, __name__, url_prefix="/practices/five-level", template_folder="templates")
STAFF = frozenset({"admin", "office"})


@bp.route("/")
@auth.roles_required(STAFF)
def index():
    config = current_app.config
    settings = services.settings_of(config)
    session = get_session()
    rows = services.to_coordinate(session, config["NODE_ID"], int(time.time() * 1000), settings["waiting_days"])
    return render_template("five_level/index.html", rows=rows, coordinates=services.coordinates(config),
                           settings=settings,
                           problems=services.skipping_peers(session, config["NODE_ID"], config["NODE_LEVEL"]))
