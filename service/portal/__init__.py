"""The clinic portal (/portal): server-rendered pages for clinic staff.

Flask-Login sessions in secure, HTTP-only, SameSite cookies that name the account's session token,
so sign-out and a password change end every copy of them (docs/clinics.md, "Portal security");
Flask-WTF forms, so every POST checks a CSRF token; every query is limited to the signed-in
user's clinic.
"""

from __future__ import annotations

import hmac
from datetime import timedelta

from flask import Flask, current_app, session
from flask_login import LoginManager

from .. import db
from ..models import StaffUser


def init_app(app: Flask) -> None:
    from . import admin, auth, clinic, dashboard, enrollments, review, tasks  # noqa: F401 - registers the views
    from .blueprint import SIGNED_IN_AT, PortalUser, bp, session_expired

    production = app.config["APP_ENV"] == "production"
    # Flask's own defaults are lax (no Secure, no SameSite, 31-day sessions): set them outright.
    app.config.update(
        SESSION_COOKIE_SECURE=production,  # development and tests run on plain http://localhost
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=production,
        REMEMBER_COOKIE_HTTPONLY=True,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=8),
        WTF_CSRF_TIME_LIMIT=8 * 3600,
    )
    if not app.config.get("MAX_CONTENT_LENGTH"):
        app.config["MAX_CONTENT_LENGTH"] = 2 * 1024 * 1024  # CSV uploads; far above any webhook

    login = LoginManager()
    login.login_view = "portal.login"
    login.login_message = None  # the login page says enough; no untranslated flash
    login.session_protection = "strong"

    @login.user_loader
    def _load(user_id: str):
        # "<id>:<session token>" (PortalUser.get_id): a cookie from before the last sign-out or
        # password change, copied or not, names a token the account no longer has.
        staff_id, _, token = user_id.partition(":")
        if not staff_id.isdigit() or len(staff_id) > 18 or not token:
            return None
        if session_expired(session.get(SIGNED_IN_AT), current_app.extensions["clock"]()):
            return None
        # A short transaction of its own: on SQLite every transaction holds the write lock, so a
        # request-long session would block the view's own transaction.
        with db.transaction() as sess:
            row = sess.get(StaffUser, int(staff_id))
            if row is None or not row.active or not row.session_token:
                return None
            if not hmac.compare_digest(row.session_token.encode(), token.encode()):
                return None
            return PortalUser(row)

    login.init_app(app)
    # Flask-Login refreshes its remember-me cookie after every response of the whole app. Only the
    # portal signs anyone in, so the hook runs for the portal alone: every Twilio webhook paid
    # about 14 µs for it (and touched the session, which added "Vary: Cookie" to TwiML).
    app.after_request_funcs[None].remove(login._update_remember_cookie)
    app.after_request_funcs.setdefault(bp.name, []).append(login._update_remember_cookie)  # bp is shared by apps

    app.register_blueprint(bp)
