"""/simulator: the browser phone page and the JSON endpoints its script calls."""

from __future__ import annotations

import re
import uuid

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from .. import db
from ..channels.voice import START_PATH
from ..models import OutboundMessage
from ..statuses import MessageStatus
from .explain import send_time, why_no_reply
from .twilio_like import CallStep, NotAllowed, TwilioLike

bp = Blueprint("simulator", __name__, url_prefix="/simulator", template_folder="templates",
               static_folder="static")

# Only fictional numbers (555-0100 to 555-0199): the page must never make the line text a real
# phone, even where the simulator is switched on next to a real SMS backend.
FICTIONAL = re.compile(r"^\+1[2-9]\d{2}5550(1\d\d)$")
CALL_SID = re.compile(r"^CA[0-9a-f]{32}$")


@bp.errorhandler(HTTPException)
def _refused(exc: HTTPException):
    """The page's script shows the reason for a refused request, not only its status code."""
    return jsonify({"error": exc.description, "status": exc.code}), exc.code


def _json() -> dict:
    # JSON only: a plain cross-site form post cannot reach these endpoints.
    if not request.is_json:
        abort(415)
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        abort(400, "expected a JSON object")
    return data


def _phone(value) -> str:
    if not isinstance(value, str) or not FICTIONAL.match(value):
        abort(400, "the simulator only uses fictional numbers +1NNN5550100 to +1NNN5550199")
    return value


def _call_sid(value) -> str:
    if not isinstance(value, str) or not CALL_SID.match(value):
        abort(400, "bad call id")
    return value


@bp.get("")
def phone():
    return render_template("simulator/phone.html", public_base=current_app.config["PUBLIC_BASE_URL"])


@bp.post("/api/sms")
def send_text():
    data = _json()
    body = data.get("body")
    if not isinstance(body, str) or not body.strip() or len(body) > 1600:
        abort(400, "body must be 1 to 1600 characters")
    app = current_app._get_current_object()
    phone_number = _phone(data.get("phone"))
    result = TwilioLike(app).text(phone_number, body)
    if result["status"] == 200 and not result["messages"]:
        with db.transaction() as sess:
            result["held_back"] = why_no_reply(sess, app, phone_number, app.extensions["clock"]())
    return jsonify(result)


@bp.post("/api/call")
def start_call():
    data = _json()
    phone_number = _phone(data.get("phone"))
    call_sid = "CA" + uuid.uuid4().hex
    twilio = TwilioLike(current_app._get_current_object())
    step = twilio.fetch(CallStep(), START_PATH, {**twilio.call_params(call_sid, phone_number), "CallStatus": "ringing"})
    return jsonify({"call_sid": call_sid, **step.as_json()})


@bp.post("/api/call/input")
def call_input():
    data = _json()
    phone_number, call_sid = _phone(data.get("phone")), _call_sid(data.get("call_sid"))
    twilio = TwilioLike(current_app._get_current_object())
    params = twilio.call_params(call_sid, phone_number)
    digits, speech = data.get("digits"), data.get("speech")
    if isinstance(digits, str) and re.fullmatch(r"[0-9*#]{1,5}", digits):
        params["Digits"] = digits
    elif isinstance(speech, str) and speech.strip() and len(speech) <= 300:
        params.update(SpeechResult=speech.strip(), Confidence="0.92")
    else:
        abort(400, "press a key or say something")
    try:
        step = twilio.fetch(CallStep(), str(data.get("action") or ""), params)
    except NotAllowed:
        abort(400, "the simulator only posts to the line's own /twilio/ webhooks")
    return jsonify({"call_sid": call_sid, **step.as_json()})


@bp.post("/api/call/silence")
def call_silence():
    """Nothing pressed before the <Gather> timed out: Twilio runs the verbs after it."""
    data = _json()
    phone_number, call_sid = _phone(data.get("phone")), _call_sid(data.get("call_sid"))
    after = data.get("after")
    if not isinstance(after, list) or len(after) > 20 or not all(isinstance(v, dict) for v in after):
        abort(400, "after must be the list of verbs that followed the <Gather>")
    twilio = TwilioLike(current_app._get_current_object())
    try:
        step = twilio.walk(CallStep(), after, twilio.call_params(call_sid, phone_number))
    except NotAllowed:
        abort(400, "the simulator only posts to the line's own /twilio/ webhooks")
    return jsonify({"call_sid": call_sid, **step.as_json()})


@bp.get("/api/outbox")
def outbox():
    """Texts the line queued for this number (a voice hand-off); the worker sends them."""
    phone_number = _phone(request.args.get("phone"))
    app = current_app._get_current_object()
    now = app.extensions["clock"]()
    with db.transaction() as sess:
        rows = sess.scalars(sa.select(OutboundMessage).where(OutboundMessage.phone == phone_number)
                            .order_by(OutboundMessage.due_at, OutboundMessage.id)).all()
        out = []
        for r in rows:
            item = {"id": r.id, "body": r.body, "status": r.status, "source": r.source,
                    "due_at": r.due_at.isoformat(), "sent_at": r.sent_at.isoformat() if r.sent_at else None}
            if r.status == MessageStatus.QUEUED:
                at, quiet = send_time(app, r, now)
                item.update(send_at=at.isoformat(), quiet_hours=quiet)
            out.append(item)
        return jsonify(out)
