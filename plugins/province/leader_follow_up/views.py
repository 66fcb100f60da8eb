"""The page of 领导包抓: /practices/leader-follow-up/ lists the leaders and what each follows."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template
from shangliang.core.db import get_session
from shangliang.core.web import auth

from . import services

bp = Blueprint(services.NAME, __name__, url_prefix="/practices/leader-follow-up", template_folder="templates")


@bp.route("/")
@auth.login_required
def index():
    found = services.leaders_of(current_app.config)
    return render_template("leader_follow_up/index.html", rows=services.follow_up_rows(found),
                           problems=services.check_against_node(get_session(), found))
