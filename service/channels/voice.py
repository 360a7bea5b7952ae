"""POST /twilio/voice and its steps: Twilio's inbound-call webhooks, answered with TwiML.

/twilio/voice          a call starts (or comes back to the main menu from TwiML cached earlier)
/twilio/voice/input    what a <Gather> heard: Digits, or SpeechResult
/twilio/voice/silence  a <Gather> heard nothing (Twilio goes on to the <Redirect> after it)
/twilio/voice/trials/zip, /twilio/voice/trials/result
                       the trials ZIP search's former pages: the search is now part of the call
                       (voice_flow.py), and these only put a call that TwiML fetched before still
                       points here where that page was (`locale`, `zip`, `attempt` in the query)

The call itself is service/channels/voice_flow.py; this module verifies, parses, runs it in one
transaction and turns its Outcome into <Say>/<Play> inside <Gather>, <Redirect> or <Hangup/>.
Every route shares one guard (_run: signature, form, the call's row locked, a retried step answered
from call_sessions.last_step/last_reply, any failure a spoken apology). Every URL it links to
carries the next step number (`?step=N`, service/channels/call_log.py), so the message log can
tell a retried request from the caller's next one.
"""

from __future__ import annotations

import logging
from pathlib import Path

import click
import sqlalchemy as sa
from flask import Blueprint, Flask, Response, abort, current_app, request
from twilio.twiml.voice_response import VoiceResponse

from .. import db
from ..content.voice import VOICES, RecordedPrompts, Utterance, VoiceRenderer
from ..handoff import FULL_ATTESTATION
from ..models import CallSession
from ..phones import InvalidPhone, mask, to_e164
from ..metrics import webhook_fallback
from .call_log import step_of, with_step
from .signature import twilio_signed
from .voice_flow import Outcome, VoiceLine, lock_call

bp = Blueprint("voice", __name__, cli_group="voice")
log = logging.getLogger(__name__)

START_PATH = "/twilio/voice"
INPUT_PATH = "/twilio/voice/input"
SILENCE_PATH = "/twilio/voice/silence"
TRIALS_ZIP_PATH = "/twilio/voice/trials/zip"  # former pages: see the module docstring
TRIALS_RESULT_PATH = "/twilio/voice/trials/result"
GATHER_TIMEOUT = 6  # seconds of silence after the prompts before Twilio moves on
PROMPTS_DIR = Path(__file__).resolve().parents[1] / "static" / "voice"


def init_app(app: Flask) -> None:
    line = app.extensions["line"]
    prompts = RecordedPrompts(app.config.get("VOICE_PROMPTS_DIR") or PROMPTS_DIR,
                              app.config["PUBLIC_BASE_URL"] + "/static/voice")
    app.extensions["voice"] = VoiceLine(line, VoiceRenderer(line.renderer.catalog, line.reviews), prompts,
                                        trials_search=app.config.get("VOICE_TRIALS_SEARCH", True))
    app.register_blueprint(bp)


def _voice() -> VoiceLine:
    return current_app.extensions["voice"]


def _parse() -> tuple[str, str, str | None]:
    """(CallSid, From as sent, From as E.164 or None when withheld or not a number)."""
    if request.mimetype != "application/x-www-form-urlencoded":
        abort(400, "expected a form-encoded Twilio webhook")
    call_sid, raw = request.form.get("CallSid", ""), request.form.get("From")
    if not call_sid or len(call_sid) > 64 or raw is None:
        abort(400, "CallSid and From are required")
    try:
        phone = to_e164(raw, current_app.config["DEFAULT_REGION"])
    except InvalidPhone:
        phone = None  # a withheld or client: caller still hears the line; it just cannot get texts
    return call_sid, raw, phone


def _run(handler):
    """Run one step of the call in a transaction; never answer 500 (Twilio would say "application
    error" and hang up): a spoken apology in the caller's language, then <Hangup/>."""
    call_sid, raw, phone = _parse()
    voice = _voice()
    step = step_of(request.args)
    try:
        with db.transaction() as sess:
            now = current_app.extensions["clock"]()
            call, created = lock_call(sess, call_sid, phone, now)  # locked: a retry racing the original waits
            if created:
                call.caller_verified = request.form.get("StirVerstat") == FULL_ATTESTATION
            if step and not created and call.last_step == step and call.last_reply:
                # Twilio retried a request we already answered (same URL, so the same step): the
                # same TwiML again, and the call does not move twice.
                return Response(call.last_reply, status=200, mimetype="application/xml")
            outcome = handler(voice, sess, call, created, now, step)
            response = twiml(outcome, voice.prompts, step + 1)
            if step:
                # Written with the call's other changes, in one UPDATE when the transaction ends.
                call.last_step, call.last_reply = step, response.get_data(as_text=True)
            return response
    except Exception:
        log.exception("voice webhook failed for %s (call %s)", mask(phone or raw), call_sid, extra=webhook_fallback())
        return twiml(voice.apology(_locale_of(call_sid)), voice.prompts, step + 1)


