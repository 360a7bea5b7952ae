"""POST /twilio/voice and its steps: Twilio's inbound-call webhooks, answered with TwiML.

/twilio/voice          a call starts (or comes back to the main menu from TwiML cached earlier)
/twilio/voice/input    what a <Gather> heard: Digits, or SpeechResult
/twilio/voice/silence  a <Gather> heard nothing (Twilio goes on to the <Redirect> after it)
/twilio/voice/trials/zip, /twilio/voice/trials/result
                       the trials ZIP search's former pages: the search is now part of the call
                       (service/calls/flow.py), and these only put a call that TwiML fetched before
                       still points here where that page was (`locale`, `zip`, `attempt` in the query)

The call itself is service/calls/ (flow.py: what keys and words mean; steps.py: one request in one
transaction, a retried step answered again). This module only translates: every route shares one
guard (channels/webhook.py: size, signature, form; any failure the spoken apology below), and _run
reads the request into a CallRequest,
and an Outcome becomes <Say>/<Play> inside <Gather>, then <Redirect> or <Hangup/>. Every URL it
links to carries the next step number (`?step=N`), so the call can tell a retried request from the
caller's next one (service/calls/log.py).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import click
from flask import Blueprint, Flask, Response, abort, current_app, request
from twilio.twiml.voice_response import VoiceResponse

from ..calls import (FULL_ATTESTATION, CallEvent, CallRequest, Gathered, Outcome, Silence, Started, TrialsLink,
                     VoiceLine, answer_call, locale_of_call)
from ..content.voice import VOICES, RecordedPrompts, Utterance, VoiceRenderer
from ..phones import InvalidPhone, to_e164
from .webhook import twilio_webhook

bp = Blueprint("voice", __name__, cli_group="voice")

START_PATH = "/twilio/voice"
INPUT_PATH = "/twilio/voice/input"
SILENCE_PATH = "/twilio/voice/silence"
TRIALS_ZIP_PATH = "/twilio/voice/trials/zip"  # former pages: see the module docstring
TRIALS_RESULT_PATH = "/twilio/voice/trials/result"
GATHER_TIMEOUT = 6  # seconds of silence after the prompts before Twilio moves on
PROMPTS_DIR = Path(__file__).resolve().parents[1] / "static" / "voice"
STEP = "step"  # the query parameter naming a request's step in the call
_STEP_VALUE = re.compile(r"[0-9]{1,6}")  # more steps than a call (at most 24 hours) can take


def init_app(app: Flask) -> None:
    line = app.extensions["line"]
    prompts = RecordedPrompts(app.config.get("VOICE_PROMPTS_DIR") or PROMPTS_DIR,
                              app.config["PUBLIC_BASE_URL"] + "/static/voice")
    app.extensions["voice"] = VoiceLine(line, VoiceRenderer(line.renderer.catalog, line.reviews), prompts,
                                        trials_search=app.config.get("VOICE_TRIALS_SEARCH", True))
    app.register_blueprint(bp)


def _voice() -> VoiceLine:
    return current_app.extensions["voice"]


def _parse() -> tuple[str, str | None]:
    """(CallSid, From as E.164 or None when withheld or not a number)."""
    call_sid, raw = request.form.get("CallSid", ""), request.form.get("From")
    if not call_sid or len(call_sid) > 64 or raw is None:
        abort(400, "CallSid and From are required")
    try:
        phone = to_e164(raw, current_app.config["DEFAULT_REGION"])
    except InvalidPhone:
        phone = None  # a withheld or client: caller still hears the line; it just cannot get texts
    return call_sid, phone


def _run(event: CallEvent) -> Response:
    """Answer one request of the call (service/calls/steps.py)."""
    call_sid, phone = _parse()
    voice = _voice()
    step = step_of(request.args)
    call = CallRequest(call_sid, phone, step, request.form.get("StirVerstat") == FULL_ATTESTATION, event)
    reply = answer_call(voice, call, current_app.extensions["clock"],
                        lambda outcome: twiml_text(outcome, voice.prompts, step + 1))
    return Response(reply, status=200, mimetype="application/xml")


def _apology() -> Response:
    """Never a 500 (Twilio would say "application error" and hang up): a spoken apology in the
    caller's language, then <Hangup/>."""
    voice = _voice()
    locale = locale_of_call(request.form.get("CallSid", "")[:64])
    reply = twiml_text(voice.apology(locale), voice.prompts, step_of(request.args) + 1)
    return Response(reply, status=200, mimetype="application/xml")


call_webhook = twilio_webhook(on_failure=_apology)


@bp.post(START_PATH)
@call_webhook
def call_started():
    return _run(Started())


@bp.post(INPUT_PATH)
@call_webhook
def call_input():
    return _run(Gathered(request.form.get("Digits", ""), request.form.get("SpeechResult", "")[:300]))


@bp.post(SILENCE_PATH)
@call_webhook
def call_silence():
    return _run(Silence())


@bp.post(TRIALS_ZIP_PATH)
@call_webhook
def trials_zip():
    return _run(TrialsLink(request.args.get("locale"), again=request.args.get("attempt") == "2"))


@bp.post(TRIALS_RESULT_PATH)
@call_webhook
def trials_result():
    return _run(TrialsLink(request.args.get("locale"), request.args.get("zip"), digits=request.form.get("Digits", "")))


def step_of(args: Mapping[str, str]) -> int:
    """The step number of this request (0 when absent or not ours)."""
    raw = args.get(STEP, "")
    return int(raw) if _STEP_VALUE.fullmatch(raw) else 0


def with_step(url: str, step: int) -> str:
    """`url` with its step parameter set to `step` (other parameters kept, in order)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != STEP]
    return urlunsplit(parts._replace(query=urlencode([*query, (STEP, str(step))])))


def twiml_text(outcome: Outcome, prompts: RecordedPrompts, step: int = 1) -> str:
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
        resp.hangup()
    return str(resp)


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
