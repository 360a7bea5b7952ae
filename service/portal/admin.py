"""A clinic admin's own clinic's credentials: staff accounts (deactivate, activate) and API
tokens (create, shown once; revoke). Issue 17: none of this needed SQL any more."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, redirect, render_template, url_for
from flask_login import current_user, login_required

from .. import db
from ..clinics import MAX_ID
from ..clinics.accounts import create_token, revoke_token, set_active, staff_of, tokens_of
from ..clinics.enroll import audit
from ..models import Clinic, StaffUser
from .blueprint import bp, clinic_id, now
from .forms import ActionForm, TokenForm


def _admin_only() -> None:
    if not current_user.is_admin:
        abort(403)


def _valid_post() -> None:
    _admin_only()
    if not ActionForm().validate_on_submit():
        abort(400)


@bp.get("/admin/staff")
@login_required
def admin_staff():
    _admin_only()
    with db.transaction() as sess:
        rows = [user for user, _name in staff_of(sess, clinic_id())]
    return render_template("portal/admin_staff.html", rows=rows, form=ActionForm())


def _change_staff(staff_id: int, active: bool):
    _valid_post()
    if not 1 <= staff_id <= MAX_ID:
        abort(404)
    if staff_id == current_user.id and not active:
        abort(409)  # an admin cannot lock themselves out; another admin or the CLI can
    with db.transaction() as sess:
        user = sess.scalars(sa.select(StaffUser).where(StaffUser.id == staff_id, StaffUser.clinic_id == clinic_id())
                            .with_for_update()).one_or_none()
        if user is None:
            abort(404)
        set_active(sess, user, active, now(), current_user.actor)
    return redirect(url_for("portal.admin_staff"))


@bp.post("/admin/staff/<int:staff_id>/deactivate")
@login_required
def deactivate_staff(staff_id: int):
    return _change_staff(staff_id, False)


@bp.post("/admin/staff/<int:staff_id>/activate")
@login_required
def activate_staff(staff_id: int):
    return _change_staff(staff_id, True)


def _tokens_page(form: TokenForm, new_token: str | None = None, status: int = 200):
    with db.transaction() as sess:
        rows = [row for row, _name in tokens_of(sess, clinic_id())]
    return render_template("portal/admin_tokens.html", rows=rows, form=form, action=ActionForm(),
                           new_token=new_token), status


@bp.get("/admin/tokens")
@login_required
def admin_tokens():
    _admin_only()
    return _tokens_page(TokenForm())


@bp.post("/admin/tokens")
@login_required
def create_api_token():
    """The new token is in this response only (portal pages are Cache-Control: no-store)."""
    _admin_only()
    form = TokenForm()
    if not form.validate_on_submit():
        return _tokens_page(form, status=400)
    with db.transaction() as sess:
        clinic = sess.get(Clinic, clinic_id())
        row, token = create_token(sess, clinic, form.name.data.strip(), now=now())
        audit(sess, clinic.id, current_user.actor, "create_token", now(), detail=f"token {row.prefix}... ({row.name})")
    return _tokens_page(TokenForm(formdata=None), new_token=token, status=201)


@bp.post("/admin/tokens/<int:token_id>/revoke")
@login_required
def revoke_api_token(token_id: int):
    _valid_post()
    if not 1 <= token_id <= MAX_ID:
        abort(404)
    with db.transaction() as sess:
        if revoke_token(sess, token_id, now(), current_user.actor, clinic_id=clinic_id()) is None:
            abort(404)
    return redirect(url_for("portal.admin_tokens"))
