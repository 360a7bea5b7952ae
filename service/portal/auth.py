"""Sign in (throttled per email and IP address), sign out (everywhere), portal language."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from flask import redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from .. import db
from ..clinics.accounts import authenticate, end_sessions, throttled
from ..clinics.enroll import audit
from ..models import StaffUser
from .blueprint import SIGNED_IN_AT, PortalUser, bp, now
from .forms import ActionForm, LoginForm
from .i18n import LOCALES, _

log = logging.getLogger(__name__)


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never an open redirect to somewhere else, and never a header
    a control character would break (a newline in next= was a 500); else the portal home."""
    if (target and target.startswith("/portal") and "\\" not in target and target.isprintable()
            and len(target) <= 2000 and not urlsplit(target).netloc):
        return target
    return url_for("portal.enrollments")


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    error, status = None, 200
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        ip = request.remote_addr or "-"
        with db.transaction() as sess:
            if throttled(sess, email, ip, now()):
                error, status = _("Too many failed attempts. Try again in 15 minutes."), 429
                user = None
            else:
                user = authenticate(sess, email, form.password.data, ip, now())
                if user is None:
                    error, status = _("Wrong email or password."), 401
                else:
                    audit(sess, user.clinic_id, f"staff:{user.email}", "sign_in", now())
        if user is not None:
            lang = session.get("portal_lang")
            session.clear()  # a fresh session on sign-in: no fixation of a pre-login cookie
            if lang:
                session["portal_lang"] = lang
            session.permanent = True
            session[SIGNED_IN_AT] = int(now().timestamp())  # the 12-hour limit counts from here
            login_user(PortalUser(user))
            return redirect(_safe_next(request.args.get("next")))
        log.info("portal sign-in refused (%s)", "throttled" if status == 429 else "bad credentials")
    elif request.method == "POST":
        status = 400
    return render_template("portal/login.html", form=form, error=error), status


@bp.post("/logout")
@login_required
def logout():
    if ActionForm().validate_on_submit():
        with db.transaction() as sess:  # every cookie of this account stops working, copies too
            row = sess.get(StaffUser, current_user.id)
            if row is not None:
                end_sessions(row)
        logout_user()
        session.clear()
    return redirect(url_for("portal.login"))


@bp.get("/lang/<locale>")
def set_language(locale: str):
    if locale in LOCALES:
        session["portal_lang"] = locale
    return redirect(_safe_next(request.args.get("next")) if current_user.is_authenticated
                    else url_for("portal.login"))