def _locale_of(call_sid: str) -> str | None:
    try:
        with db.transaction() as sess:
            return sess.scalar(sa.select(CallSession.locale).where(CallSession.call_sid == call_sid))
    except Exception:  # the database may be what failed
        return None


@bp.post(START_PATH)
@twilio_signed
def call_started():
    return _run(lambda v, sess, call, created, now, step: v.start(sess, call, created))


@bp.post(INPUT_PATH)
@twilio_signed
def call_input():
    digits = request.form.get("Digits", "")
    speech = request.form.get("SpeechResult", "")[:300]
    return _run(lambda v, sess, call, created, now, step: v.gathered(sess, call, created, digits, speech, now, step))


@bp.post(SILENCE_PATH)
@twilio_signed
def call_silence():
    return _run(lambda v, sess, call, created, now, step: v.silence(sess, call, created, now))


@bp.post(TRIALS_ZIP_PATH)
@twilio_signed
def trials_zip():
    locale, again = request.args.get("locale"), request.args.get("attempt") == "2"
    return _run(lambda v, sess, call, created, now, step:
                v.trials_link(sess, call, locale, None, again, None, now, step))


@bp.post(TRIALS_RESULT_PATH)
@twilio_signed
def trials_result():
    locale, zip_code = request.args.get("locale"), request.args.get("zip")
    digits = request.form.get("Digits", "")
    return _run(lambda v, sess, call, created, now, step:
                v.trials_link(sess, call, locale, zip_code, False, digits, now, step))


def twiml(outcome: Outcome, prompts: RecordedPrompts, step: int = 1) -> Response:
    """The TwiML for an Outcome; whatever Twilio requests next is step `step` of the call."""
    resp = VoiceResponse()
    for line in outcome.before:
        speak(resp, line, prompts)
    if outcome.then == "gather":
        options = {"input": "dtmf", "num_digits": outcome.digits, "timeout": outcome.timeout or GATHER_TIMEOUT,
                   "action": with_step(INPUT_PATH, step), "method": "POST",
                   "finish_on_key": ""}  # "" so that # is a key, not "done"
        if outcome.speech:
            options.update(input="dtmf speech", language=outcome.speech, speech_timeout="auto")
            if outcome.hints:
                options["hints"] = ", ".join(h.replace(",", " ") for h in outcome.hints[:100])
        gather = resp.gather(**options)
        for line in outcome.lines:
            speak(gather, line, prompts)
        resp.redirect(with_step(SILENCE_PATH, step), method="POST")  # reached only when nothing was pressed or said
    else:
        for line in outcome.lines:
            speak(resp, line, prompts)
        if outcome.then == "redirect":
            resp.redirect(with_step(outcome.redirect, step), method="POST")
        else:
            resp.hangup()
    return Response(str(resp), status=200, mimetype="application/xml")


def speak(verb, line: Utterance, prompts: RecordedPrompts) -> None:
    voice = VOICES.get(line.locale)
    if voice is not None:
        verb.say(line.text, voice=voice.voice, language=voice.language)
    else:
        verb.play(prompts.url(line))


@bp.cli.command("script")
@click.argument("locale")
@click.option("--missing", is_flag=True, help="only the recordings that are not there yet")
def recording_script(locale: str, missing: bool) -> None:
    """The recorded prompts a call in LOCALE needs: file name, then the sentence to record."""
    voice = _voice()
    if locale not in voice.line.renderer.enabled_locales:
        raise click.UsageError(f"{locale} is not an enabled locale")
    candidates = [x for x in voice.line.renderer.enabled_locales if x in voice.offered or x == locale]
    utterances = list(voice.renderer.all_utterances(locale, candidates))
    if missing:
        utterances = voice.prompts.missing(utterances)
    seen = set()
    click.echo(f"# record into {voice.prompts.folder(locale)}/")
    for u in utterances:
        name = voice.prompts.file_name(u)
        if name not in seen:
            seen.add(name)
            click.echo(f"{name}\t{u.text}")
