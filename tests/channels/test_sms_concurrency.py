"""Two messages from one number at the same moment leave consistent state."""

from __future__ import annotations

import threading

import sqlalchemy as sa

from service.models import ConsentEvent, InboundMessage, Subscriber
from tests.support.twilio import TwilioEmulator, new_sid


def _burst(app, twilio: TwilioEmulator, jobs):
    """Post every (body, sid) at once from its own thread; return the replies in job order."""
    barrier = threading.Barrier(len(jobs))
    results = [None] * len(jobs)

    def post(i, body, sid):
        emulator = TwilioEmulator(client=app.test_client(), token=twilio.token, base_url=twilio.base_url)
        barrier.wait()
        results[i] = emulator.sms(body, from_="+14155550177", sid=sid)

    threads = [threading.Thread(target=post, args=(i, b, s)) for i, (b, s) in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def test_simultaneous_first_messages_create_one_subscriber(app, twilio, db):
    replies = _burst(app, twilio, [(f"hello {i}", new_sid("SM")) for i in range(8)])
    assert all(r.status == 200 for r in replies)
    assert db.count(Subscriber) == 1
    assert db.count(InboundMessage) == 8
    events = db.all(sa.select(ConsentEvent))
    assert [(e.kind, e.source) for e in events] == [("opt_in", "sms_first_contact")]
    welcomes = [r for r in replies if any("not medical advice" in m for m in r.messages)]
    assert len(welcomes) == 1  # exactly one of them was first


def test_same_message_delivered_concurrently_is_handled_once(app, twilio, db):
    sid = new_sid("SM")
    replies = _burst(app, twilio, [("STOP", sid)] * 6)
    assert all(r.status == 200 for r in replies)
    assert len({r.raw for r in replies}) == 1
    assert db.count(InboundMessage) == 1
    assert [e.kind for e in db.all(sa.select(ConsentEvent))] == ["opt_out"]


def test_stop_racing_menu_ends_opted_out(app, twilio, db):
    twilio.sms("hi", from_="+14155550177")
    _burst(app, twilio, [("STOP", new_sid("SM")), ("2", new_sid("SM")), ("MORE", new_sid("SM"))])
    sub = db.one(sa.select(Subscriber))
    kinds = [e.kind for e in db.all(sa.select(ConsentEvent).order_by(ConsentEvent.id))]
    assert kinds == ["opt_in", "opt_out"]
    assert sub.status == "opted_out"
