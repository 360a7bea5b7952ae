"""Sending window: patient's local daytime (default 09:00-20:00), zone from the number unless the
row or the enrollment says otherwise, the clinic's own hours; late texts wait, never vanish."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from service.messaging.window import Window, next_send_time, window_from, zones_to_use
from service.models import Clinic, Enrollment, EnrollmentMessage, OutboundMessage
from tests.support.outbound import LA, NYC, app, drain, fake, message, queue, worker_config  # noqa: F401

UTC = timezone.utc


def at(clock, *args) -> None:
    clock.current = datetime(*args, tzinfo=UTC)


def test_too_early_is_deferred_to_the_window_start_then_sent(app, fake, clock):
    at(clock, 2026, 11, 2, 15, 0)  # 07:00 in Los Angeles
    row_id = queue(app, LA, "morning text")
    stats = drain(app)
    assert stats.deferred == 1 and stats.sent == 0 and fake.requests == []
    row = message(app, row_id)
    assert row.status == "queued" and row.due_at == datetime(2026, 11, 2, 17, 0, tzinfo=UTC)  # 09:00 PST
    assert row.attempts == 0 and row.lease_token is None

    at(clock, 2026, 11, 2, 16, 59)
    assert drain(app).claimed == 0
    at(clock, 2026, 11, 2, 17, 0)
    assert drain(app).sent == 1


def test_too_late_waits_for_tomorrow_morning(app, fake, clock):
    at(clock, 2026, 11, 3, 4, 30)  # 20:30 on Nov 2 in Los Angeles; 23:30 in New York
    la, ny = queue(app, LA, "west"), queue(app, NYC, "east")
    drain(app)
    assert message(app, la).due_at == datetime(2026, 11, 3, 17, 0, tzinfo=UTC)
    assert message(app, ny).due_at == datetime(2026, 11, 3, 14, 0, tzinfo=UTC)
    at(clock, 2026, 11, 3, 14, 0)
    drain(app)
    assert [m["body"] for m in fake.created()] == ["east"]
    at(clock, 2026, 11, 3, 17, 0)
    drain(app)
    assert [m["body"] for m in fake.created()] == ["east", "west"]


def test_daylight_saving_ends_overnight(app, fake, clock):
    # Saturday 2026-10-31 21:30 PDT (UTC-7). Clocks fall back at 02:00 Sunday, so 09:00 Sunday
    # is PST (UTC-8): 17:00 UTC, not the 16:00 UTC a fixed offset would give.
    at(clock, 2026, 11, 1, 4, 30)
    row_id = queue(app, LA, "after the change")
    drain(app)
    assert message(app, row_id).due_at == datetime(2026, 11, 1, 17, 0, tzinfo=UTC)
    at(clock, 2026, 11, 1, 16, 30)  # 08:30 PST (it would be 09:30 without the change)
    assert drain(app).claimed == 0
    at(clock, 2026, 11, 1, 17, 0)
    assert drain(app).sent == 1


def test_daylight_saving_starts_overnight(app, fake, clock):
    at(clock, 2026, 3, 8, 5, 0)  # Saturday 21:00 PST; clocks spring forward at 02:00 Sunday
    row_id = queue(app, LA, "spring")
    drain(app)
    assert message(app, row_id).due_at == datetime(2026, 3, 8, 16, 0, tzinfo=UTC)  # 09:00 PDT


def test_a_text_due_long_ago_is_still_sent(app, fake, clock):
    row_id = queue(app, LA, "worker was down for days", due_at=clock() - timedelta(days=3))
    assert drain(app).sent == 1 and message(app, row_id).status == "sent"


def test_row_timezone_override_wins_over_the_number(app, fake, clock):
    at(clock, 2026, 11, 2, 15, 0)  # 07:00 Los Angeles, 10:00 New York
    row_id = queue(app, LA, "lives in New York now", send_timezone="America/New_York")
    assert drain(app).sent == 1 and message(app, row_id).status == "sent"


def _enroll(app, row_id: int, *, tz: str, hours: tuple[int, int]) -> None:
    with app.extensions["db_sessionmaker"]() as sess, sess.begin():
        clinic = Clinic(name=f"Clinic {row_id}", timezone=tz, window_start_hour=hours[0], window_end_hour=hours[1])
        sess.add(clinic)
        sess.flush()
        msg = sess.get(OutboundMessage, row_id)
        enrollment = Enrollment(clinic_id=clinic.id, subscriber_id=msg.subscriber_id, categories="hormone",
                                locale="en", timezone=tz, start_date=date(2026, 11, 1), status="active",
                                consent_attested_by="staff", created_by="staff",
                                created_at=datetime(2026, 11, 1, tzinfo=UTC),
                                expires_at=datetime(2026, 11, 8, tzinfo=UTC))
        sess.add(enrollment)
        sess.flush()
        sess.add(EnrollmentMessage(enrollment_id=enrollment.id, message_id=row_id, step="hormone.1"))


def test_enrollment_zone_and_clinic_hours_are_used(app, fake, clock):
    at(clock, 2026, 11, 2, 12, 30)  # 07:30 in Chicago, 04:30 in Los Angeles
    row_id = queue(app, LA, "clinic in Chicago")
    _enroll(app, row_id, tz="America/Chicago", hours=(8, 18))
    assert drain(app).deferred == 1
    assert message(app, row_id).due_at == datetime(2026, 11, 2, 14, 0, tzinfo=UTC)  # 08:00 CST
    at(clock, 2026, 11, 3, 0, 30)  # 18:30 in Chicago: inside the default window, not the clinic's
    other = queue(app, LA, "evening", due_at=clock())
    _enroll(app, other, tz="America/Chicago", hours=(8, 18))
    drain(app)
    assert message(app, other).due_at == datetime(2026, 11, 3, 14, 0, tzinfo=UTC)


def test_a_number_spanning_two_zones_gets_hours_inside_both(app, fake, clock):
    nd = "+17015550100"  # North Dakota: America/Denver and America/North_Dakota/Center
    at(clock, 2026, 11, 2, 15, 30)  # 08:30 Mountain, 09:30 Central
    row_id = queue(app, nd, "two zones")
    drain(app)
    assert message(app, row_id).due_at == datetime(2026, 11, 2, 16, 0, tzinfo=UTC)  # 09:00 Mountain
    at(clock, 2026, 11, 3, 2, 30)  # 19:30 Mountain but 20:30 Central: too late in one of them
    late = queue(app, nd, "two zones late")
    drain(app)
    assert message(app, late).due_at == datetime(2026, 11, 3, 16, 0, tzinfo=UTC)


def test_unknown_zone_uses_the_default(app, fake, clock):
    at(clock, 2026, 11, 2, 13, 30)  # 08:30 New York
    row_id = queue(app, "+15555550100", "fictional number")  # phonenumbers: Etc/Unknown
    drain(app)
    assert message(app, row_id).due_at == datetime(2026, 11, 2, 14, 0, tzinfo=UTC)


def test_texts_a_caller_asked_for_ignore_the_window(app, fake, clock):
    at(clock, 2026, 11, 3, 6, 0)  # 22:00 in Los Angeles
    queue(app, LA, "the topic you asked for by pressing 9", source="voice_handoff")
    queue(app, LA, "a series text", source="enrollment")
    drain(app)
    assert [m["body"] for m in fake.created()] == ["the topic you asked for by pressing 9"]


@pytest.mark.parametrize(("start", "end", "inside", "outside"), [
    ("09:00", "20:00", [time(9), time(19, 59)], [time(8, 59), time(20), time(0)]),
    ("22:00", "06:00", [time(23), time(5, 59), time(22)], [time(6), time(12)]),
    ("08:00", "24:00", [time(8), time(23, 59)], [time(7, 59)]),
    ("00:00", "24:00", [time(0), time(12)], []),
])
def test_window_contains(start, end, inside, outside):
    window = window_from(start, end)
    tz = ZoneInfo("America/New_York")
    for t in inside:
        assert window.contains(datetime.combine(date(2026, 6, 1), t, tzinfo=tz)), t
    for t in outside:
        assert not window.contains(datetime.combine(date(2026, 6, 1), t, tzinfo=tz)), t


def test_far_apart_zones_fall_back_instead_of_an_empty_window():
    now = datetime(2026, 11, 2, 17, tzinfo=UTC)
    zones = zones_to_use(now, override=None, phone="+18005550199", fallback="America/Chicago")
    assert zones == [ZoneInfo("America/Chicago")]  # toll-free: Guam to Newfoundland
    assert next_send_time(now, Window(time(9), time(10)), [ZoneInfo("Asia/Tokyo"), ZoneInfo("America/New_York")]) > now
