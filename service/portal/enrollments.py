"""Enroll one patient, import a CSV, list enrollments, a patient's page, stop an enrollment."""

from __future__ import annotations

import csv
import io
from datetime import date

import sqlalchemy as sa
from flask import abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from .. import db
from ..clinics.enroll import EnrollmentError, EnrollRequest, enroll, guess_timezone, stop
from ..clinics.lifecycle import sweep
from ..clinics.schedule import visible_status
from ..clinics.series import load_series
from ..content.locales import KNOWN_LOCALES
from ..models import Clinic, Enrollment, EnrollmentMessage, FollowUpTask, OutboundMessage, Subscriber
from ..phones import InvalidPhone, to_e164
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
    "extra_fields": N_("This row has more fields than the header."),
}
STATUSES = {
    "awaiting_yes": N_("Awaiting YES"), "active": N_("Active"), "completed": N_("Completed"),
    "stopped": N_("Stopped"), "failed": N_("Failed"), "expired": N_("Expired"),
}
MESSAGE_STATUSES = {
    "queued": N_("Queued"), "sending": N_("Sending"), "sent": N_("Sent"), "delivered": N_("Delivered"),
    "undelivered": N_("Not delivered"), "failed": N_("Failed"), "cancelled": N_("Cancelled"),
}
STEPS = {"confirm": N_("Confirmation (reply YES)"), "welcome": N_("Welcome"), "catchup": N_("Catch-up summary"),
         "checkin": N_("Check-in"), "what": N_("what to expect"), "side": N_("side effects to report"),
         "ask": N_("a question to ask")}
CSV_COLUMNS = ("phone", "language", "categories")
CSV_OPTIONAL = ("start_date", "timezone")
MAX_ROWS = 1000
EXTRA, LINE = "\x00extra", "\x00line"  # keys no header can have: more fields than the header; line number


def _catalog():
    return current_app.extensions["line"].renderer.catalog


def _locales() -> list[str]:
    return list(current_app.extensions["line"].renderer.enabled_locales)


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
        query = (sa.select(Enrollment, Subscriber.phone)
                 .join(Subscriber, Subscriber.id == Enrollment.subscriber_id)
                 .where(Enrollment.clinic_id == clinic_id())
                 .order_by(Enrollment.id.desc()).limit(500))
        if status in STATUSES:
            query = query.where(Enrollment.status == status)
        rows = sess.execute(query).all()
        counts = dict(sess.execute(sa.select(Enrollment.status, sa.func.count())
                                   .where(Enrollment.clinic_id == clinic_id())
                                   .group_by(Enrollment.status)).all())
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
                            consent=bool(form.consent.data))
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


def _read_csv(data: bytes) -> tuple[list[dict], str | None]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return [], _("The file is not UTF-8 text. Save it as CSV UTF-8.")
    reader = csv.DictReader(io.StringIO(text), restkey=EXTRA)
    try:
        headers = [h.strip().lower() for h in (reader.fieldnames or [])]
        missing = [c for c in CSV_COLUMNS if c not in headers]
        if missing:
            return [], _("The file needs the columns %(columns)s.", columns=", ".join(CSV_COLUMNS))
        rows = []
        for row in reader:
            if len(rows) > MAX_ROWS:
                break
            extra = row.pop(EXTRA, None)
            clean = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
            if any((v or "").strip() for v in extra or ()):  # a trailing comma alone is harmless
                clean[EXTRA] = "1"
            if any(clean.values()):  # blank lines are skipped
                clean[LINE] = str(reader.line_num)
                rows.append(clean)
    except csv.Error:  # a field over csv's 128 KB limit: say where (the record's first line), echo nothing
        return [], _("Line %(n)s of the file could not be read as CSV.", n=reader.line_num + 1)
    if not rows:
        return [], _("The file has no patients.")
    if len(rows) > MAX_ROWS:
        return [], _("The file has more than %(n)s rows. Split it into smaller files.", n=MAX_ROWS)
    return rows, None


@bp.route("/enrollments/import", methods=["GET", "POST"])
@login_required
def enroll_csv():
    """All rows or none: every row is checked in one transaction, which rolls back on any error."""
    form = ImportForm()
    report: list[tuple[int, str, str]] = []
    error, status, created = None, 200, []
    if form.validate_on_submit():
        rows, error = _read_csv(form.file.data.read())
        if error:
            status = 422
        else:
            report, created = _import_rows(rows, consent=bool(form.consent.data))
            status = 422 if report else 200
            if not report:
                return redirect(url_for("portal.enrollments", imported=len(created)))
    elif request.method == "POST":
        status = 400
    return render_template("portal/import.html", form=form, error=error, report=report,
                           columns=CSV_COLUMNS + CSV_OPTIONAL), status


class _Rollback(Exception):
    pass


def _import_rows(rows: list[dict], consent: bool) -> tuple[list[tuple[int, str, str]], list[int]]:
    report: list[tuple[int, str, str]] = []
    created: list[int] = []
    seen: dict[str, int] = {}
    try:
        with db.transaction() as sess:
            clinic = sess.get(Clinic, clinic_id())
            for row in rows:
                number, phone = int(row[LINE]), row.get("phone", "")
                if EXTRA in row:
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
                req = EnrollRequest(phone=phone, locale=row.get("language", ""),
                                    categories=row.get("categories", "").replace(";", " ").replace(",", " ").split(),
                                    start_date=start, timezone=row.get("timezone") or None, consent=consent)
                try:
                    with sess.begin_nested():  # one bad row must not poison the checks of the next
                        enrollment = enroll(sess, clinic, req, actor=current_user.actor, source="csv",
                                            now=now(), **_enroll_args())
                    created.append(enrollment.id)
                except EnrollmentError as exc:
                    report.append((number, phone, _error_text(exc)))
            if report:
                raise _Rollback  # nothing half-imported
    except _Rollback:
        return report, []
    return report, created


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
        item = own_enrollment(sess, enrollment_id)
        sub = sess.get(Subscriber, item.subscriber_id)
        messages = sess.execute(
            sa.select(EnrollmentMessage.step, OutboundMessage)
            .join(OutboundMessage, OutboundMessage.id == EnrollmentMessage.message_id)
            .where(EnrollmentMessage.enrollment_id == item.id)
            .order_by(OutboundMessage.due_at, OutboundMessage.id)
        ).all()
        tasks = sess.scalars(sa.select(FollowUpTask).where(
            FollowUpTask.enrollment_id == item.id, FollowUpTask.clinic_id == clinic_id())
            .order_by(FollowUpTask.id.desc())).all()
    return render_template("portal/enrollment.html", item=item, phone=sub.phone, messages=messages,
                           tasks=tasks, form=ActionForm(), created=request.args.get("created"))


@bp.post("/enrollments/<int:enrollment_id>/stop")
@login_required
def stop_enrollment(enrollment_id: int):
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    with db.transaction() as sess:
        item = own_enrollment(sess, enrollment_id, lock=True)
        stop(sess, item, actor=current_user.actor, now=now())
    return redirect(url_for("portal.enrollment", enrollment_id=enrollment_id))
