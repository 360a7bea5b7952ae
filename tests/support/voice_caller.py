"""A caller on the voice line, following TwiML the way Twilio does.

<Say>/<Play> are heard; <Gather> plays its nested prompts, then waits: `press` posts Digits to
its action, `say` posts SpeechResult, `silence` carries on with the verbs after it; <Redirect> is
fetched at once (signed POST); <Hangup/> or the end of the document ends the call. Every request
is signed by the TwilioEmulator, so it meets the real signature check.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit
from xml.etree import ElementTree

from tests.support.twilio import TwilioEmulator, new_sid

MAX_REDIRECTS = 10


@dataclass(frozen=True)
class Heard:
    kind: str  # say | play
    text: str  # the <Say> text, or the <Play> URL
    language: str | None = None
    voice: str | None = None


@dataclass
class Call:
    twilio: TwilioEmulator
    caller: str = "+14155550100"
    sid: str = field(default_factory=lambda: new_sid("CA"))
    heard: list[Heard] = field(default_factory=list)  # what the last step said
    gather: ElementTree.Element | None = None
    after: list[ElementTree.Element] = field(default_factory=list)
    ended: bool = False
    responses: list = field(default_factory=list)  # every TwiML answer, in order
    transcript: list[tuple[str, list[Heard]]] = field(default_factory=list)  # (input, heard)
    # Twilio's caller-ID attestation (StirVerstat): a mobile phone's own number is attested "A";
    # None leaves the parameter out, as for a call whose carrier signs nothing.
    stir: str | None = "TN-Validation-Passed-A"

    @property
    def params(self) -> dict:
        return {"CallSid": self.sid, "AccountSid": self.twilio.account_sid, "From": self.caller,
                "To": self.twilio.to, "Caller": self.caller, "Called": self.twilio.to,
                "CallStatus": "in-progress", "Direction": "inbound", "ApiVersion": "2010-04-01",
                "FromCity": "SAN FRANCISCO", "FromState": "CA", "FromCountry": "US",
                **({"StirVerstat": self.stir} if self.stir else {})}

    @property
    def said(self) -> list[str]:
        return [h.text for h in self.heard]

    def start(self) -> list[Heard]:
        return self._step("(call)", lambda: self._fetch("/twilio/voice", {**self.params, "CallStatus": "ringing"}))

    def press(self, digits: str) -> list[Heard]:
        gather = self._waiting()
        params = {**self.params, "Digits": digits}
        return self._step(digits, lambda: self._fetch(gather.get("action"), params))

    def say(self, speech: str, confidence: str = "0.91") -> list[Heard]:
        gather = self._waiting()
        assert "speech" in gather.get("input", ""), f"speech is off here: {ElementTree.tostring(gather)!r}"
        params = {**self.params, "SpeechResult": speech, "Confidence": confidence}
        return self._step(f'"{speech}"', lambda: self._fetch(gather.get("action"), params))

    def silence(self) -> list[Heard]:
        self._waiting()
        after = self.after
        return self._step("(silence)", lambda: self._walk(after, 0))

    def _waiting(self) -> ElementTree.Element:
        assert not self.ended, "the call has ended"
        assert self.gather is not None, "nothing is waiting for input"
        return self.gather

    def _step(self, label: str, run) -> list[Heard]:
        self.heard, self.gather, self.after = [], None, []
        run()
        self.transcript.append((label, list(self.heard)))
        return self.heard

    def _fetch(self, url: str, params: dict, redirects: int = 0) -> None:
        parts = urlsplit(url)
        assert not parts.netloc or url.startswith(self.twilio.base_url), url
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        result = self.twilio.post(path, params)
        assert result.status == 200, (path, result.status, result.raw)
        assert result.content_type.startswith(("application/xml", "text/xml")), result.content_type
        assert result.root is not None and result.root.tag == "Response", result.raw
        self.responses.append(result)
        self._walk(list(result.root), redirects)

    def _walk(self, verbs: list[ElementTree.Element], redirects: int) -> None:
        for index, verb in enumerate(verbs):
            if verb.tag in ("Say", "Play"):
                self.heard.append(_heard(verb))
            elif verb.tag == "Gather":
                self.heard.extend(_heard(v) for v in verb if v.tag in ("Say", "Play"))
                self.gather, self.after = verb, verbs[index + 1:]
                return
            elif verb.tag == "Redirect":
                assert redirects < MAX_REDIRECTS, "redirect loop"
                assert verb.get("method", "POST") == "POST"
                base = {k: v for k, v in self.params.items()}
                self._fetch((verb.text or "").strip(), base, redirects + 1)
                return
            elif verb.tag == "Hangup":
                break
            else:
                raise AssertionError(f"unexpected verb {verb.tag}")
        self.ended = True


def _heard(verb: ElementTree.Element) -> Heard:
    if verb.tag == "Play":
        return Heard("play", (verb.text or "").strip())
    return Heard("say", verb.text or "", verb.get("language"), verb.get("voice"))


def choose_language(call: Call, offered: list[str], locale: str) -> list[Heard]:
    """Press through the language menu to `locale`, paging with 9 when there are many languages."""
    from service.engine.call import KEY_MORE_LANGS, language_page

    for page in range(len(offered)):
        shown, _more = language_page(offered, page)
        if locale in shown:
            return call.press(str(shown.index(locale) + 1))
        call.press(KEY_MORE_LANGS)
    raise AssertionError(f"{locale} is not on the language menu")
