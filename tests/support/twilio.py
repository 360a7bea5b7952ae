"""Post webhooks exactly as Twilio does: form-encoded, every standard parameter, signed.

The signature is computed over PUBLIC_BASE_URL + path with the same algorithm Twilio uses
(twilio.request_validator), so a test that passes here passes behind a real Twilio number.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from urllib.parse import urlencode
from xml.etree import ElementTree

from twilio.request_validator import RequestValidator

ACCOUNT_SID = "AC" + "1" * 32
PROGRAM_NUMBER = "+18005550199"
_sids = itertools.count(1)


def new_sid(prefix: str) -> str:
    return f"{prefix}{next(_sids):032x}"


@dataclass
class TwiML:
    status: int
    root: ElementTree.Element | None
    raw: bytes
    content_type: str = ""

    @property
    def messages(self) -> list[str]:
        """The text of each <Message> verb, in order."""
        assert self.root is not None and self.root.tag == "Response", self.raw
        return [m.text or "" for m in self.root.findall("Message")]

    @property
    def text(self) -> str:
        return "\n".join(self.messages)


@dataclass
class TwilioEmulator:
    client: object
    token: str
    base_url: str
    account_sid: str = ACCOUNT_SID
    to: str = PROGRAM_NUMBER
    history: list = field(default_factory=list)

    def sign(self, path: str, params: dict) -> str:
        return RequestValidator(self.token).compute_signature(self.base_url + path, params)

    def post(self, path: str, params: dict, *, signature: str | None = None, headers=None) -> TwiML:
        hdrs = {"X-Twilio-Signature": signature if signature is not None else self.sign(path, params)}
        hdrs.update(headers or {})
        resp = self.client.post(path, data=urlencode(params), headers=hdrs,
                                content_type="application/x-www-form-urlencoded")
        root = None
        if resp.status_code == 200 and resp.data.strip():
            root = ElementTree.fromstring(resp.data)
        return TwiML(resp.status_code, root, resp.data, resp.headers.get("Content-Type", ""))

    def sms_params(self, body: str, from_: str, sid: str | None = None, **extra) -> dict:
        sid = sid or new_sid("SM")
        params = {
            "ToCountry": "US", "ToState": "CA", "SmsMessageSid": sid, "NumMedia": "0",
            "ToCity": "", "FromZip": "94110", "SmsSid": sid, "FromState": "CA",
            "SmsStatus": "received", "FromCity": "SAN FRANCISCO", "Body": body,
            "FromCountry": "US", "To": self.to, "MessagingServiceSid": "MG" + "2" * 32,
            "ToZip": "", "NumSegments": "1", "MessageSid": sid, "AccountSid": self.account_sid,
            "From": from_, "ApiVersion": "2010-04-01",
        }
        params.update(extra)
        return params

    def sms(self, body: str, from_: str = "+14155550100", sid: str | None = None, **extra) -> TwiML:
        result = self.post("/twilio/sms", self.sms_params(body, from_, sid, **extra))
        self.history.append((from_, body, result))
        return result
