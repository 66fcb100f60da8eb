"""The page of 协商民主之家: /practices/consultation-homes/ lists the homes, their leads and members, and
each home's consultations this year (titles, days and links for signed-in users; how many for everyone)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, render_template

from shangliang.core.activities.views import status_label
from shangliang.core.db import get_session
from shangliang.core.web import auth

from . import services

bp = Blueprint(services.NAME, __name__, url_prefix="/practices/consultation-homes", template_folder="templates")


@bp.route("/")
def index():
    config = current_app.config
    year = dt.datetime.now(ZoneInfo(config.get("TIMEZONE") or "Asia/Shanghai")).year
    held = services.consultations(get_session(), config, dt.date(year, 1, 1), dt.date(year + 1, 1, 1))
    zone = ZoneInfo(config.get("TIMEZONE") or "Asia/Shanghai")
    rows = {name: [{"uid": a.uid, "title": a.title, "status": a.status,
                    "day": dt.datetime.fromtimestamp(a.starts_ms / 1000, zone).date().isoformat()} for a in found]
            for name, found in held.items()}
    return render_template("consultation_home/index.html", homes=services.settings(config).get("homes") or [],
                           min_members=services.MIN_MEMBERS, consultations=rows, year=year,
                           signed_in=auth.current_user() is not None, status_label=status_label)
