"""One ClinicalTrials.gov API v2 study -> the plain fields MBC Guide keeps.

Schema paths (reference/medical.md section 3): protocolSection.identificationModule.nctId and
.briefTitle, statusModule.overallStatus, designModule.phases[], conditionsModule.conditions[] and
.keywords[], contactsLocationsModule.centralContacts[] and .locations[] (facility, status, city,
state, zip, country, contacts[], geoPoint.lat/lon). Any of them may be missing.
"""

from __future__ import annotations

import unicodedata
from dataclasses import asdict, dataclass, field

import phonenumbers

from . import subtypes
from .geo import zip_place

OPEN_STATUSES = ("RECRUITING", "NOT_YET_RECRUITING")
FIXTURE_PREFIX = "TEST FIXTURE"  # tests/trials/fixtures: must never reach a real database


class BadStudy(ValueError):
    pass


@dataclass
class Site:
    facility: str = ""
    city: str = ""
    state: str = ""
    zip: str = ""
    country: str = ""
    status: str = ""
    phone: str | None = None
    lat: float | None = None
    lon: float | None = None


@dataclass
class Study:
    nct_id: str
    title: str
    phases: str
    overall_status: str
    subtypes: str
    sites: list[Site] = field(default_factory=list)

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> "Study":
        return cls(**{**data, "sites": [Site(**s) for s in data.get("sites", [])]})


def _text(value, limit: int) -> str:
    """A clean single-line string: control characters dropped, spaces collapsed, cut to fit."""
    text = unicodedata.normalize("NFC", str(value or ""))
    text = "".join(" " if unicodedata.category(c) in ("Cc", "Zl", "Zp") else c for c in text)
    return " ".join(text.split())[:limit]


def _phone(contacts) -> str | None:
    for contact in contacts or ():
        phone = _text((contact or {}).get("phone"), 30)
        if phone:
            ext = _text(contact.get("phoneExt"), 8)
            phone = _tidy_phone(phone)
            return f"{phone} x{ext}" if ext else phone
    return None


def _tidy_phone(phone: str) -> str:
    """'+1 (415) 555-0101' -> '415-555-0101': registries write numbers many ways; SMS room is short."""
    try:
        number = phonenumbers.parse(phone, "US")
    except phonenumbers.NumberParseException:
        return phone
    if number.country_code == 1 and phonenumbers.is_possible_number(number) and not number.extension:
        national = str(number.national_number)
        if len(national) == 10:
            return f"{national[:3]}-{national[3:6]}-{national[6:]}"
    return phone


def _point(location: dict) -> tuple[float | None, float | None]:
    geo = location.get("geoPoint") or {}
    try:
        lat, lon = float(geo["lat"]), float(geo["lon"])
        if -90 <= lat <= 90 and -180 <= lon <= 180:
            return lat, lon
    except (KeyError, TypeError, ValueError):
        pass
    # No geoPoint: a US site's ZIP centroid is close enough for a 50-mile search.
    country = (location.get("country") or "").strip().lower()
    if country in ("", "united states", "usa", "us"):
        place = zip_place(location.get("zip"))
        if place is not None:
            return place.lat, place.lon
    return None, None


def parse_study(raw: dict) -> Study:
    """Raises BadStudy when the record has no NCT id (nothing could be shown for it)."""
    proto = (raw or {}).get("protocolSection") or {}
    ident = proto.get("identificationModule") or {}
    nct_id = _text(ident.get("nctId"), 16).upper()
    if not nct_id.startswith("NCT"):
        raise BadStudy(f"study without an NCT id: {nct_id!r}")
    title = _text(ident.get("briefTitle") or ident.get("officialTitle") or nct_id, 400)
    status = _text((proto.get("statusModule") or {}).get("overallStatus"), 30).upper()
    phases = [_text(p, 14).upper() for p in (proto.get("designModule") or {}).get("phases") or ()]
    conditions = proto.get("conditionsModule") or {}
    tags = subtypes.detect(title, *(conditions.get("conditions") or ()), *(conditions.get("keywords") or ()))
    contacts = proto.get("contactsLocationsModule") or {}
    central_phone = _phone(contacts.get("centralContacts"))
    sites = []
    for location in contacts.get("locations") or ():
        location = location or {}
        lat, lon = _point(location)
        sites.append(Site(
            facility=_text(location.get("facility"), 200),
            city=_text(location.get("city"), 100),
            state=_text(location.get("state"), 60),
            zip=_text(location.get("zip"), 12),
            country=_text(location.get("country"), 60),
            # Older records leave a site's status empty: the study's status stands for it.
            status=_text(location.get("status"), 30).upper() or status,
            # The site's own contact first; the study's central contact is who it lists otherwise.
            phone=_phone(location.get("contacts")) or central_phone,
            lat=lat,
            lon=lon,
        ))
    return Study(nct_id, title, ",".join(p for p in phases if p), status, subtypes.encode(tags), sites)
