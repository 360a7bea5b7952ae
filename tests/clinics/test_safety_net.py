"""Red flags and clinics (issue 13): a clinic that confirmed the patient gets an urgent task
marked with the class and the words, and the reply says the clinic will see it; a "yes" right
after a safety reply confirms no enrollment; an opted-out patient's red flag still reaches the
clinic, with no text back; the portal shows the class, the words and the counts."""

from __future__ import annotations

import sqlalchemy as sa

from service.engine import Reply
from service.models import FollowUpTask

from tests.support.clinics import enrollment, subscriber

PHONE = "+14155550123"


def safety(app, kind: str, seen_by: str, locale: str = "en") -> str:
    return app.extensions["line"].renderer.render(Reply("safety", key=kind, params=(("seen_by", seen_by),)), locale)


def test_a_confirmed_patients_red_flag_is_a_task_with_its_class_and_words(make_clinic, api_for, portal_for,
                                                                             twilio, db, app):
    north = make_clinic("North")
    api_for(north).enroll(PHONE, categories=["chemo"])
    twilio.sms("YES", from_=PHONE)
    assert twilio.sms("my chest hurts real bad", from_=PHONE).messages == [safety(app, "emergency", "clinic")]
    task = db.one(sa.select(FollowUpTask))
    assert (task.kind, task.urgent, task.red_flag_class, task.red_flag_words) == (
        "red_flag", True, "emergency", "chest hurts")
    page = portal_for(north).get("/portal/tasks").get_data(as_text=True)
    assert "Emergency: told to call 911" in page and "Words that raised the flag: chest hurts" in page
    board = portal_for(north).get("/portal/dashboard").get_data(as_text=True)
    assert "Red flags by class and language" in board and "<td>Emergency: told to call 911</td><td>English</td><td>1</td>" in board


def test_no_task_and_no_clinic_line_before_the_patient_confirmed(make_clinic, api_for, twilio, db, app):
    north = make_clinic("North")
    api_for(north).enroll(PHONE, categories=["chemo"])  # awaiting YES
    assert twilio.sms("i want to die", from_=PHONE).messages[0] == safety(app, "crisis", "nobody")
    assert db.count(FollowUpTask) == 0


def test_yes_right_after_a_safety_reply_confirms_no_enrollment(make_clinic, api_for, twilio, db, app, clock):
    north = make_clinic("North")
    eid = api_for(north).enroll(PHONE, categories=["chemo"]).get_json()["id"]
    twilio.sms("fever 102", from_=PHONE)
    assert twilio.sms("YES", from_=PHONE).messages == [safety(app, "urgent", "nobody")]
    assert enrollment(db, eid).status == "awaiting_yes"
    clock.advance(minutes=31)
    assert "You are signed up" in twilio.sms("YES", from_=PHONE).text  # now it answers the clinic
    assert enrollment(db, eid).status == "active"


def test_an_opted_out_patients_red_flag_reaches_the_clinic_with_no_text_back(make_clinic, api_for, twilio, db):
    north = make_clinic("North")
    api_for(north).enroll(PHONE, categories=["chemo"])
    twilio.sms("YES", from_=PHONE)
    twilio.sms("STOP", from_=PHONE)
    assert subscriber(db, PHONE).status == "opted_out"
    assert twilio.sms("no puedo respirar", from_=PHONE).messages == []  # carriers block it (21610)
    task = db.one(sa.select(FollowUpTask))
    assert (task.kind, task.red_flag_class, task.clinic_id) == ("red_flag", "emergency", north.id)


def test_a_red_flag_while_a_check_in_is_open_is_not_an_answer(make_clinic, api_for, twilio, db, app, clock):
    from .test_double_opt_in import _active_with_sent_checkin

    _, eid = _active_with_sent_checkin(make_clinic, api_for, twilio, db, app, clock)
    assert twilio.sms("3 days of diarrhea all day", from_=PHONE).messages == [safety(app, "urgent", "clinic")]
    assert enrollment(db, eid).checkin_answer is None
    assert twilio.sms("yes", from_=PHONE).messages == [safety(app, "urgent", "clinic")]
    clock.advance(minutes=1)
    assert "call you" in twilio.sms("3", from_=PHONE).text  # the check-in still takes its answer
    assert [t.kind for t in db.all(sa.select(FollowUpTask).order_by(FollowUpTask.id))] == ["red_flag", "call_me"]
