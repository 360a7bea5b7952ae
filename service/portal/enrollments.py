"""Enroll one patient, import a CSV, list enrollments, a patient's page, stop an enrollment."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from .. import db
from ..clinics import scope
from ..clinics.enroll import EnrollmentError, EnrollRequest, enroll, guess_timezone, stop
from ..clinics.lifecycle import sweep
from ..clinics.scope import visible_status
from ..clinics.series import load_series
from ..content.locales import KNOWN_LOCALES
from ..models import Clinic, EnrollmentMessage, OutboundMessage
from ..phones import InvalidPhone, to_e164
from ..statuses import LIVE_ENROLLMENTS, EnrollmentStatus, MessageStatus
from . import csv_import
from .blueprint import bp, clinic_id, now, own_enrollment
from .forms import ActionForm, EnrollForm, ImportForm
from .i18n import N_, _

ERRORS = {
    "consent_required": N_("Confirm that the patient agreed to get texts."),
    "invalid_phone": N_("That is not a valid phone number."),
    "unknown_locale": N_("Choose a language from the list."),
    "unknown_category": N_("Choose treatments from the list."),
    "unknown_timezone": N_("Unknown time zone. Use a name like America/New_York."),
    "bad_start_date": N_("The start date must be within the last year or the next 90 days."),
    "duplicate": N_("This patient is already enrolled."),
    "opted_out": N_("This number opted out of texts. Enroll it again after the patient texts START."),
    "bad_date": N_("Write the date as YYYY-MM-DD."),
    "duplicate_in_file": N_("This number is in the file twice."),
    "label_too_long": N_("The patient label has at most 40 characters."),
    "extra_fields": N_("This row has more fields than the header."),
}
# "Failed" is a message's status ("Envío fallido") and an enrollment's ("Fallida"): two texts.
STATUSES = {
    EnrollmentStatus.AWAITING_YES: N_("Awaiting YES"), EnrollmentStatus.ACTIVE: N_("Active"),
    EnrollmentStatus.COMPLETED: N_("Completed"), EnrollmentStatus.STOPPED: N_("Stopped"),
    EnrollmentStatus.FAILED: N_("Failed"), EnrollmentStatus.EXPIRED: N_("Expired"),
}
# Every status a clinic may see (a held text shows as queued: clinics.scope.visible_status).
MESSAGE_STATUSES = {
    MessageStatus.QUEUED: N_("Queued"), MessageStatus.SENDING: N_("Sending"), MessageStatus.SENT: N_("Sent"),
    MessageStatus.DELIVERED: N_("Delivered"), MessageStatus.UNDELIVERED: N_("Not delivered"),
    MessageStatus.FAILED: N_("Sending failed"), MessageStatus.CANCELLED: N_("Cancelled"),
}
STEPS = {"confirm": N_("Confirmation (reply YES)"), "welcome": N_("Welcome"), "catchup": N_("Catch-up summary"),
         "checkin": N_("Check-in"), "what": N_("what to expect"), "side": N_("side effects to report"),
         "ask": N_("a question to ask")}


def _catalog():
    return current_app.extensions["line"].renderer.catalog


def _locales() -> list[str]:
    # Languages offered now: with UNREVIEWED_LOCALES=off, one not yet reviewed is held back (service/reviews.py).
    return current_app.extensions["line"].renderer.offered_locales()


@bp.app_template_filter("category_label")
def _category_label(category: str) -> str:
    from .i18n import current_locale

    catalog = _catalog()
    key = f"topic.{category}.label"
    if key not in catalog.content.texts:
        return category
    return catalog.get(current_locale(), key)


@bp.app_template_filter("step_label")
def _step_label(step: str) -> str:
    """'hormone.side' -> 'Hormone therapy: side effects to report'; 'confirm' -> its name."""
    group, _dot, part = step.partition(".")
    if not part:
        return _(STEPS.get(step, step))
    if group == "common":
        return _category_label(part) if part == "trials" else _(STEPS.get(part, part))
    return f"{_category_label(group)}: {_(STEPS.get(part, part))}"


@bp.app_template_filter("status_label")
def _status_label(status: str) -> str:
    return _(STATUSES.get(status, status))


@bp.app_template_filter("message_status_label")
def _message_status_label(status: str) -> str:
    status = visible_status(status)
    return _(MESSAGE_STATUSES.get(status, status))


@bp.app_template_filter("language_name")
def _language_name(locale: str) -> str:
    return KNOWN_LOCALES.get(locale, locale).title()


def _error_text(exc: EnrollmentError) -> str:
    return _(ERRORS.get(exc.code, exc.message))


def _enroll_form() -> EnrollForm:
    form = EnrollForm()
    form.locale.choices = [(loc, _language_name(loc)) for loc in _locales()]
    form.categories.choices = [(c, _category_label(c)) for c in load_series().categories]
    return form


def _enroll_args() -> dict:
    return {"catalog": _catalog(), "locales": _locales(), "region": current_app.config["DEFAULT_REGION"]}


@bp.get("/")
@login_required
def index():
    return redirect(url_for("portal.enrollments"))


@bp.get("/enrollments")
@login_required
def enrollments():
    status = request.args.get("status") or None
    with db.transaction() as sess:
        sweep(sess, now(), clinic_id())
        rows = sess.execute(scope.enrollments(clinic_id(), status if status in STATUSES else None).limit(500)).all()
        counts = scope.status_counts(sess, clinic_id())
    return render_template("portal/enrollments.html", rows=rows, counts=counts, statuses=STATUSES,
                           status=status)


@bp.route("/enrollments/new", methods=["GET", "POST"])
@login_required
def enroll_one():
    form = _enroll_form()
    error, status = None, 200
    suggested_tz = None
    if form.validate_on_submit():
        req = EnrollRequest(phone=form.phone.data, locale=form.locale.data, categories=form.categories.data,
                            start_date=form.start_date.data, timezone=form.timezone.data or None,
                            consent=bool(form.consent.data), label=form.label.data or None)
        try:
            with db.transaction() as sess:
                clinic = sess.get(Clinic, clinic_id())
                enrollment = enroll(sess, clinic, req, actor=current_user.actor, source="portal", now=now(),
                                    **_enroll_args())
            return redirect(url_for("portal.enrollment", enrollment_id=enrollment.id, created=1))
        except EnrollmentError as exc:
            error, status = _error_text(exc), exc.http_status
            if exc.field and exc.field in form:
                form[exc.field].errors = [error]
    elif request.method == "POST":
        status = 400
    if form.phone.data:
        try:
            suggested_tz = guess_timezone(to_e164(form.phone.data, current_app.config["DEFAULT_REGION"]), "")
        except InvalidPhone:
            pass
    return render_template("portal/enroll.html", form=form, error=error, suggested_tz=suggested_tz), status


def _parse_date(raw: str) -> date | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    return date.fromisoformat(raw)


FILE_ERRORS = {
    "not_utf8": N_("The file is not UTF-8 text. Save it as CSV UTF-8."),
    "missing_columns": N_("The file needs the columns %(columns)s."),
    "empty": N_("The file has no patients."),
    "too_many": N_("The file has more than %(n)s rows. Split it into smaller files."),
    "unreadable": N_("Line %(line)s of the file could not be read as CSV."),
}


def _import_page_args() -> dict:
    """What the import page lists: the columns and every accepted language and treatment."""
    return {"columns": csv_import.REQUIRED + csv_import.OPTIONAL,
            "languages": [(loc, _language_name(loc)) for loc in _locales()],
            "treatments": [(c, _category_label(c)) for c in load_series().categories]}


@bp.get("/enrollments/import/template.csv")
@login_required
def import_template():
    return Response(csv_import.TEMPLATE, mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="mbc-guide-patients.csv"'})


@bp.route("/enrollments/import", methods=["GET", "POST"])
@login_required
def enroll_csv():
    """All rows or none: every row is checked in one transaction, which rolls back on any error."""
    form = ImportForm()
    report: list[tuple[str, str, str]] = []
    error, status, ignored = None, 200, []
    if form.validate_on_submit():
        parsed = csv_import.read(form.file.data.read())
        ignored = parsed.ignored
        if parsed.error:
            status = 422
            error = _(FILE_ERRORS[parsed.error], columns=", ".join(csv_import.REQUIRED), n=csv_import.MAX_ROWS,
                      line=parsed.error_line or 0)
        else:
            report, created = _import_rows(parsed.rows, consent=bool(form.consent.data))
            status = 422 if report else 200
            if not report:
                return redirect(url_for("portal.enrollments", imported=len(created),
                                        ignored=", ".join(ignored) or None))
    elif request.method == "POST":
        status = 400
    return render_template("portal/import.html", form=form, error=error, report=report, ignored=ignored,
                           **_import_page_args()), status


class _Rollback(Exception):
    pass


def _import_rows(rows: list[dict], consent: bool) -> tuple[list[tuple[str, str, str]], list[int]]:
    report: list[tuple[str, str, str]] = []
    created: list[int] = []
    seen: dict[str, str] = {}
    languages = csv_import.language_names(_locales())
    treatments = csv_import.category_names(_catalog(), list(load_series().categories))
    try:
        with db.transaction() as sess:
            clinic = sess.get(Clinic, clinic_id())
            for row in rows:
                number, phone = row["line"], row.get("phone", "")
                if csv_import.EXTRA in row:
                    report.append((number, phone, _(ERRORS["extra_fields"])))
                    continue
                try:
                    start = _parse_date(row.get("start_date", ""))
                except ValueError:
                    report.append((number, phone, _(ERRORS["bad_date"])))
                    continue
                key = _phone_key(phone)
                if key and key in seen:
                    report.append((number, phone, _(ERRORS["duplicate_in_file"])))
                    continue
                seen[key] = number
                language = row.get("language", "")
                req = EnrollRequest(phone=phone, locale=languages.get(csv_import.key(language), language),
                                    categories=csv_import.to_categories(row.get("categories", ""), treatments),
                                    start_date=start, timezone=row.get("timezone") or None, consent=consent,
                                    label=row.get("label") or None)
                try:
                    with sess.begin_nested():  # one bad row must not poison the checks of the next
                        enrollment = enroll(sess, clinic, req, actor=current_user.actor, source="csv",
                                            now=now(), **_enroll_args())
                    created.append(enrollment.id)
                except EnrollmentError as exc:
                    report.append((number, phone, _row_error(exc, req)))
            if report:
                raise _Rollback  # nothing half-imported
    except _Rollback:
        return report, []
    return report, created


def _row_error(exc: EnrollmentError, req: EnrollRequest) -> str:
    """The row's problem, naming what was written when it is a language or treatment."""
    if exc.code == "unknown_locale":
        return _("Unknown language \u201c%(value)s\u201d: use one from the list above.", value=req.locale)
    if exc.code == "unknown_category":
        unknown = [c for c in req.categories if c not in load_series().categories]
        if unknown:
            return _("Unknown treatment \u201c%(value)s\u201d: use one from the list above.", value=unknown[0])
    return _error_text(exc)


