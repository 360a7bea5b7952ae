"""Double opt-in, the series schedule, catch-up, check-in answers, red flags and opt-out
everywhere: enrolled through the API, answered through signed SMS webhooks, checked on the queue."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from service.engine import Reply

from service.models import AuditLog, ConsentEvent, Enrollment, FollowUpTask, OutboundMessage

from tests.support.clinics import enrollment, mark_sent, queue_rows, send_confirmations, subscriber

PHONE = "+14155550123"  # San Francisco: America/Los_Angeles


def steps(rows) -> list[str]:
    return [step for step, _ in rows]


def test_enrolling_queues_one_confirmation_and_nothing_else_until_yes(make_clinic, api_for, db, clock):
    north = make_clinic("Northside Oncology")
    created = api_for(north).enroll(PHONE, categories=["hormone"], sent=False)
    assert created.status_code == 201
    body = created.get_json()
    assert body["status"] == "awaiting_yes"
    assert body["timezone"] == "America/Los_Angeles"  # from the number

    [(step, row)] = queue_rows(db, PHONE)
    assert step == "confirm"
    assert row.dedupe_key == f"enroll:{body['id']}:confirm"
    assert row.source == "enrollment" and row.status == "queued" and row.due_at == clock()
    for part in ("MBC Guide", "Northside Oncology", "5 texts over 3 weeks", "Msg & data rates may apply",
                 "Reply YES to start", "HELP", "STOP"):
        assert part in row.body, part

    clock.advance(days=6)
    assert steps(queue_rows(db, PHONE)) == ["confirm"]  # still nothing but the confirmation
    assert subscriber(db, PHONE).status == "new"  # no consent recorded by the clinic alone


def test_yes_activates_and_schedules_the_series_in_local_daytime(make_clinic, api_for, twilio, db, clock):
    north = make_clinic("North")
    eid = api_for(north).enroll(PHONE, categories=["hormone"]).get_json()["id"]

    reply = twilio.sms("yes", from_=PHONE)
    assert reply.status == 200
    [welcome] = reply.messages
    assert welcome.startswith("MBC Guide: You are signed up.") and "not medical advice" in welcome

    item = enrollment(db, eid)
    assert item.status == "active" and item.confirmed_at == clock()
    rows = queue_rows(db, enrollment_id=eid)
    assert steps(rows) == ["confirm", "hormone.what", "hormone.side", "hormone.ask", "common.trials", "common.checkin"]
    # 10:00 in Los Angeles (PST, UTC-8) on start + day; the worker applies the sending window.
    due = {step: row.due_at for step, row in rows}
    assert due["hormone.what"] == datetime(2026, 11, 2, 18, 0, tzinfo=timezone.utc)
    assert due["hormone.side"] == datetime(2026, 11, 5, 18, 0, tzinfo=timezone.utc)
    assert due["common.checkin"] == datetime(2026, 11, 23, 18, 0, tzinfo=timezone.utc)
    assert {row.dedupe_key for _, row in rows[1:]} == {f"enroll:{eid}:step:{s}" for s in steps(rows)[1:]}
    assert all(row.locale == "en" and row.status == "queued" for _, row in rows[1:])
    assert "estrogen" in rows[1][1].body

    sub = subscriber(db, PHONE)
    assert sub.status == "active"
    kinds = db.all(sa.select(ConsentEvent.source).where(ConsentEvent.subscriber_id == sub.id))
    assert kinds == ["clinic_enrollment_yes"]


def test_a_second_yes_queues_nothing_twice(make_clinic, api_for, twilio, db, app, clock):
    north = make_clinic("North")
    eid = api_for(north).enroll(PHONE, categories=["cdk46", "bone"]).get_json()["id"]
    twilio.sms("YES", from_=PHONE)
    first = [row.id for _, row in queue_rows(db, enrollment_id=eid)]
    again = twilio.sms("YES", from_=PHONE)
    assert "Welcome back" in again.text  # now an ordinary opt-in keyword for the engine
    assert [row.id for _, row in queue_rows(db, enrollment_id=eid)] == first

    # Activating the same enrollment again (a retried request) hits the dedupe keys, not the queue.
    from service import db as dbmod
    from service.clinics.schedule import activate
    from service.models import Subscriber

    with app.app_context(), dbmod.transaction() as sess:
        item = sess.get(Enrollment, eid)
        activate(sess, app.extensions["line"].renderer.catalog, item, sess.get(Subscriber, item.subscriber_id), clock())
    assert [row.id for _, row in queue_rows(db, enrollment_id=eid)] == first
    # Two categories: the second is shifted a day so no two texts arrive the same day.
    assert steps(queue_rows(db, enrollment_id=eid))[1:4] == ["cdk46.what", "bone.what", "cdk46.side"]


def test_spanish_yes_word_confirms_and_texts_are_in_spanish(make_clinic, api_for, twilio, db):
    north = make_clinic("Clínica Norte")
    eid = api_for(north).enroll(PHONE, locale="es", categories=["chemo"]).get_json()["id"]
    [(_, confirm)] = queue_rows(db, enrollment_id=eid)
    assert "Responda SI" in confirm.body and "Clínica Norte" in confirm.body and confirm.locale == "es"
    reply = twilio.sms("Sí", from_=PHONE)
    assert reply.messages[0].startswith("MBC Guide: Ya está inscrito")
    rows = queue_rows(db, enrollment_id=eid)
    assert enrollment(db, eid).status == "active"
    assert "quimio" in rows[1][1].body.lower() and rows[1][1].locale == "es"


def test_past_start_date_sends_one_catch_up_instead_of_a_burst(make_clinic, api_for, twilio, db, clock):
    north = make_clinic("North")
    start = (clock() - timedelta(days=10)).date().isoformat()
    eid = api_for(north).enroll(PHONE, categories=["hormone", "cdk46"], start_date=start).get_json()["id"]
    twilio.sms("YES", from_=PHONE)
    rows = queue_rows(db, enrollment_id=eid)
    assert steps(rows) == ["confirm", "catchup", "common.trials", "common.checkin"]
    catchup = rows[1][1]
    assert catchup.due_at == clock() and "recap" in catchup.body
    assert "Hormone therapy" in catchup.body and "CDK4/6" in catchup.body
    assert rows[2][1].due_at.date() == (clock() + timedelta(days=4)).date()


def test_long_past_start_still_gets_its_check_in(make_clinic, api_for, twilio, db, clock):
    north = make_clinic("North")
    start = (clock() - timedelta(days=60)).date().isoformat()
    eid = api_for(north).enroll(PHONE, categories=["adc"], start_date=start).get_json()["id"]
    twilio.sms("YES", from_=PHONE)
    rows = queue_rows(db, enrollment_id=eid)
    assert steps(rows) == ["confirm", "catchup", "common.checkin"]
    assert rows[2][1].due_at == datetime(2026, 11, 4, 18, 0, tzinfo=timezone.utc)  # two days on, 10:00 local


def _active_with_sent_checkin(make_clinic, api_for, twilio, db, app, clock, name="North"):
    access = make_clinic(name)
    start = (clock() - timedelta(days=30)).date().isoformat()
    eid = api_for(access).enroll(PHONE, categories=["her2"], start_date=start).get_json()["id"]
    twilio.sms("YES", from_=PHONE)
    checkin = dict(queue_rows(db, enrollment_id=eid))["common.checkin"]
    assert "Reply 1 doing fine, 2 side effects bother me, 3 please have my care team call me" in checkin.body
    clock.advance(days=2, hours=1)
    mark_sent(app, [checkin.id], clock())
    clock.advance(hours=3)
    return access, eid


def test_check_in_answer_3_asks_the_clinic_to_call(make_clinic, api_for, twilio, db, app, clock):
    access, eid = _active_with_sent_checkin(make_clinic, api_for, twilio, db, app, clock)
    reply = twilio.sms("3", from_=PHONE)
    assert reply.messages == ["MBC Guide: Thanks. We asked North to call you. If you feel very sick, "
                              "call your care team now. Emergency? Call 911."]
    task = db.one(sa.select(FollowUpTask))
    assert (task.clinic_id, task.enrollment_id, task.kind, task.urgent, task.status) == (access.id, eid, "call_me", False, "open")
    assert enrollment(db, eid).checkin_answer == 3
    # Answered: the next digit is menu navigation again, not a second answer.
    assert twilio.sms("2", from_=PHONE).text.startswith("Hormone therapy")
    assert db.count(FollowUpTask) == 1


def test_check_in_answers_1_and_2(make_clinic, api_for, twilio, db, app, clock):
    _, eid = _active_with_sent_checkin(make_clinic, api_for, twilio, db, app, clock)
    assert "glad" in twilio.sms("1", from_=PHONE).text
    assert db.count(FollowUpTask) == 0
    assert enrollment(db, eid).checkin_answer == 1


def test_check_in_answer_2_creates_a_side_effects_task(make_clinic, api_for, twilio, db, app, clock):
    _, eid = _active_with_sent_checkin(make_clinic, api_for, twilio, db, app, clock)
    assert "We let North know" in twilio.sms("2.", from_=PHONE).text
    assert db.one(sa.select(FollowUpTask)).kind == "side_effects"


def test_digits_before_the_check_in_went_out_are_menu_choices(make_clinic, api_for, twilio, db):
    north = make_clinic("North")
    api_for(north).enroll(PHONE, categories=["her2"])
    twilio.sms("YES", from_=PHONE)
    assert twilio.sms("3", from_=PHONE).text.startswith("CDK4/6")  # main menu item 3
    assert db.count(FollowUpTask) == 0


def test_red_flag_from_an_active_patient_is_an_urgent_task_for_each_clinic(make_clinic, api_for, twilio, db, app):
    north, south, west = make_clinic("North"), make_clinic("South"), make_clinic("West")
    api_for(north).enroll(PHONE, categories=["chemo"])
    api_for(south).enroll(PHONE, categories=["bone"])  # held until North's is answered
    twilio.sms("YES", from_=PHONE)  # North
    send_confirmations(app)
    twilio.sms("YES", from_=PHONE)  # South, to its own confirmation
    api_for(west).enroll(PHONE, categories=["adc"])  # awaiting YES: not theirs yet
    reply = twilio.sms("I have a fever of 102", from_=PHONE)
    assert "call 911" in reply.text.lower()
    tasks = db.all(sa.select(FollowUpTask).order_by(FollowUpTask.clinic_id))
    assert [(t.clinic_id, t.kind, t.urgent, t.body) for t in tasks] == [
        (north.id, "red_flag", True, "I have a fever of 102"), (south.id, "red_flag", True, "I have a fever of 102")]


def test_stop_cancels_every_clinic_and_every_pending_text(make_clinic, api_for, twilio, db):
    north, south = make_clinic("North"), make_clinic("South")
    a = api_for(north).enroll(PHONE, categories=["hormone"]).get_json()["id"]
    twilio.sms("YES", from_=PHONE)
    b = api_for(south).enroll(PHONE, categories=["bone"]).get_json()["id"]
    assert any(row.status == "queued" for _, row in queue_rows(db, PHONE))

    reply = twilio.sms("PARAR", from_=PHONE)  # a Spanish opt-out word works for everyone
    assert len(reply.messages) == 1 and "911" in reply.text
    assert {enrollment(db, a).status, enrollment(db, b).status} == {"stopped"}
    assert enrollment(db, a).ended_reason == "opted_out"
    assert {row.status for _, row in queue_rows(db, PHONE)} - {"sent"} == {"cancelled"}  # sent: confirmations
    audits = db.all(sa.select(AuditLog.clinic_id).where(AuditLog.action == "opt_out").order_by(AuditLog.clinic_id))
    assert audits == [north.id, south.id]


def test_twilio_21610_stops_enrollments_like_stop(make_clinic, api_for, twilio, db, app, clock):
    """The worker records 21610 through record_consent; enrollments stop in that transaction."""
    north = make_clinic("North")
    eid = api_for(north).enroll(PHONE, categories=["hormone"]).get_json()["id"]
    twilio.sms("YES", from_=PHONE)
    from service import db as dbmod
    from service.consent import record_consent
    from service.subscribers import lock_subscriber

    with app.app_context(), dbmod.transaction() as sess:
        sub = lock_subscriber(sess, PHONE)
        record_consent(sess, sub.id, "opt_out", "twilio_21610", "SM123", clock())
        sub.status = "opted_out"
    assert enrollment(db, eid).status == "stopped"
    assert {row.status for _, row in queue_rows(db, PHONE)} - {"sent"} == {"cancelled"}  # sent: the confirmation


def test_opted_out_number_cannot_be_enrolled_until_start(make_clinic, api_for, twilio, db):
    north = make_clinic("North")
    api = api_for(north)
    twilio.sms("hi", from_=PHONE)
    twilio.sms("STOP", from_=PHONE)
    refused = api.enroll(PHONE)
    assert refused.status_code == 409
    assert refused.get_json()["error"]["code"] == "opted_out"
    assert queue_rows(db, PHONE) == [] and db.count(Enrollment) == 0
    twilio.sms("START", from_=PHONE)
    assert api.enroll(PHONE).status_code == 201


def test_unconfirmed_enrollment_expires_after_7_days(make_clinic, api_for, twilio, db, clock):
    north = make_clinic("North")
    api = api_for(north)
    eid = api.enroll(PHONE).get_json()["id"]
    clock.advance(days=7, minutes=1)
    assert api.get(f"/enrollments/{eid}").get_json()["status"] == "expired"
    reply = twilio.sms("YES", from_=PHONE)
    assert "signed up" not in reply.text and reply.messages[-1].startswith("MBC Guide topics")  # first contact
    assert steps(queue_rows(db, PHONE)) == ["confirm"]
    assert enrollment(db, eid).ended_reason == "no_yes"


def test_yes_within_7_days_still_counts(make_clinic, api_for, twilio, db, clock):
    north = make_clinic("North")
    eid = api_for(north).enroll(PHONE).get_json()["id"]
    clock.advance(days=6, hours=23)
    twilio.sms("YES", from_=PHONE)
    assert enrollment(db, eid).status == "active"


def test_advanced_opt_out_start_confirms_and_queues_the_welcome(make_clinic, api_for, twilio, db):
    north = make_clinic("North")
    eid = api_for(north).enroll(PHONE, categories=["immuno"]).get_json()["id"]
    reply = twilio.sms("YES", from_=PHONE, OptOutType="START")
    assert reply.messages == []  # Twilio already answered
    rows = queue_rows(db, enrollment_id=eid)
    assert enrollment(db, eid).status == "active"
    assert "welcome" in steps(rows) and "immuno.what" in steps(rows)


def test_finished_series_completes_and_confirmation_failure_fails(make_clinic, api_for, twilio, db, app, clock):
    north = make_clinic("North")
    api = api_for(north)
    done = api.enroll(PHONE, categories=["bone"]).get_json()["id"]
    twilio.sms("YES", from_=PHONE)
    bad = api.enroll("+14155550199", categories=["bone"]).get_json()["id"]
    ids = [row.id for _, row in queue_rows(db, enrollment_id=done)]
    mark_sent(app, ids, clock())
    from service import db as dbmod

    with app.app_context(), dbmod.transaction() as sess:
        sess.execute(sa.update(OutboundMessage).where(OutboundMessage.phone == "+14155550199")
                     .values(status="failed", error_code="21211"))
    listed = {item["id"]: item["status"] for item in api.get("/enrollments").get_json()["items"]}
    assert listed == {done: "completed", bad: "failed"}


def test_red_flag_texted_while_the_database_is_down_still_reaches_the_clinic(make_clinic, api_for, twilio, db,
                                                                             app, broken):
    from service.spool import replay

    broken.fixed()
    north = make_clinic("North")
    api_for(north).enroll(PHONE, categories=["chemo"])
    twilio.sms("YES", from_=PHONE)
    broken.down()
    during = twilio.sms("I have a fever of 102", from_=PHONE)
    assert during.messages[0] == app.extensions["line"].renderer.render(
        Reply("safety", key="urgent", params=(("seen_by", "clinic"),)), "en")
    assert "Your clinic will also see this message." in during.messages[0]
    assert db.count(FollowUpTask) == 0
    broken.fixed()
    assert replay(app).stored == 1
    task = db.one(sa.select(FollowUpTask))
    assert (task.clinic_id, task.kind, task.urgent, task.body) == (north.id, "red_flag", True, "I have a fever of 102")
    assert (task.red_flag_class, task.red_flag_words) == ("urgent", "102")


def test_red_flag_said_on_a_call_is_an_urgent_task_once(make_clinic, api_for, twilio, db, app):
    from tests.support.voice_caller import Call, choose_language

    north = make_clinic("North")
    api_for(north).enroll(PHONE, categories=["chemo"])
    twilio.sms("YES", from_=PHONE)
    call = Call(twilio, PHONE)
    call.start()
    choose_language(call, app.extensions["voice"].offered, "en")
    action, params = call.gather.get("action"), dict(call.params)
    call.say("I can't breathe")
    twilio.post(action, {**params, "SpeechResult": "I can't breathe"})  # Twilio retries the request
    task = db.one(sa.select(FollowUpTask))
    assert (task.clinic_id, task.kind, task.urgent, task.body) == (north.id, "red_flag", True, "I can't breathe")
    assert (task.red_flag_class, task.red_flag_words) == ("emergency", "cant breathe")
