"""The clinic's own settings (its time zone) and how the portal shows times and codes.

Every time in the portal is shown in the clinic's time zone, with the zone's abbreviation; a
patient's own local time is added where their zone differs. Stored codes (task status, why an
enrollment ended, audit actions) are shown in the nurse's language, never raw.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import abort, flash, g, redirect, render_template, url_for
from flask_login import current_user, login_required

from .. import db
from ..clinics.enroll import audit
from ..models import Clinic
from ..phones import known_zone
from ..statuses import TaskStatus
from .blueprint import bp, clinic_id, now
from .forms import ClinicForm
from .i18n import N_, _

TASK_STATUSES = {TaskStatus.OPEN: N_("Open"), TaskStatus.CLOSED: N_("Closed")}
END_REASONS = {
    "stopped_by_clinic": N_("stopped by the clinic"), "opted_out": N_("the patient texted STOP"),
    "series_sent": N_("every text was sent"), "no_yes": N_("no YES within the time allowed"),
    "confirmation_undelivered": N_("the confirmation text could not be delivered"),
}
AUDIT_ACTIONS = {
    "enroll": N_("Enrolled a patient"), "stop": N_("Stopped an enrollment"), "confirm": N_("Patient replied YES"),
    "checkin": N_("Patient answered the check-in"), "red_flag": N_("Red-flag text"),
    "opt_out": N_("Patient texted STOP"), "close_task": N_("Closed a task"), "sign_in": N_("Signed in"),
    "set_timezone": N_("Changed the clinic's time zone"),
}
# Offered first on the settings page (any IANA name is accepted).
COMMON_ZONES = ("America/New_York", "America/Chicago", "America/Denver", "America/Phoenix", "America/Los_Angeles",
                "America/Anchorage", "Pacific/Honolulu", "America/Puerto_Rico")


def clinic_zone() -> ZoneInfo:
    """The signed-in clinic's zone, read once per request."""
    zone = g.get("clinic_zone")
    if zone is None:
        with db.transaction() as sess:
            name = sess.scalar(sa.select(Clinic.timezone).where(Clinic.id == clinic_id()))
        zone = g.clinic_zone = _zone(name) or ZoneInfo("UTC")
    return zone


def _zone(name: str | None) -> ZoneInfo | None:
    return ZoneInfo(name) if name and known_zone(name) else None


@bp.app_template_filter("local")
def local_time(moment: datetime | None, zone: str | None = None, seconds: bool = False) -> str:
    """'2026-12-07 09:15 PST' in the clinic's zone (or `zone`); '-' for no time."""
    if moment is None:
        return "-"
    tz = _zone(zone) if zone else clinic_zone()
    return moment.astimezone(tz or clinic_zone()).strftime("%Y-%m-%d %H:%M:%S %Z" if seconds else "%Y-%m-%d %H:%M %Z")


@bp.app_template_global("patient_time")
def patient_time(moment: datetime | None, zone: str | None) -> str:
    """' · 12:15 EST for the patient' where the patient's zone tells a different hour, else ''."""
    tz = _zone(zone)
    if moment is None or tz is None:
        return ""
    if moment.astimezone(tz).utcoffset() == moment.astimezone(clinic_zone()).utcoffset():
        return ""
    return _("%(time)s for the patient", time=moment.astimezone(tz).strftime("%H:%M %Z"))


@bp.app_template_filter("task_status_label")
def _task_status_label(status: str) -> str:
    return _(TASK_STATUSES.get(status, status))


@bp.app_template_filter("end_reason_label")
def _end_reason_label(reason: str | None) -> str:
    return _(END_REASONS.get(reason, reason)) if reason else ""


@bp.app_template_filter("audit_action_label")
def _audit_action_label(action: str) -> str:
    return _(AUDIT_ACTIONS.get(action, action))


@bp.route("/clinic", methods=["GET", "POST"])
@login_required
def clinic_settings():
    """The clinic's time zone: every time in the portal is shown in it (clinic admins change it)."""
    if not current_user.is_admin:
        abort(403)
    form = ClinicForm()
    status = 200
    with db.transaction() as sess:
        clinic = sess.get(Clinic, clinic_id())
        if form.validate_on_submit():
            name = form.timezone.data.strip()
            if _zone(name) is None:
                form.timezone.errors = [_("Unknown time zone. Use a name like America/New_York.")]
                status = 422
            else:
                if name != clinic.timezone:
                    audit(sess, clinic.id, current_user.actor, "set_timezone", now(), None,
                          f"{clinic.timezone} -> {name}")
                    clinic.timezone = name
                flash(_("Saved. Times are now shown in %(zone)s.", zone=name), "notice")
                return redirect(url_for("portal.clinic_settings"))
        elif form.is_submitted():
            status = 400
        else:
            form.timezone.data = clinic.timezone
        clinic_name = clinic.name
    return render_template("portal/clinic.html", form=form, clinic_name=clinic_name, zones=COMMON_ZONES), status
