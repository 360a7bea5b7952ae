"""The voice part of trials near me: a keypad ZIP code, the count and nearest site, 9 to text.

POST /twilio/voice/trials/zip      Gather 5 digits ("enter your five-digit ZIP code")
POST /twilio/voice/trials/result   no `zip` in the query: the gathered ZIP -> count + nearest site,
                                   then 9 = the list by text, 1 = another ZIP, 0 = main menu;
                                   with `zip`: the caller's choice after hearing the result.
The main IVR (service/channels/voice.py) links its trials topic here; `locale` in the query says
which language the caller chose (else the caller's stored language, else English), and `step`
numbers the call's requests as the IVR does (service/channels/call_log.py): each URL here links to
the next step, and a ZIP search is logged under its step, once.
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode

import sqlalchemy as sa
from flask import Blueprint, Response, abort, current_app, request
from twilio.twiml.voice_response import VoiceResponse

from .. import db
from ..channels.call_log import record_step, step_of
from ..channels.signature import twilio_signed
from ..content.voice import MAX_TEXTS_PER_CALL, VOICES
from ..consent import record_consent
from ..subscribers import lock_subscriber
from ..metrics import webhook_fallback
from ..models import OutboundMessage, Subscriber
from ..outbound import enqueue
from ..phones import InvalidPhone, mask, to_e164
from .compose import Composer
from .geo import zip_place
from .line import age_days, search_texts
from .search import nearest_sites, rounded_miles

bp = Blueprint("trials_voice", __name__)
log = logging.getLogger(__name__)

MAIN_IVR = "/twilio/voice"
ZIP_PATH = "/twilio/voice/trials/zip"
RESULT_PATH = "/twilio/voice/trials/result"


def _twiml(resp: VoiceResponse) -> Response:
    return Response(str(resp), status=200, mimetype="application/xml")


def _url(path: str, **params) -> str:
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return f"{path}?{query}" if query else path


def _form() -> tuple[str, str]:
    if request.mimetype != "application/x-www-form-urlencoded":
        abort(400, "expected a form-encoded Twilio webhook")
    call_sid, caller = request.form.get("CallSid", ""), request.form.get("From", "")
    if not call_sid or not caller:
        abort(400, "CallSid and From are required")
    return call_sid, caller


def _locale(caller: str) -> str:
    """The language chosen in the IVR (query), else the caller's stored one, else English."""
    enabled = current_app.extensions["line"].renderer.enabled_locales
    wanted = request.args.get("locale", "")
    if wanted in enabled:
        return wanted
    try:
        phone = to_e164(caller, current_app.config["DEFAULT_REGION"])
    except InvalidPhone:
        return "en"
    with db.transaction() as sess:
        stored = sess.scalar(sa.select(Subscriber.locale).where(Subscriber.phone == phone))
    return stored if stored in enabled else "en"


class _Speaker:
    """<Say> in the caller's language, with the IVR's voice table (service/content/voice.py).

    A language without a text-to-speech voice (Haitian Creole) hears English here: the trials
    search has no recorded prompts.
    """

    def __init__(self, locale: str):
        self.catalog = current_app.extensions["line"].renderer.catalog
        self.text_locale = locale if locale in VOICES else "en"
        self.language, self.voice = VOICES[self.text_locale].language, VOICES[self.text_locale].voice
        self.said: list[str] = []  # for the message log

    def say(self, verb, name: str, **params) -> None:
        text = self.catalog.string(self.text_locale, name, **{k: str(v) for k, v in params.items()})
        verb.say(text, language=self.language, voice=self.voice)
        self.said.append(text)


def _guarded(build):
    """Webhooks never answer 500: an internal failure gets a spoken apology (200)."""
    def view():
        call_sid, caller = _form()
        try:
            return _twiml(build(call_sid, caller))
        except Exception:
            log.exception("trials voice webhook failed for %s (call %s)", mask(caller), call_sid,
                          extra=webhook_fallback())
            resp = VoiceResponse()
            _Speaker("en").say(resp, "voice_apology")
            resp.hangup()
            return _twiml(resp)
    view.__name__ = build.__name__
    return view


def _ask_zip(call_sid: str, caller: str) -> VoiceResponse:
    locale = _locale(caller)
    speaker = _Speaker(locale)
    attempt = 2 if request.args.get("attempt") == "2" else 1
    step = step_of(request.args) + 1  # of whatever Twilio requests next
    resp = VoiceResponse()
    gather = resp.gather(input="dtmf", num_digits=5, timeout=10, method="POST",
                         action=_url(RESULT_PATH, locale=locale, step=step))
    speaker.say(gather, "trials_voice_zip")
    # Twilio goes on past <Gather> only when nothing was pressed.
    speaker.say(resp, "trials_voice_no_input")
    if attempt == 1:
        resp.redirect(_url(ZIP_PATH, locale=locale, attempt=2, step=step), method="POST")
    else:
        speaker.say(resp, "trials_voice_explain")
        resp.redirect(_url(MAIN_IVR, step=step), method="POST")
    return resp


def _result(call_sid: str, caller: str) -> VoiceResponse:
    locale = _locale(caller)
    speaker = _Speaker(locale)
    chosen = request.args.get("zip")
    digits = (request.form.get("Digits") or "").strip()
    resp = _answer(speaker, call_sid, caller, locale, chosen, digits, step_of(request.args) + 1)
    if chosen is None and digits:
        _log_search(call_sid, caller, locale, digits, speaker.said)
    return resp


