"""The page of 委员工作站: /practices/work-station/ shows the head and the deputies by name."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

from shangliang.core.db import get_session

from . import services

bp = Blueprint(services.NAME, __name__, url_prefix="/practices/work-station", template_folder="templates")


@bp.route("/")
def index():
    station = services.station_report(get_session(), services.settings(current_app.config))
    return render_template("work_station/index.html", station=station)
