"""Issue 17 item 3: /twilio/* refuses what cannot be a Twilio webhook before parsing it.

A malformed X-Twilio-Signature (403), a body over 64 KB (413) or more than 200 form fields (413)
is refused on headers and raw bytes alone: the form parser never runs, no signature is computed
and an oversized body is not even read. A request that passes gets its signature computed once.
Each case asserts that behaviour (parser calls, HMAC computations, bytes read), not a duration:
`make bench` measures what it costs (docs/performance.md, "Pre-auth limits")."""

from __future__ import annotations

import io
from urllib.parse import urlencode

import pytest
from twilio.request_validator import RequestValidator
from werkzeug.formparser import FormDataParser

from service.channels.signature import MAX_BODY, MAX_FIELDS

from .conftest import routes

FORM = "application/x-www-form-urlencoded"
WELL_FORMED = "A" * 27 + "="  # the shape of a real signature, the value of none


class CountingInput(io.BytesIO):
    """wsgi.input that counts the bytes the app read from it."""

    def __init__(self, data: bytes):
        super().__init__(data)
        self.bytes_read = 0

    def read(self, size=-1):
        chunk = super().read(size)
        self.bytes_read += len(chunk)
        return chunk

    def readline(self, size=-1):
        chunk = super().readline(size)
        self.bytes_read += len(chunk)
        return chunk


@pytest.fixture
def work(monkeypatch):
    """Counts form parses and signature computations during a request."""
    counts = {"parsed": 0, "signed": 0}
    parse, compute = FormDataParser.parse, RequestValidator.compute_signature

    def counting_parse(self, *args, **kwargs):
        counts["parsed"] += 1
        return parse(self, *args, **kwargs)

    def counting_compute(self, *args, **kwargs):
        counts["signed"] += 1
        return compute(self, *args, **kwargs)

    monkeypatch.setattr(FormDataParser, "parse", counting_parse)
    monkeypatch.setattr(RequestValidator, "compute_signature", counting_compute)
    return counts


def big_form(size: int) -> bytes:
    """About `size` bytes of a form with as many fields as a flood sends (a=1&a=1&...)."""
    return b"&".join([b"a=1"] * (size // 4))


def send(client, path: str, body: bytes, signature: str | None, *, chunked: bool = False):
    stream = CountingInput(body)
    headers = {} if signature is None else {"X-Twilio-Signature": signature}
    kwargs = {"environ_overrides": {"wsgi.input_terminated": True}} if chunked else {"content_length": len(body)}
    resp = client.post(path, input_stream=stream, content_type=FORM, headers=headers, **kwargs)
    return resp, stream.bytes_read


def twilio_paths(app) -> list[str]:
    return [rule for rule, _ in routes(app, "/twilio")]


@pytest.mark.parametrize("signature", [None, "", "abc", "A" * 28, "A" * 26 + "==", "A" * 27 + "!",
                                       "A" * 43 + "=", " " + WELL_FORMED, WELL_FORMED + "A"])
def test_a_malformed_signature_is_refused_unread(app, client, work, signature):
    for path in twilio_paths(app):
        resp, read = send(client, path, big_form(1_400_000), signature)
        assert resp.status_code == 403, (path, signature)
        assert (read, work["parsed"], work["signed"]) == (0, 0, 0), (path, signature)


def test_a_body_over_64_kb_is_refused_unread(app, client, work):
    for path in twilio_paths(app):
        for size in (MAX_BODY + 1, 1_400_000):
            body = b"Body=" + b"x" * (size - 5)
            resp, read = send(client, path, body, WELL_FORMED)
            assert resp.status_code == 413, (path, size)
            assert (read, work["parsed"], work["signed"]) == (0, 0, 0)


def test_a_chunked_body_stops_being_read_at_64_kb(app, client, work):
    resp, read = send(client, "/twilio/sms", big_form(1_400_000), WELL_FORMED, chunked=True)
    assert resp.status_code == 413
    assert read <= MAX_BODY + 64 * 1024 and (work["parsed"], work["signed"]) == (0, 0)


def test_more_than_200_fields_are_refused_before_parsing(app, client, work):
    for path in twilio_paths(app):
        body = urlencode([(f"F{i}", "1") for i in range(MAX_FIELDS + 1)]).encode()
        assert len(body) < MAX_BODY
        resp, _read = send(client, path, body, WELL_FORMED)
        assert resp.status_code == 413, path
        assert (work["parsed"], work["signed"]) == (0, 0)


def test_a_signed_text_is_parsed_once_and_signed_once(twilio, work):
    reply = twilio.sms("MENU", from_="+14155550142")
    assert reply.status == 200 and reply.messages
    assert work == {"parsed": 1, "signed": 2}  # one by the emulator (as Twilio signs), one by the app


def test_a_well_formed_wrong_signature_costs_one_computation(client, work):
    resp, read = send(client, "/twilio/sms", urlencode({"From": "+14155550142", "Body": "hi"}).encode(), WELL_FORMED)
    assert resp.status_code == 403 and (work["parsed"], work["signed"]) == (1, 1)


def test_the_limits_leave_room_for_any_real_webhook(twilio):
    """200 fields and a body just under 64 KB, signed: answered as usual."""
    params = {**twilio.sms_params("MENU", from_="+14155550142")}
    params.update({f"X{i}": "1" for i in range(MAX_FIELDS - len(params) - 1)})
    params["Pad"] = "x" * (MAX_BODY - len(urlencode(params)) - 10)
    assert len(params) == MAX_FIELDS and len(urlencode(params)) < MAX_BODY
    reply = twilio.post("/twilio/sms", params)
    assert reply.status == 200 and reply.messages
