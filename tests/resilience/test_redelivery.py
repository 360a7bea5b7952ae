"""The same inbound message delivered twice, late: after the conversation moved on, after the
person opted back in, or when it confirms a clinic enrollment. The first answer is repeated and
nothing changes (tests/channels/ covers the back-to-back and concurrent repeats)."""

from __future__ import annotations

import sqlalchemy as sa

from service.models import ConsentEvent, InboundMessage, OutboundMessage, Subscriber
from tests.support.clinics import queue_rows
from tests.support.twilio import new_sid

PHONE = "+14155550133"


def state(db) -> tuple:
    sub = db.one(sa.select(Subscriber).where(Subscriber.phone == PHONE))
    return sub.status, sub.locale, sub.menu_node, sub.menu_page, sub.menu_topic, sub.menu_item


def consent(db) -> list[tuple[str, str]]:
    return [(e.kind, e.source) for e in db.all(sa.select(ConsentEvent).order_by(ConsentEvent.id))]


def test_a_late_redelivery_repeats_its_answer_and_does_not_rewind_the_menu(twilio, db):
    twilio.sms("hi", from_=PHONE)
    topic_sid = new_sid("SM")
    topic = twilio.sms("2", from_=PHONE, sid=topic_sid)
    assert topic.messages[0].startswith("Hormone therapy")
    twilio.sms("1", from_=PHONE)
    twilio.sms("MORE", from_=PHONE)
    moved_on = state(db)

    late = twilio.sms("2", from_=PHONE, sid=topic_sid)  # Twilio's retry of the 2nd text, minutes later
    assert late.status == 200 and late.raw == topic.raw
    assert state(db) == moved_on
    assert db.count(InboundMessage) == 4


def test_a_late_stop_after_start_does_not_opt_out_again(twilio, db):
    twilio.sms("hi", from_=PHONE)
    stop_sid = new_sid("SM")
    stop = twilio.sms("STOP", from_=PHONE, sid=stop_sid)
    twilio.sms("START", from_=PHONE)
    assert state(db)[0] == "active"

    again = twilio.sms("STOP", from_=PHONE, sid=stop_sid)
    assert again.raw == stop.raw  # the same confirmation Twilio already has; no new opt-out
    assert state(db)[0] == "active"
    assert [kind for kind, _ in consent(db)] == ["opt_in", "opt_out", "opt_in"]


def test_a_redelivered_yes_activates_the_enrollment_once(make_clinic, api_for, twilio, db):  # noqa: F811
    clinic = make_clinic("Redelivery Oncology")
    eid = api_for(clinic).enroll(PHONE, categories=["hormone"]).get_json()["id"]
    yes_sid = new_sid("SM")
    first = twilio.sms("YES", from_=PHONE, sid=yes_sid)
    assert first.messages[0].startswith("MBC Guide: You are signed up.")
    queued = [(step, row.id) for step, row in queue_rows(db, enrollment_id=eid)]
    assert len(queued) > 2

    again = twilio.sms("YES", from_=PHONE, sid=yes_sid)
    assert again.raw == first.raw
    assert [(step, row.id) for step, row in queue_rows(db, enrollment_id=eid)] == queued
    assert db.count(OutboundMessage) == len(queued)
    assert consent(db) == [("opt_in", "clinic_enrollment_yes")]
    assert db.count(InboundMessage) == 1
