"""URL table of the core web interface."""

from flask import Blueprint

from . import views

bp = Blueprint("core", __name__, template_folder="../templates")
bp.app_context_processor(lambda: {"nav_items": views.nav_items})

bp.add_url_rule("/", "home", views.home)
bp.add_url_rule("/healthz", "healthz", views.healthz)
bp.add_url_rule("/login", "login", views.login, methods=["GET", "POST"])
bp.add_url_rule("/logout", "logout", views.logout, methods=["POST"])
bp.add_url_rule("/lang/<code>", "set_language", views.set_language)
