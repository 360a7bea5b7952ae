"""/api/v1/enrollments: create, list, get, stop. Every query is limited to the token's clinic.

Errors are JSON: {"error": {"code": ..., "message": ..., "field": ...}} with a 4xx status.
"""

from __future__ import annotations

import functools
from datetime import date

from flask import Blueprint, current_app, g, jsonify, request
from werkzeug.exceptions import HTTPException

from .. import db
from ..clinics import scope
from ..clinics.accounts import find_token
from ..clinics.enroll import EnrollmentError, EnrollRequest, enroll, stop
from ..clinics.lifecycle import sweep
from ..models import Clinic, Enrollment, Subscriber
from ..pages import html_error
from ..statuses import EnrollmentStatus
from .openapi import document

bp = Blueprint("api", __name__, url_prefix="/api/v1")
MAX_LIMIT = 200
STATUSES = tuple(EnrollmentStatus)
QUERY_PARAMETERS = {"list_enrollments": {"status", "limit", "before_id"}}


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, field: str | None = None, **extra):
        super().__init__(message)
        self.status, self.code, self.message, self.field, self.extra = status, code, message, field, extra


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError):
    body = {"code": exc.code, "message": exc.message}
    if exc.field:
        body["field"] = exc.field
    body.update(exc.extra)
    response = jsonify(error=body)
    response.status_code = exc.status
    if exc.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="mbc-guide"'
    return response


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    response = jsonify(error={"code": exc.name.lower().replace(" ", "_"), "message": exc.description})
    response.status_code = exc.code or 500
    allow = dict(exc.get_headers()).get("Allow")
    if allow:
        response.headers["Allow"] = allow
    return response


def json_routing_error(exc: HTTPException):
    if request.path.startswith("/api/"):
        return _http_error(exc)
    return html_error(exc)  # a styled page for browsers (service/pages.py)


def _now():
    return current_app.extensions["clock"]()


def token_required(view):
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(401, "unauthorized", "send Authorization: Bearer <token>")
        with db.transaction() as sess:
            row = find_token(sess, token.strip())
            if row is None:
                raise ApiError(401, "unauthorized", "unknown or revoked token")
            row.last_used_at = _now()
            g.api_clinic_id, g.api_actor = row.clinic_id, f"token:{row.prefix}"
        unknown = set(request.args) - QUERY_PARAMETERS.get(view.__name__, set())
        if unknown:  # a typo such as ?statuss=active must not silently list everything
            raise ApiError(422, "unknown_parameter", f"unknown query parameter {sorted(unknown)[0]!r}")
        return view(*args, **kwargs)

    return wrapper


def _messages(sess, enrollment: Enrollment) -> list[dict]:
    return [{"step": step, "topic": m.topic, "locale": m.locale, "status": scope.visible_status(m.status),
             "due_at": _iso(m.due_at), "sent_at": _iso(m.sent_at), "error_code": m.error_code}
            for step, m in scope.enrollment_texts(sess, enrollment)]


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def serialize(item: Enrollment, phone: str, messages: list[dict] | None = None) -> dict:
    body = {
        "id": item.id, "phone": phone, "locale": item.locale, "categories": item.categories.split(),
        "timezone": item.timezone, "start_date": item.start_date.isoformat(), "status": item.status,
        "source": item.source, "created_at": _iso(item.created_at), "expires_at": _iso(item.expires_at),
        "confirmed_at": _iso(item.confirmed_at), "ended_at": _iso(item.ended_at), "ended_reason": item.ended_reason,
    }
    if messages is not None:
        body["messages"] = messages
    return body


def _own(sess, enrollment_id: int, lock: bool = False) -> tuple[Enrollment, str]:
    found = scope.own_enrollment(sess, g.api_clinic_id, enrollment_id, lock=lock)
    if found is None:
        raise ApiError(404, "not_found", "no such enrollment")
    return found


def _field(data: dict, name: str, kind, required: bool = True):
    value = data.get(name)
    if value is None:
        if required:
            raise ApiError(422, "missing_field", f"{name} is required", name)
        return None
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ApiError(422, "invalid_field", f"{name} has the wrong type", name)
    return value