def _phone_key(raw: str) -> str:
    try:
        return to_e164(raw, current_app.config["DEFAULT_REGION"])
    except InvalidPhone:
        return ""


@bp.get("/enrollments/<int:enrollment_id>")
@login_required
def enrollment(enrollment_id: int):
    with db.transaction() as sess:
        sweep(sess, now(), clinic_id())
        item, phone = own_enrollment(sess, enrollment_id)
        messages = scope.enrollment_texts(sess, item)
        tasks = scope.enrollment_tasks(sess, clinic_id(), item.id)
    return render_template("portal/enrollment.html", item=item, phone=phone, messages=messages,
                           tasks=tasks, form=ActionForm(), created=request.args.get("created"))


@bp.get("/enrollments/<int:enrollment_id>/stop")
@login_required
def confirm_stop(enrollment_id: int):
    """Stopping cannot be undone (the patient would have to reply YES to a new enrollment): ask first."""
    with db.transaction() as sess:
        item, phone = own_enrollment(sess, enrollment_id)
        waiting = sess.scalar(sa.select(sa.func.count()).select_from(EnrollmentMessage)
                              .join(OutboundMessage, OutboundMessage.id == EnrollmentMessage.message_id)
                              .where(EnrollmentMessage.enrollment_id == item.id, OutboundMessage.status == MessageStatus.QUEUED))
    if item.status not in LIVE_ENROLLMENTS:
        return redirect(url_for("portal.enrollment", enrollment_id=enrollment_id))
    return render_template("portal/stop.html", item=item, phone=phone, waiting=waiting, form=ActionForm())


@bp.post("/enrollments/<int:enrollment_id>/stop")
@login_required
def stop_enrollment(enrollment_id: int):
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    with db.transaction() as sess:
        item, _phone = own_enrollment(sess, enrollment_id, lock=True)
        if stop(sess, item, actor=current_user.actor, now=now()):
            flash(_("Enrollment stopped. No more texts will be sent to this patient."), "notice")
    return redirect(url_for("portal.enrollment", enrollment_id=enrollment_id))
