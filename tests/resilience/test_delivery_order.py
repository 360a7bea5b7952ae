"""Status callbacks that race the worker, or come in every order and twice, never move a text
backwards (tests/channels/test_status_callback.py has the single-order cases)."""

from __future__ import annotations

from itertools import permutations

from service.messaging import sender_for

from tests.conftest import PUBLIC
from tests.support.outbound import LA, app, attempts, drain, fake, message, queue, worker, worker_config  # noqa: F401
from tests.support.senders import AfterSend
from tests.support.twilio import ACCOUNT_SID, PROGRAM_NUMBER


def callback(twilio, url: str, sid: str, status: str, error_code: str | None = None) -> int:
    assert url.startswith(PUBLIC)
    params = {"MessageSid": sid, "SmsSid": sid, "MessageStatus": status, "SmsStatus": status, "To": LA,
              "From": PROGRAM_NUMBER, "AccountSid": ACCOUNT_SID, "ApiVersion": "2010-04-01"}
    if error_code:
        params["ErrorCode"] = error_code
    return twilio.post(url[len(PUBLIC):], params).status


def _calls_back_before_the_answer(app, fake, twilio, *statuses):
    """A worker whose Twilio call is answered only after these callbacks arrived and committed,
    as happens when Twilio is fast and the REST answer is slow."""
    def hook(_to, url, result):
        for status, code in statuses:
            assert callback(twilio, url, result.sid, status, code) == 204

    with app.app_context():
        return worker(app, sender=AfterSend(sender_for(app), hook)).drain()


def test_delivered_before_the_worker_records_the_201_stays_delivered(app, fake, twilio):
    row_id = queue(app, LA, "fast network")
    stats = _calls_back_before_the_answer(app, fake, twilio, ("sent", None), ("delivered", None))
    assert stats.sent == 1
    [created] = fake.created()
    row = message(app, row_id)
    assert (row.status, row.twilio_sid, row.attempts) == ("delivered", created["sid"], 1)
    assert [(a.outcome, a.twilio_sid) for a in attempts(app, row_id)] == [("accepted", created["sid"])]


def test_failed_before_the_worker_records_the_201_stays_failed_and_is_not_resent(app, fake, twilio, clock):
    row_id = queue(app, LA, "carrier said no")
    _calls_back_before_the_answer(app, fake, twilio, ("undelivered", "30003"))
    row = message(app, row_id)
    assert (row.status, row.error_code) == ("undelivered", "30003")
    clock.advance(days=1)
    assert drain(app).claimed == 0 and len(fake.requests) == 1


ORDERS = list(permutations(["queued", "sending", "sent", "delivered"]))


def test_every_order_each_twice_ends_delivered(app, fake, twilio, clock):
    """All 24 orders of Twilio's statuses, each callback delivered twice in a row."""
    # One number each: the daily cap per number (messaging/caps.py) is not what this is about.
    rows = [queue(app, f"+1415555{i:04d}", f"order {i}") for i in range(len(ORDERS))]
    assert drain(app).sent == len(rows)
    urls = {m["body"]: (m["sid"], m["_status_callback"]) for m in fake.created()}
    sent_at = {row_id: message(app, row_id).sent_at for row_id in rows}
    clock.advance(minutes=1)
    for row_id, order in zip(rows, ORDERS):
        sid, url = urls[message(app, row_id).body]
        for status in order:
            assert callback(twilio, url, sid, status) == 204
            assert callback(twilio, url, sid, status) == 204
        row = message(app, row_id)
        assert (row.status, row.twilio_sid, row.error_code) == ("delivered", sid, None), order
        assert row.sent_at == sent_at[row_id]  # a late "sent" does not restamp it


def test_the_first_final_status_wins_whatever_follows(app, fake, twilio):
    finals = [("delivered", None), ("undelivered", "30003"), ("failed", "30007")]
    rows = {}
    for first in finals:
        rows[first] = queue(app, LA, f"first {first[0]}")
    drain(app)
    urls = {m["body"]: (m["sid"], m["_status_callback"]) for m in fake.created()}
    for first, row_id in rows.items():
        sid, url = urls[f"first {first[0]}"]
        callback(twilio, url, sid, *first)
        for status, code in finals + [("sent", None), first]:
            callback(twilio, url, sid, status, code)
        row = message(app, row_id)
        assert (row.status, row.error_code) == first
