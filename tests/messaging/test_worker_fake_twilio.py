"""The fake Twilio speaks the Messages resource as the OpenAPI spec describes it, so the worker's
tests exercise the real `twilio` library against realistic answers."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
import requests

from service.messaging import PERMANENT, RETRY, UNKNOWN, SendError
from service.messaging.twilio_sender import TwilioSender
from tests.conftest import TOKEN
from tests.fake_twilio import drop, error, server_error, too_many
from tests.support.outbound import FROM, LA, NYC, fake  # noqa: F401
from tests.support.twilio import ACCOUNT_SID

SPEC = Path("/work/shared/reference/twilio_api_v2010.json")
MESSAGES = "/2010-04-01/Accounts/{AccountSid}/Messages.json"


@pytest.fixture(scope="module")
def spec():
    if not SPEC.exists():
        pytest.skip("reference spec not present")
    return json.loads(SPEC.read_text())


def url(fake) -> str:
    return f"{fake.base_url}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"


def post(fake, **form):
    return requests.post(url(fake), data=form, auth=(ACCOUNT_SID, TOKEN), timeout=5)


def test_created_message_has_the_spec_shape(fake, spec):
    schema = spec["components"]["schemas"]["api.v2010.account.message"]["properties"]
    resp = post(fake, To=LA, From=FROM, Body="hi", StatusCallback="https://x.example/twilio/status?o=1&a=1")
    assert resp.status_code == 201
    body = resp.json()
    assert set(body) == set(schema)
    for name, prop in schema.items():
        value = body[name]
        if value is None:
            assert prop.get("nullable"), name
        elif prop.get("type") == "string":
            assert isinstance(value, str), name
        elif prop.get("type") == "integer":
            assert isinstance(value, int), name
    assert body["direction"] == "outbound-api" and body["status"] == "queued"
    assert body["uri"] == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{body['sid']}.json"
    assert [r["name"] for r in spec["paths"][MESSAGES]["get"]["parameters"]][:1] == ["AccountSid"]


def test_list_has_the_spec_shape_and_pages(fake, spec):
    schema = spec["paths"][MESSAGES]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    for i in range(7):
        post(fake, To=LA, From=FROM, Body=f"m{i}")
    post(fake, To=NYC, From=FROM, Body="other")
    page = requests.get(url(fake), params={"To": LA, "PageSize": 5}, auth=(ACCOUNT_SID, TOKEN), timeout=5).json()
    assert set(page) == set(schema["properties"])
    assert [m["body"] for m in page["messages"]] == ["m6", "m5", "m4", "m3", "m2"]  # newest first
    nxt = requests.get(fake.base_url + page["next_page_uri"], auth=(ACCOUNT_SID, TOKEN), timeout=5).json()
    assert [m["body"] for m in nxt["messages"]] == ["m1", "m0"] and nxt["next_page_uri"] is None


def test_errors_use_twilio_envelope(fake):
    for form, code in [({"From": FROM, "Body": "x"}, 21604), ({"To": LA, "Body": "x"}, 21603),
                       ({"To": LA, "From": FROM}, 21602), ({"To": "555", "From": FROM, "Body": "x"}, 21211),
                       ({"To": "+15005550004", "From": FROM, "Body": "x"}, 21610)]:
        resp = post(fake, **form)
        assert resp.status_code == 400
        assert set(resp.json()) == {"code", "message", "more_info", "status"}
        assert resp.json()["code"] == code and resp.json()["status"] == 400
    assert requests.post(url(fake), data={"To": LA}, timeout=5).status_code == 401
    other = url(fake).replace(ACCOUNT_SID, "AC" + "f" * 32)
    assert requests.post(other, data={"To": LA}, auth=(ACCOUNT_SID, TOKEN), timeout=5).status_code == 401


def sender(fake, **kw) -> TwilioSender:
    return TwilioSender(ACCOUNT_SID, TOKEN, from_number=FROM, base_url=fake.base_url, timeout=1, **kw)


def test_sender_classifies_errors(fake):
    s = sender(fake)
    cases = [(too_many(), RETRY, "20429"), (server_error(), UNKNOWN, "20500"),
             (error(400, 21614), PERMANENT, "21614"), (drop(), UNKNOWN, "connection")]
    for action, kind, code in cases:
        fake.script_next(action)
        with pytest.raises(SendError) as caught:
            s.send(LA, "x", "https://x.example/twilio/status")
        assert (caught.value.kind, caught.value.code) == (kind, code), action


def test_sender_find_pages_back_to_the_window(fake, clock):
    s = sender(fake)
    for i in range(120):
        s.send(LA, f"old {i}", "cb")
    clock.advance(hours=1)
    since = clock()
    s.send(LA, "new", "cb")
    s.send(NYC, "elsewhere", "cb")
    found = s.find(LA, since - timedelta(seconds=1))
    assert [f.body for f in found] == ["new"]
    # Page 1 held the new one, page 2 only older ones: the scan stops there, not at page 3.
    assert len(fake.lookups) == 2
    all_recent = s.find(LA, since - timedelta(hours=2))
    assert len(all_recent) == 121


def test_sender_find_ignores_messages_from_other_senders(fake, clock):
    sender(fake).send(LA, "ours", "cb")
    TwilioSender(ACCOUNT_SID, TOKEN, from_number="+18005550100", base_url=fake.base_url).send(LA, "not ours", "cb")
    assert [f.body for f in sender(fake).find(LA, clock() - timedelta(minutes=1))] == ["ours"]
