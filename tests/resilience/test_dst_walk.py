"""The clock walks through a daylight-saving night in America/New_York with the worker running
every 10 minutes: texts queued in the evening, in the skipped or repeated hour and in the morning
are each sent exactly once, inside 09:00-20:00 local time, none lost (tests/messaging/test_worker_window.py
checks the computed due times for Los Angeles)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from tests.support.outbound import (NYC, app, callback_params, drain, fake, queue, row_ids_seen, statuses,  # noqa: F401
                                    worker_config)

UTC = timezone.utc
NEW_YORK = ZoneInfo("America/New_York")
STEP = timedelta(minutes=10)  # the worker's passes; every queue time and 09:00 fall on a step


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


# (name, walk start, walk end, [(queue at, label)], first morning send in UTC)
NIGHTS = [
    pytest.param(
        # Sunday 2026-03-08: 02:00 EST jumps to 03:00 EDT; 09:00 that morning is 13:00 UTC.
        utc(2026, 3, 7, 23, 0), utc(2026, 3, 8, 17, 0), utc(2026, 3, 8, 13, 0),
        [(utc(2026, 3, 7, 23, 0), "18:00 EST, in the window"),
         (utc(2026, 3, 8, 0, 50), "19:50 EST, just before the end"),
         (utc(2026, 3, 8, 1, 0), "20:00 EST, the end"),
         (utc(2026, 3, 8, 6, 50), "01:50 EST, just before the jump"),
         (utc(2026, 3, 8, 7, 0), "03:00 EDT, just after"),
         (utc(2026, 3, 8, 12, 50), "08:50 EDT"),
         (utc(2026, 3, 8, 14, 0), "10:00 EDT, in the window")],
        id="spring-forward-2026-03-08"),
    pytest.param(
        # Sunday 2026-11-01: 02:00 EDT falls back to 01:00 EST; 09:00 that morning is 14:00 UTC.
        utc(2026, 10, 31, 22, 0), utc(2026, 11, 1, 18, 0), utc(2026, 11, 1, 14, 0),
        [(utc(2026, 10, 31, 22, 0), "18:00 EDT, in the window"),
         (utc(2026, 11, 1, 0, 0), "20:00 EDT, the end"),
         (utc(2026, 11, 1, 5, 30), "01:30 EDT, the first 01:30"),
         (utc(2026, 11, 1, 6, 30), "01:30 EST, the second 01:30"),
         (utc(2026, 11, 1, 13, 0), "08:00 EST (09:00 had the clocks not moved)"),
         (utc(2026, 11, 1, 13, 50), "08:50 EST"),
         (utc(2026, 11, 1, 15, 0), "10:00 EST, in the window")],
        id="fall-back-2026-11-01"),
]


@pytest.mark.parametrize(("start", "end", "morning", "plan"), NIGHTS)
def test_walk_through_the_night(app, fake, clock, start, end, morning, plan):
    clock.current = start  # the fake Twilio stamps each message it accepts with this clock
    queued_at: dict[int, datetime] = {}
    while clock() <= end:
        for when, label in plan:
            if when == clock():
                queued_at[queue(app, NYC, label)] = when
        drain(app)
        clock.current += STEP
    assert len(queued_at) == len(plan)

    seen = Counter(row_ids_seen(fake))
    assert set(seen) == set(queued_at) and set(seen.values()) == {1}, seen  # each once, none lost
    assert statuses(app) == {"sent": len(plan)}
    sent_at = {int(callback_params(m["_status_callback"])["o"]): m["_created"] for m in fake.created()}
    for row_id, when in sent_at.items():
        local = when.astimezone(NEW_YORK)
        assert time(9) <= local.time() < time(20), (row_id, local)  # never at night
        queued = queued_at[row_id]
        if time(9) <= queued.astimezone(NEW_YORK).time() < time(20):
            assert when == queued, "queued inside the window: sent at once"
        else:
            assert when == morning, f"queued {queued.astimezone(NEW_YORK)}: sent at 09:00 local, not {local}"
