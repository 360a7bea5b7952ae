"""The sending window: texts reach a patient only during their local daytime.

The zone comes from, in order: the row's own override, the enrollment's zone (set by the clinic
or derived when enrolling), the number itself (phonenumbers). A number that spans a few zones
(some area codes do) gets the hours that are inside the window in every one of them. A row due
outside the window is moved to the next window start, never dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from ..phones import known_zone, zones_for

MAX_SPREAD = timedelta(hours=4)  # more zones apart than this: the number tells us nothing useful


@dataclass(frozen=True)
class Window:
    start: time
    end: time | None  # None: midnight (24:00)

    @property
    def always(self) -> bool:
        return self.start == (self.end or time(0))

    def contains(self, local: datetime) -> bool:
        if self.always:
            return True
        t = local.time().replace(tzinfo=None)
        end = self.end
        if end is None:
            return t >= self.start
        if self.start < end:
            return self.start <= t < end
        return t >= self.start or t < end  # a window across midnight

    def next_start(self, now: datetime, zone: ZoneInfo) -> datetime:
        """The first window start after `now`, as an aware UTC-convertible datetime."""
        local = now.astimezone(zone)
        for days in range(0, 3):
            day = local.date() + timedelta(days=days)
            # Built from the wall-clock time in the zone, so a DST change moves the UTC instant.
            candidate = datetime.combine(day, self.start, tzinfo=zone)
            if candidate.astimezone(now.tzinfo) > now:
                return candidate.astimezone(now.tzinfo)
        raise AssertionError("unreachable: a window start occurs every day")


def parse_hhmm(value: str) -> time | None:
    """'09:00' -> time(9); '24:00' -> None (midnight at the end of the day)."""
    hours, _, minutes = value.strip().partition(":")
    h, m = int(hours), int(minutes or 0)
    if (h, m) == (24, 0):
        return None
    return time(h, m)


def window_from(start: str, end: str) -> Window:
    first = parse_hhmm(start)
    if first is None:
        raise ValueError("a window cannot start at 24:00")
    return Window(first, parse_hhmm(end))


def window_from_hours(start_hour: int, end_hour: int) -> Window:
    return Window(time(start_hour % 24), None if end_hour >= 24 else time(end_hour))


def zones_to_use(now: datetime, *, override: str | None, phone: str, fallback: str) -> list[ZoneInfo]:
    """The zones whose local time must all be inside the window."""
    if override and known_zone(override):
        return [ZoneInfo(override)]
    names = zones_for(phone)
    if names:
        zones = [ZoneInfo(n) for n in names]
        offsets = [now.astimezone(z).utcoffset() for z in zones]
        if max(offsets) - min(offsets) <= MAX_SPREAD:
            return zones
    return [ZoneInfo(fallback)]


def next_send_time(now: datetime, window: Window, zones: list[ZoneInfo]) -> datetime:
    """`now` when it is inside the window in every zone, else the earliest time that is."""
    if window.always:
        return now
    t = now
    for _ in range(4 * len(zones) + 4):
        outside = [z for z in zones if not window.contains(t.astimezone(z))]
        if not outside:
            return t
        t = max(window.next_start(t, z) for z in outside)
    # The zones' windows never overlap (a very short window): the first zone decides.
    first = zones[0]
    return now if window.contains(now.astimezone(first)) else window.next_start(now, first)