def _request_from_json() -> EnrollRequest:
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # JSON nested deeper than Python's parser recurses: a 400, not a 500
        raise ApiError(400, "invalid_json", "the JSON body is nested too deeply") from None
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_json", "the body must be a JSON object (Content-Type: application/json)")
    categories = _field(data, "categories", list)
    if not all(isinstance(c, str) for c in categories):
        raise ApiError(422, "invalid_field", "categories must be a list of strings", "categories")
    start = _field(data, "start_date", str, required=False)
    try:
        start_date = date.fromisoformat(start) if start else None
    except ValueError:
        raise ApiError(422, "invalid_field", "start_date must be YYYY-MM-DD", "start_date") from None
    return EnrollRequest(
        phone=_field(data, "phone", str), locale=_field(data, "locale", str), categories=categories,
        start_date=start_date, timezone=_field(data, "timezone", str, required=False),
        consent=_field(data, "patient_consented", bool) is True,
    )


@bp.get("/openapi.json")
def openapi():
    return jsonify(document(current_app))


@bp.post("/enrollments")
@token_required
def create_enrollment():
    req = _request_from_json()
    line = current_app.extensions["line"]
    try:
        with db.transaction() as sess:
            clinic = sess.get(Clinic, g.api_clinic_id)
            item = enroll(sess, clinic, req, actor=g.api_actor, source="api", now=_now(), catalog=line.renderer.catalog,
                          locales=line.renderer.offered_locales(), region=current_app.config["DEFAULT_REGION"])
            body = serialize(item, sess.get(Subscriber, item.subscriber_id).phone, _messages(sess, item))
    except EnrollmentError as exc:
        raise ApiError(exc.http_status, exc.code, exc.message, exc.field, **exc.extra) from None
    response = jsonify(body)
    response.status_code = 201
    response.headers["Location"] = f"{request.script_root}/api/v1/enrollments/{body['id']}"
    return response


def _int_arg(name: str, default: int | None, highest: int) -> int | None:
    """One positive integer query parameter, strictly: '5' yes; '', 'x', '-1', twice: 422."""
    values = request.args.getlist(name)
    if not values:
        return default
    if len(values) > 1 or not values[0].isascii() or not values[0].isdigit() or not 1 <= int(values[0]) <= highest:
        raise ApiError(422, "invalid_field", f"{name} must be one whole number from 1 to {highest}", name)
    return int(values[0])


@bp.get("/enrollments")
@token_required
def list_enrollments():
    statuses = request.args.getlist("status")
    status = statuses[0] if len(statuses) == 1 else None
    if statuses and (len(statuses) > 1 or status not in STATUSES):
        raise ApiError(422, "invalid_field", f"status must be one of {', '.join(STATUSES)}", "status")
    limit = _int_arg("limit", 50, MAX_LIMIT)
    before = _int_arg("before_id", None, 2**31 - 1)
    with db.transaction() as sess:
        sweep(sess, _now(), g.api_clinic_id)
        query = scope.enrollments(g.api_clinic_id, status).limit(limit + 1)
        if before:
            query = query.where(Enrollment.id < before)
        rows = sess.execute(query).all()
    items = [serialize(item, phone) for item, phone in rows[:limit]]
    next_id = items[-1]["id"] if len(rows) > limit else None
    return jsonify(items=items, next_before_id=next_id)


@bp.get("/enrollments/<int:enrollment_id>")
@token_required
def get_enrollment(enrollment_id: int):
    with db.transaction() as sess:
        sweep(sess, _now(), g.api_clinic_id)
        item, phone = _own(sess, enrollment_id)
        body = serialize(item, phone, _messages(sess, item))
    return jsonify(body)


@bp.post("/enrollments/<int:enrollment_id>/stop")
@token_required
def stop_enrollment(enrollment_id: int):
    with db.transaction() as sess:
        item, phone = _own(sess, enrollment_id, lock=True)
        stop(sess, item, actor=g.api_actor, now=_now())
        body = serialize(item, phone, _messages(sess, item))
    return jsonify(body)
