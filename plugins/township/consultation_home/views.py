"""The page of 协商民主之家: /practices/consultation-homes/ lists the homes, their leads and members."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

from . import services

bp = Blueprint(services.NAME, __name__, url_prefix="/practices/consultation-homes", template_folder="templates")


@bp.route("/")
def index():
    return render_template("consultation_home/index.html", homes=services.settings(current_app.config).get("homes") or [],
                           min_members=services.MIN_MEMBERS)
