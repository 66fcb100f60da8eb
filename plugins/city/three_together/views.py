"""The page of 三个一起: /practices/three-together/ shows a year's counts against the targets."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request

from shangliang.core.db import get_session
from shangliang.core.web import auth

from . import services

bp = Blueprint(services.NAME, __name__, url_prefix="/practices/three-together", template_folder="templates")


@bp.route("/")
@auth.login_required
def index():
    config = current_app.config
    year = request.args.get("year", type=int)
    if year is None or not 1949 <= year <= 2999:
        year = services.this_year(config)
    found = services.report(get_session(), config, services.settings(config), year)
    return render_template("three_together/index.html", report=found)
