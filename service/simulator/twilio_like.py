"""Play Twilio's part for the browser phone: sign and post webhooks, then follow the TwiML.

Requests go to the app's own views through the Flask test client, signed with the app's own
auth token over PUBLIC_BASE_URL, so the signature check, the parsing and the answer are the ones
a real Twilio request meets. The TwiML is followed as Twilio does: <Say>/<Play> are heard,
<Gather> waits for the caller (its nested prompts first), <Redirect> is fetched at once,
<Hangup/> or the end of the document ends the call.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from urllib.parse import urlsplit
from xml.etree import ElementTree

from flask import Flask
from twilio.request_validator import RequestValidator

ACCOUNT_SID = "AC" + "5" * 32  # fictional: the simulator is not a Twilio account
PROGRAM_NUMBER = "+18005550199"
MAX_REDIRECTS = 10  # a redirect loop in our own TwiML must not hang the page


class NotAllowed(ValueError):
    """A URL the simulator will not fetch (only the line's own /twilio/ webhooks)."""


@dataclass
class CallStep:
    events: list[dict] = field(default_factory=list)  # heard, in order: say | play | note
    gather: dict | None = None  # the <Gather> now waiting for the caller
    after: list[dict] = field(default_factory=list)  # verbs after it, run when nothing is pressed
    ended: bool = False
    documents: list[dict] = field(default_factory=list)  # each request made and TwiML answered

    def as_json(self) -> dict:
        return {"events": self.events, "gather": self.gather, "after": self.after, "ended": self.ended,
                "documents": self.documents}


def local_path(url: str, base: str) -> str:
    """'/twilio/voice/input' or '<PUBLIC_BASE_URL>/twilio/...' -> the path (with its query)."""
    if url.startswith(base + "/"):
        url = url[len(base):]
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or not parts.path.startswith("/twilio/"):
        raise NotAllowed(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


class TwilioLike:
    def __init__(self, app: Flask):
        self.app = app
        self.base = app.config["PUBLIC_BASE_URL"]
        self.validator = RequestValidator(app.config["TWILIO_AUTH_TOKEN"])

    def post(self, path: str, params: dict) -> tuple[int, bytes]:
        signature = self.validator.compute_signature(self.base + path, params)
        resp = self.app.test_client().post(path, data=params, headers={"X-Twilio-Signature": signature})
        return resp.status_code, resp.get_data()

    # --- SMS -------------------------------------------------------------------------------------

    def text(self, phone: str, body: str) -> dict:
        sid = "SM" + uuid.uuid4().hex
        params = {"MessageSid": sid, "SmsMessageSid": sid, "SmsSid": sid, "AccountSid": ACCOUNT_SID,
                  "From": phone, "To": PROGRAM_NUMBER, "Body": body, "NumMedia": "0", "NumSegments": "1",
                  "SmsStatus": "received", "ApiVersion": "2010-04-01", "FromCountry": "US", "ToCountry": "US"}
        status, raw = self.post("/twilio/sms", params)
        messages = []
        if status == 200 and raw.strip():
            messages = [m.text or "" for m in ElementTree.fromstring(raw).findall("Message")]
        return {"status": status, "messages": messages, "twiml": raw.decode("utf-8", "replace")}

    # --- calls -----------------------------------------------------------------------------------

    def call_params(self, call_sid: str, phone: str) -> dict:
        return {"CallSid": call_sid, "AccountSid": ACCOUNT_SID, "From": phone, "To": PROGRAM_NUMBER,
                "Caller": phone, "Called": PROGRAM_NUMBER, "CallStatus": "in-progress", "Direction": "inbound",
                "ApiVersion": "2010-04-01",
                "StirVerstat": "TN-Validation-Passed-A"}  # a phone's own number: attested (service/calls/handoff.py)

    def fetch(self, step: CallStep, url: str, params: dict, redirects: int = 0) -> CallStep:
        path = local_path(url, self.base)
        status, raw = self.post(path, params)
        step.documents.append({"url": path, "status": status, "twiml": raw.decode("utf-8", "replace")})
        if status != 200:
            # Twilio would play its "application error" message and hang up.
            step.events.append({"type": "note", "text": f"HTTP {status}: Twilio would say it had an application error"})
            step.ended = True
            return step
        verbs = [verb_json(v) for v in ElementTree.fromstring(raw)]
        return self.walk(step, verbs, params, redirects)

    def walk(self, step: CallStep, verbs: list[dict], params: dict, redirects: int = 0) -> CallStep:
        base = {k: v for k, v in params.items() if k not in ("Digits", "SpeechResult", "Confidence")}
        for index, verb in enumerate(verbs):
            kind = verb.get("verb")
            if kind in ("Say", "Play"):
                step.events.append(heard(verb))
            elif kind == "Gather":
                step.events.extend(heard(v) for v in verb.get("nested", []))
                step.gather = {k: v for k, v in verb.items() if k not in ("verb", "nested")}
                step.after = verbs[index + 1:]
                return step
            elif kind == "Redirect":
                if redirects >= MAX_REDIRECTS:
                    step.events.append({"type": "note", "text": "too many redirects"})
                    break
                return self.fetch(step, verb.get("url", ""), base, redirects + 1)
            elif kind == "Hangup":
                break
        step.ended = True  # <Hangup/>, or the end of the document: Twilio hangs up
        step.events.append({"type": "note", "text": "call ended"})
        return step


def verb_json(el: ElementTree.Element) -> dict:
    """One TwiML verb as plain data (attributes as Twilio names them)."""
    data = {"verb": el.tag, **el.attrib}
    if el.tag in ("Say", "Message"):
        data["text"] = el.text or ""
    elif el.tag in ("Play", "Redirect"):
        data["url"] = (el.text or "").strip()
    elif el.tag == "Gather":
        data["nested"] = [verb_json(child) for child in el]
    return data


def heard(verb: dict) -> dict:
    if verb.get("verb") == "Play":
        return {"type": "play", "url": verb.get("url", "")}
    return {"type": "say", "text": verb.get("text", ""), "language": verb.get("language", "en-US"),
            "voice": verb.get("voice", "")}
