"""service/phones.py: a number's time zones, read once and shared by enrolling and the sending window."""

from __future__ import annotations

from datetime import datetime, timezone

from service.clinics.enroll import guess_timezone
from service.messaging.window import zones_to_use
from service.phones import known_zone, zones_for


def test_a_number_in_one_zone_gives_that_zone():
    assert zones_for("+14155550100") == ("America/Los_Angeles",)
    assert zones_for("+442071234567") == ("Europe/London",)


def test_an_area_code_across_zones_gives_each_of_them():
    assert zones_for("+16055550100") == ("America/Denver", "America/North_Dakota/Center")  # South Dakota


def test_unknown_or_unparsable_numbers_give_no_zone():
    assert zones_for("not a number") == ()
    assert zones_for("+999123") == ()  # no such country: phonenumbers says Etc/Unknown


def test_known_zone_is_what_zoneinfo_can_load():
    assert known_zone("America/New_York")
    assert not known_zone("Mars/Olympus_Mons")
    assert not known_zone("../etc/passwd")
    assert not known_zone("")


def test_enrolling_and_the_sending_window_read_the_same_zones():
    now = datetime(2026, 12, 7, 12, tzinfo=timezone.utc)
    assert guess_timezone("+14155550100", "America/New_York") == "America/Los_Angeles"
    assert [z.key for z in zones_to_use(now, override=None, phone="+14155550100", fallback="UTC")] == [
        "America/Los_Angeles"]
    # Several zones: enrolling falls back to the clinic's, the window keeps them all.
    assert guess_timezone("+16055550100", "America/Chicago") == "America/Chicago"
    assert [z.key for z in zones_to_use(now, override=None, phone="+16055550100", fallback="UTC")] == [
        "America/Denver", "America/North_Dakota/Center"]
    # Nothing known: both fall back.
    assert guess_timezone("+999123", "America/Chicago") == "America/Chicago"
    assert [z.key for z in zones_to_use(now, override=None, phone="+999123", fallback="UTC")] == ["UTC"]
