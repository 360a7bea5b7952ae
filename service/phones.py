"""Phone numbers: E.164 normalization, the time zones a number is in, masking for logs."""

from __future__ import annotations

from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers import timezone as phone_timezone


class InvalidPhone(ValueError):
    pass


def to_e164(raw: str, region: str = "US") -> str:
    """'+1 (415) 555-0100' -> '+14155550100'. Raises InvalidPhone for anything not a phone."""
    raw = (raw or "").strip()
    if not raw or len(raw) > 32:
        raise InvalidPhone("empty or too long")
    number, error = _parse(raw, region)
    if error is not None:
        raise InvalidPhone(error)
    return number


# Every webhook parses its From number, and the same numbers write again and again; parsing cost
# about 100 µs a request in profiles. Pure, so cached (bounded: about 1 MB when full).
@lru_cache(maxsize=8192)
def _parse(raw: str, region: str) -> tuple[str | None, str | None]:
    """(E.164, None) or (None, why not)."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        return None, str(exc)
    # "Possible" rather than "valid": Twilio's test numbers (+1500555xxxx) and new ranges must
    # still reach the line; Twilio itself has already accepted the number.
    if not phonenumbers.is_possible_number(number):
        return None, "not a possible number"
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), None


@lru_cache(maxsize=4096)
def zones_for(phone: str) -> tuple[str, ...]:
    """The IANA zones an E.164 number may be in, as phonenumbers knows them and this machine's
    zone data has them ('Etc/Unknown' and unparsable numbers give ()). Some area codes span a few."""
    try:
        zones = phone_timezone.time_zones_for_number(phonenumbers.parse(phone))
    except phonenumbers.NumberParseException:
        return ()
    return tuple(z for z in zones if known_zone(z))


@lru_cache(maxsize=512)
def known_zone(name: str) -> bool:
    """Whether `name` is an IANA zone ZoneInfo can load ('America/New_York' yes, 'Mars/Base' no)."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def mask(phone: str | None) -> str:
    """'+14155550100' -> '+1******0100': enough to correlate logs, not enough to identify."""
    if not phone:
        return "-"
    digits = phone.lstrip("+")
    if len(digits) <= 4:
        return "****"
    return f"+{digits[0]}{'*' * (len(digits) - 5)}{digits[-4:]}"
