"""Security headers and cookies (Flask-Talisman): a content security policy without inline or outside
script, no framing, no sniffing, a same-origin referrer; on a node whose public URL is https, Secure
cookies and HSTS. Every cookie the node sets is SameSite=Lax and HttpOnly."""

from __future__ import annotations

from urllib.parse import urlsplit

import flask
from flask_talisman import Talisman

#: Scripts and styles come only from this node; no page runs inline script. Inline style attributes
#: remain in a few templates (``white-space: pre-line``), so styles allow them; nothing else does.
POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self' 'unsafe-inline'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def https(app: flask.Flask) -> bool:
    return str(app.config.get("PUBLIC_URL") or "").startswith("https://")


def init_app(app: flask.Flask) -> None:
    secure = https(app)
    Talisman(app, force_https=False, strict_transport_security=secure,
             strict_transport_security_max_age=365 * 24 * 3600, strict_transport_security_include_subdomains=False,
             session_cookie_secure=secure, session_cookie_http_only=True, session_cookie_samesite="Lax",
             frame_options="DENY", content_security_policy=POLICY, referrer_policy="same-origin",
             x_content_type_options=True)


def local_redirect(target: str | None, fallback: str) -> str:
    """``target`` when it is a page of this node (same host, or a plain path), else ``fallback``: a
    Referer or ``next`` never sends a person elsewhere."""
    if not target:
        return fallback
    parts = urlsplit(target)
    if parts.scheme not in ("", "http", "https") or (parts.netloc and parts.netloc != flask.request.host):
        return fallback
    path = parts.path or "/"
    if not path.startswith("/") or path.startswith("//") or "\\" in path:
        return fallback
    return path + (f"?{parts.query}" if parts.query else "")
