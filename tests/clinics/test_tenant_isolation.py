"""Issue 17, items 1 and 2: a clinic learns what a number did only while it was that clinic's
confirmed patient, and a YES confirms exactly the enrollment whose confirmation the person last
received. One number shared by two clinics, an enrollment stopped before its YES, and each order
of confirmations, stops, expiries and YESes, all through the API and signed SMS webhooks."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from service.clinics.stats import dashboard
from service.models import ConsentEvent, EnrollmentMessage, FollowUpTask, OutboundMessage

from tests.support.clinics import enrollment, mark_sent, queue_rows, send_confirmations

PHONE = "+14155550123"


def board(app, clock, clinic_id: int, days: int = 90):
    from service import db as dbmod

    with app.app_context(), dbmod.transaction() as sess:
        return dashboard(sess, clinic_id, clock(), days)


def ask(twilio, clock, topic_number: str) -> None:
    """The person opens one main-menu topic (menu.toml order: 2 hormone, 3 cdk46, 4 her2, 5 adc),
    a minute after whatever happened before."""
    clock.advance(minutes=1)
    twilio.sms("MENU", from_=PHONE)
    twilio.sms(topic_number, from_=PHONE)
    clock.advance(minutes=1)


def yes(twilio, clock):
    clock.advance(minutes=1)
    reply = twilio.sms("YES", from_=PHONE)
    clock.advance(minutes=1)
    return reply


def confirm_of(db, enrollment_id: int) -> OutboundMessage:
    return db.one(sa.select(OutboundMessage).join(EnrollmentMessage, EnrollmentMessage.message_id == OutboundMessage.id)
                  .where(EnrollmentMessage.enrollment_id == enrollment_id, EnrollmentMessage.step == "confirm"))


# --- 1. Figures only from confirmed enrollments' active periods ----------------------------------


def test_a_number_shared_by_two_clinics_shows_each_only_its_own_confirmed_period(
        make_clinic, api_for, twilio, app, clock, db):
    north, south = make_clinic("North"), make_clinic("South")
    twilio.sms("hi", from_=PHONE)
    ask(twilio, clock, "2")  # hormone: before anyone enrolled the number
    north_id = api_for(north).enroll(PHONE, categories=["chemo"]).get_json()["id"]
    ask(twilio, clock, "3")  # cdk46: enrolled by North, not yet confirmed
    yes(twilio, clock)
    ask(twilio, clock, "4")  # her2: North's patient
    south_id = api_for(south).enroll(PHONE, categories=["bone"]).get_json()["id"]
    ask(twilio, clock, "5")  # adc: North's patient; South's enrollment awaits YES
    yes(twilio, clock)
    assert enrollment(db, south_id).status == "active"
    ask(twilio, clock, "2")  # hormone: both clinics' patient
    assert api_for(north).post(f"/enrollments/{north_id}/stop").status_code == 200
    ask(twilio, clock, "3")  # cdk46: South's patient only
    twilio.sms("STOP", from_=PHONE)  # ends South's enrollment; North's had ended already

    north_board, south_board = board(app, clock, north.id), board(app, clock, south.id)
    assert north_board.topics == {"en": [("adc", 1), ("her2", 1), ("hormone", 1)]}
    assert south_board.topics == {"en": [("cdk46", 1), ("hormone", 1)]}
    assert north_board.opt_outs == [] and [n for _, n in south_board.opt_outs] == [1]
    assert dict(north_board.funnel)["opted_out"] == 0 and dict(south_board.funnel)["opted_out"] == 1
    # Every text of the number, for comparison: 5 topics over the period, 3 of them North's.
    assert sum(n for _, n in north_board.topics["en"]) == 3


def test_enrolled_then_stopped_before_confirming_shows_nothing_of_the_person(
        make_clinic, api_for, portal_for, twilio, app, clock, db):
    """The attack in the issue: South's patient's history through an enrollment North stops at once."""
    north, south = make_clinic("North"), make_clinic("South")
    api_for(south).enroll(PHONE, categories=["chemo"])
    yes(twilio, clock)
    for number in ("2", "3", "4"):
        ask(twilio, clock, number)
        clock.advance(days=10)
    clock.advance(days=1)
    twilio.sms("STOP", from_=PHONE)
    twilio.sms("START", from_=PHONE)  # back, so North may enroll the number

    probe = api_for(north).enroll(PHONE, categories=["bone"], sent=False).get_json()["id"]
    assert api_for(north).post(f"/enrollments/{probe}/stop").status_code == 200
    assert confirm_of(db, probe).status == "cancelled"  # never sent
    ask(twilio, clock, "5")  # after the stop

    spied = board(app, clock, north.id)
    assert spied.topics == {} and spied.channels == {} and spied.opt_outs == []
    assert dict(spied.funnel) == {"enrolled": 1, "confirmed": 0, "completed": 0, "opted_out": 0, "expired": 0}
    page = portal_for(north).get("/portal/dashboard?days=90").get_data(as_text=True)
    assert "Hormone therapy" not in page and "CDK4/6" not in page and "HER2" not in page
    # South, whose patient it was, sees the three topics and the opt-out.
    own = board(app, clock, south.id)
    assert own.topics == {"en": [("cdk46", 1), ("her2", 1), ("hormone", 1)]}
    assert [n for _, n in own.opt_outs] == [1]


def test_a_second_enrollment_counts_its_own_period_once(make_clinic, api_for, twilio, app, clock, db):
    """Enrolled, stopped, enrolled again: the gap between is not the clinic's, and nothing is
    counted twice."""
    north = make_clinic("North")
    api = api_for(north)
    first = api.enroll(PHONE).get_json()["id"]
    yes(twilio, clock)
    ask(twilio, clock, "2")
    api.post(f"/enrollments/{first}/stop")
    ask(twilio, clock, "3")  # between enrollments
    api.enroll(PHONE)
    yes(twilio, clock)
    ask(twilio, clock, "2")
    assert board(app, clock, north.id).topics == {"en": [("hormone", 2)]}


# --- 2. A YES confirms the enrollment whose confirmation the person last received ----------------


def test_yes_confirms_only_the_sent_confirmation_and_the_other_goes_out_after(
        make_clinic, api_for, twilio, app, clock, db):
    north, south = make_clinic("North"), make_clinic("South")
    a = api_for(north).enroll(PHONE, categories=["chemo"]).get_json()["id"]
    b = api_for(south).enroll(PHONE, categories=["bone"]).get_json()["id"]
    assert confirm_of(db, a).status == "sent" and confirm_of(db, b).status == "held"
    # South sees its confirmation as queued: "held" would tell it another clinic enrolled the number.
    assert [m["status"] for m in api_for(south).get(f"/enrollments/{b}").get_json()["messages"]] == ["queued"]

    reply = yes(twilio, clock)
    assert "signed up" in reply.text
    assert enrollment(db, a).status == "active" and enrollment(db, b).status == "awaiting_yes"
    released = confirm_of(db, b)
    assert released.status == "queued" and released.due_at == clock() - timedelta(minutes=1)
    assert "South" in released.body

    assert send_confirmations(app) == [b]
    yes(twilio, clock)
    assert enrollment(db, b).status == "active"
    sources = db.all(sa.select(ConsentEvent.source))
    assert sources == ["clinic_enrollment_yes", "clinic_enrollment_yes"]  # one consent per YES


def test_yes_before_any_confirmation_arrived_confirms_nothing(make_clinic, api_for, twilio, db, app, clock):
    north = make_clinic("North")
    a = api_for(north).enroll(PHONE, sent=False).get_json()["id"]
    reply = yes(twilio, clock)
    assert "signed up" not in reply.text  # the engine's own answer to YES
    assert enrollment(db, a).status == "awaiting_yes"
    send_confirmations(app)
    yes(twilio, clock)
    assert enrollment(db, a).status == "active"


def test_a_cancelled_confirmation_is_not_confirmed_by_a_yes(make_clinic, api_for, twilio, db, app, clock):
    north, south = make_clinic("North"), make_clinic("South")
    a = api_for(north).enroll(PHONE, sent=False).get_json()["id"]
    b = api_for(south).enroll(PHONE).get_json()["id"]  # held behind North's queued one
    assert confirm_of(db, b).status == "held"
    api_for(north).post(f"/enrollments/{a}/stop")
    assert confirm_of(db, a).status == "cancelled" and confirm_of(db, b).status == "queued"
    yes(twilio, clock)  # South's confirmation is queued, not sent: nothing confirmed
    assert enrollment(db, b).status == "awaiting_yes"
    send_confirmations(app)
    yes(twilio, clock)
    assert enrollment(db, a).status == "stopped" and enrollment(db, b).status == "active"


def test_stopping_the_pending_one_sends_the_next_and_its_yes_is_its_own(make_clinic, api_for, twilio, db, app, clock):
    north, south = make_clinic("North"), make_clinic("South")
    a = api_for(north).enroll(PHONE).get_json()["id"]
    b = api_for(south).enroll(PHONE).get_json()["id"]
    api_for(north).post(f"/enrollments/{a}/stop")  # North's confirmation was sent, then stopped
    assert confirm_of(db, b).status == "queued"
    yes(twilio, clock)  # answers North's text, which is stopped: nothing confirmed
    assert enrollment(db, b).status == "awaiting_yes"
    send_confirmations(app)
    yes(twilio, clock)
    assert (enrollment(db, a).status, enrollment(db, b).status) == ("stopped", "active")


def test_an_expired_confirmation_releases_the_next_with_a_full_week(make_clinic, api_for, twilio, db, app, clock):
    north, south = make_clinic("North"), make_clinic("South")
    a = api_for(north).enroll(PHONE).get_json()["id"]
    clock.advance(days=3)
    b = api_for(south).enroll(PHONE).get_json()["id"]
    clock.advance(days=4, minutes=1)
    assert api_for(north).get(f"/enrollments/{a}").get_json()["status"] == "expired"  # the sweep ran
    released = confirm_of(db, b)
    assert released.status == "queued" and released.due_at == clock()
    assert enrollment(db, b).expires_at == clock() + timedelta(days=7)
    send_confirmations(app)
    clock.advance(days=6)
    yes(twilio, clock)
    assert enrollment(db, b).status == "active"


def test_the_cli_sweep_releases_a_held_confirmation_nobody_released(make_clinic, api_for, runner, db, app, clock):
    """A stop racing another clinic's enroll can leave a confirmation held with nothing in flight;
    the sweep finds and sends it."""
    north, south = make_clinic("North"), make_clinic("South")
    a = api_for(north).enroll(PHONE).get_json()["id"]
    b = api_for(south).enroll(PHONE).get_json()["id"]
    from service import db as dbmod

    with app.app_context(), dbmod.transaction() as sess:  # as if the stop had not seen b yet
        sess.execute(sa.update(OutboundMessage).where(OutboundMessage.id == confirm_of(db, a).id)
                     .values(status="undelivered"))
    result = runner.invoke(args=["clinics", "sweep"])
    assert "1 failed" in result.output and "1 released" in result.output, result.output
    assert confirm_of(db, b).status == "queued" and enrollment(db, a).status == "failed"


def test_when_both_confirmations_went_out_the_last_received_is_confirmed(make_clinic, api_for, twilio, db, app, clock):
    """Rows from before one-at-a-time confirmations: both sent. The YES answers the latest."""
    north, south = make_clinic("North"), make_clinic("South")
    a = api_for(north).enroll(PHONE).get_json()["id"]
    b = api_for(south).enroll(PHONE).get_json()["id"]
    clock.advance(minutes=5)
    mark_sent(app, [confirm_of(db, b).id], clock())
    yes(twilio, clock)
    assert (enrollment(db, a).status, enrollment(db, b).status) == ("awaiting_yes", "active")


def test_twilio_advanced_opt_in_confirms_one_enrollment_too(make_clinic, api_for, twilio, db, app, clock):
    north, south = make_clinic("North"), make_clinic("South")
    a = api_for(north).enroll(PHONE).get_json()["id"]
    b = api_for(south).enroll(PHONE).get_json()["id"]
    assert twilio.sms("YES", from_=PHONE, OptOutType="START").messages == []
    assert (enrollment(db, a).status, enrollment(db, b).status) == ("active", "awaiting_yes")
    assert "welcome" in [step for step, _ in queue_rows(db, enrollment_id=a)]
    assert confirm_of(db, b).status == "queued"


def test_stop_cancels_a_held_confirmation(make_clinic, api_for, twilio, db):
    north, south = make_clinic("North"), make_clinic("South")
    api_for(north).enroll(PHONE)
    b = api_for(south).enroll(PHONE).get_json()["id"]
    twilio.sms("STOP", from_=PHONE)
    assert confirm_of(db, b).status == "cancelled" and enrollment(db, b).status == "stopped"


def test_red_flags_and_check_in_answers_reach_only_the_confirmed_clinic(
        make_clinic, api_for, twilio, db, app, clock):
    north, south = make_clinic("North"), make_clinic("South")
    start = (clock() - timedelta(days=30)).date().isoformat()
    a = api_for(north).enroll(PHONE, categories=["her2"], start_date=start).get_json()["id"]
    yes(twilio, clock)
    b = api_for(south).enroll(PHONE, categories=["bone"]).get_json()["id"]  # sent, never answered
    assert confirm_of(db, b).status == "sent"
    checkin = dict(queue_rows(db, enrollment_id=a))["common.checkin"]
    clock.advance(days=2, hours=1)
    mark_sent(app, [checkin.id], clock())
    clock.advance(hours=1)
    twilio.sms("3", from_=PHONE)
    twilio.sms("I have a fever of 102", from_=PHONE)
    tasks = db.all(sa.select(FollowUpTask).order_by(FollowUpTask.id))
    assert [(t.clinic_id, t.enrollment_id, t.kind) for t in tasks] == [(north.id, a, "call_me"), (north.id, a, "red_flag")]
    assert enrollment(db, b).checkin_answer is None and enrollment(db, b).status == "awaiting_yes"