def _answer(speaker: _Speaker, call_sid: str, caller: str, locale: str, chosen: str | None, digits: str,
            step: int) -> VoiceResponse:
    """A ZIP just entered (`chosen` None) gets the search result; after it, 9, 1 or 0."""
    resp = VoiceResponse()
    place = zip_place(chosen if chosen is not None else digits)
    if place is None:
        speaker.say(resp, "trials_voice_unknown_zip")
        resp.redirect(_url(ZIP_PATH, locale=locale, attempt=2, step=step), method="POST")
        return resp
    if chosen is not None and digits == "9":
        _text_the_list(resp, speaker, call_sid, caller, locale, place.zip)
        resp.redirect(_url(MAIN_IVR, step=step), method="POST")
        return resp
    if chosen is not None and digits == "1":
        resp.redirect(_url(ZIP_PATH, locale=locale, step=step), method="POST")
        return resp
    if chosen is not None and digits == "0":
        resp.redirect(_url(MAIN_IVR, step=step), method="POST")
        return resp
    _speak_result(resp, speaker, locale, place, step)
    return resp


def _log_search(call_sid: str, caller: str, locale: str, digits: str, answer: list[str]) -> None:
    """A ZIP search is the caller asking about trials: logged like TRIALS <zip> by text, once per
    step (service/channels/call_log.py), with the digits pressed, even a ZIP we do not know."""
    try:
        phone = to_e164(caller, current_app.config["DEFAULT_REGION"])
    except InvalidPhone:
        phone = None
    with db.transaction() as sess:
        record_step(sess, call_sid=call_sid, step=step_of(request.args), phone=phone, locale=locale,
                    said=f"digits {digits[:10]}", now=current_app.extensions["clock"](), topic="trials",
                    answer=answer)


def _speak_result(resp: VoiceResponse, speaker: _Speaker, locale: str, place, step: int) -> None:
    radius = current_app.config["TRIALS_RADIUS_MILES"]
    spoken_zip = " ".join(place.zip)  # "9 4 1 1 0", not "ninety-four thousand..."
    now = current_app.extensions["clock"]()
    with db.transaction() as sess:
        hits = nearest_sites(sess, place, radius)
        age = age_days(sess, now)
    if hits:
        nearest = hits[0]
        speaker.say(resp, "trials_voice_count", radius=radius, zip=spoken_zip, count=len(hits))
        miles = rounded_miles(nearest.miles)  # as the texts round it; 0 is "less than a mile"
        speaker.say(resp, "trials_voice_nearest" if miles else "trials_voice_nearest_close",
                    facility=nearest.facility or nearest.city, city=nearest.city, miles=miles)
    else:
        if age is None:  # never synced: "none found" would be untrue
            speaker.say(resp, "trials_unavailable")
        else:
            speaker.say(resp, "trials_voice_none", radius=radius, zip=spoken_zip)
        speaker.say(resp, "trials_voice_explain")
    if age is not None and age > 7:
        speaker.say(resp, "trials_age", days=age)
    gather = resp.gather(input="dtmf", num_digits=1, timeout=8, method="POST",
                         action=_url(RESULT_PATH, locale=locale, zip=place.zip, step=step))
    speaker.say(gather, "trials_voice_options")
    resp.redirect(_url(MAIN_IVR, step=step), method="POST")


def _text_the_list(resp: VoiceResponse, speaker: _Speaker, call_sid: str, caller: str, locale: str,
                   zip_code: str) -> None:
    """Press 9: queue the same texts TRIALS <zip> would answer, once per call (dedupe key)."""
    try:
        phone = to_e164(caller, current_app.config["DEFAULT_REGION"])
    except InvalidPhone:
        speaker.say(resp, "voice_no_text")
        return
    now = current_app.extensions["clock"]()
    composer = Composer(speaker.catalog)
    prefix = f"trials_handoff:{call_sid}:"
    with db.transaction() as sess:
        sub = lock_subscriber(sess, phone)
        if sub.status == "opted_out":
            speaker.say(resp, "voice_opted_out")  # only START by text undoes a STOP
            return
        # Lists already queued on this call (their first text), so one call cannot flood a phone.
        queued = set(sess.scalars(sa.select(OutboundMessage.dedupe_key).where(
            OutboundMessage.dedupe_key.startswith(prefix, autoescape=True),
            OutboundMessage.dedupe_key.endswith(":0"))))
        if f"{prefix}{zip_code}:0" not in queued and len(queued) >= MAX_TEXTS_PER_CALL:
            speaker.say(resp, "voice_text_limit", count=MAX_TEXTS_PER_CALL)
            return
        texts = search_texts(sess, composer, locale, zip_code=zip_code, subtype=None, page=0,
                             radius=current_app.config["TRIALS_RADIUS_MILES"], now=now)
        if sub.status == "new":
            # Pressing 9 is the caller's request for a text; the first text says "not medical advice".
            record_consent(sess, sub, "opt_in", "voice_request", "9", now, channel="voice")
            sub.status, sub.locale = "active", locale
            enqueue(sess, sub, current_app.extensions["line"].renderer.render_text("welcome", locale),
                    dedupe_key=f"{prefix}welcome", source="trials_handoff", now=now, topic="trials")
        for number, text in enumerate(texts):
            enqueue(sess, sub, text, dedupe_key=f"{prefix}{zip_code}:{number}",
                    source="trials_handoff", now=now, topic="trials")
    speaker.say(resp, "voice_texted")


bp.add_url_rule(ZIP_PATH, "zip", twilio_signed(_guarded(_ask_zip)), methods=["POST"])
bp.add_url_rule(RESULT_PATH, "result", twilio_signed(_guarded(_result)), methods=["POST"])
