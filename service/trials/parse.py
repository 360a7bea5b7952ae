"""One ClinicalTrials.gov API v2 study -> the plain fields MBC Guide keeps, or why it is skipped.

Schema paths (reference/medical.md section 3): protocolSection.identificationModule.nctId,
.briefTitle, .officialTitle and .acronym; statusModule.overallStatus; designModule.phases[];
conditionsModule.conditions[] and .keywords[]; armsInterventionsModule.interventions[].name;
eligibilityModule.eligibilityCriteria; contactsLocationsModule.centralContacts[] and .locations[]
(facility, status, city, state, zip, country, contacts[], geoPoint.lat/lon). Any may be missing.

What a patient navigator would check before handing a study to a patient is checked here:
- relevance (`skip_reason`): the registry's condition search also returns studies for "solid
  tumors excluding breast cancer" and early-breast-cancer follow-up studies; a study is kept only
  when its conditions, keywords or titles are about breast cancer, none of its conditions exclude
  breast cancer, and it is open to metastatic or advanced disease (conditions, keywords, titles or
  the inclusion criteria say so, not negated);
- a site that sees no patients (an administrative office, "No Patients Seen") is never listed;
- a phone the patient can dial: the site's own contact, else, for a US site, a US (+1) study
  contact; any other number (a sponsor's line in another country) is not shown, and the text then
  points to NCI's free line instead (compose.py). "888-662-6728 (U.S. Only)" becomes 888-662-6728;
- a point people can trust: the registry's geoPoint is often the city centre, so a US site's ZIP
  centre is used when it lies within ZIP_TRUST_MILES of that point (a ZIP far from the point is
  more likely a typo than a move).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass, field

import phonenumbers

from . import subtypes
from .geo import miles, zip_place

OPEN_STATUSES = ("RECRUITING", "NOT_YET_RECRUITING")
FIXTURE_PREFIX = "TEST FIXTURE"  # tests/trials/fixtures: must never reach a real database
ZIP_TRUST_MILES = 25.0
US_COUNTRIES = ("", "united states", "usa", "us", "u.s.", "united states of america")

# Why a study is not stored (the sync summary counts them by these keys).
SKIP_NOT_BREAST = "not about breast cancer"
SKIP_EXCLUDES_BREAST = "conditions exclude breast cancer"
SKIP_NOT_METASTATIC = "not for metastatic or advanced disease"
SKIP_NO_ID = "no NCT id"

_BREAST = re.compile(
    r"\bbreast[\s-]+(?:cancers?|carcinomas?|neoplasms?|tumou?rs?|malignanc\w*|adenocarcinomas?)\b"
    r"|\b(?:carcinoma|adenocarcinoma|cancer)\s+of\s+(?:the\s+)?breast\b|\btnbc\b|\bmbc\b"
    r"|\b(?:her2|hr|er)[+-]?\s*(?:positive|negative|\+|-)?\s*(?:/\s*her2[+-]?\s*)?breast\b"
)
_EXCLUDES_BREAST = re.compile(
    r"\bnon[\s-]+breast\b|\b(?:excluding|except|other\s+than|not\s+including|besides)[\s:]+(?:\w+\s+)?breast\b")
_ADVANCED = re.compile(
    r"\bmetasta\w*|\bstage\s*(?:iv|4)\b|\bunresectable\b|\binoperable\b|\bde\s+novo\s+stage\b"
    r"|\badvanced\s+(?:or\s+metastatic\s+)?(?:\w+[\s-]+){0,3}?"
    r"(?:cancers?|carcinomas?|disease|malignanc\w*|tumou?rs?|solid)"
    r"|\blocally\s+(?:advanced|recurrent)\b|\brecurrent\s+(?:\w+\s+){0,2}?(?:breast|cancer|carcinoma|disease)\b"
    r"|\bmbc\b|\babc\b|\bstage\s*(?:0|i{1,3}|[0-3])\s*(?:-|to|through)\s*(?:iv|4)\b|\bany\s+stage\b"
)
_NOT_ADVANCED = re.compile(
    r"\b(?:non|no|without|not|absence\s+of)[\s-]+(?:evidence\s+of\s+)?(?:distant\s+)?"
    r"(?:metasta\w*|advanced|stage\s*(?:iv|4))(?:\s+disease)?"
)
_NO_PATIENTS = re.compile(
    r"\bno[\s-]+patients?\b|\bnon[\s-]+patient\b|\badministrative\s+(?:office|site|only)\b|\bsponsor\s+office\b"
    r"|\bnot\s+a\s+(?:treating|patient)\s+site\b",
    re.IGNORECASE,
)
_SITE_CLOSED = ("WITHDRAWN", "TERMINATED", "COMPLETED", "SUSPENDED")
_NOT_A_TREATMENT = re.compile(
    r"\bplacebo\b|\b(?:investigator|physician|doctor)'?s?\s+choice\b|\bstandard\s+(?:of\s+)?care\b"
    r"|^(?:optional\s+)?(?:endocrine|hormone|hormonal)\s+therapy\b|\bbest\s+supportive\b|\bquestionnaires?\b"
    r"|\bblood\s+(?:draw|sample|collection)\b|\bbiospecimen\b|\bsurvey\b|\bimaging\b|\bbiopsy\b"
    r"|^\S+-based\s+chemotherapy$",
    re.IGNORECASE,
)
MAX_INTERVENTIONS = 3
_US_ONLY = re.compile(r"\bu\.?s\.?a?\.?\s+only\b", re.IGNORECASE)


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
    acronym: str = ""
    interventions: str = ""  # "Inavolisib + Phesgo": what is being tested, as registered

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


def dialable(phone: str | None, ext: str | None = None, *, us_only: bool = False) -> str | None:
    """A number someone can dial from the registry's text, or None.

    '888-662-6728 (U.S. Only)' -> '888-662-6728'; '+1 (415) 555-0101' -> '415-555-0101' (SMS room
    is short); an extension is kept as ' x12'. With us_only, only a +1 number counts.
    """
    raw = _text(phone, 60)
    if not raw:
        return None
    match = next(iter(phonenumbers.PhoneNumberMatcher(raw, "US", leniency=phonenumbers.Leniency.POSSIBLE)), None)
    if match is None:
        return None
    number = match.number
    extension = _text(ext, 8) or (number.extension or "")
    extension = "".join(c for c in extension if c.isdigit())
    if number.country_code == 1:
        national = str(number.national_number)
        if len(national) != 10:
            return None
        text = f"{national[:3]}-{national[3:6]}-{national[6:]}"
    elif us_only:
        return None
    else:
        text = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return f"{text} x{extension}" if extension else text


def _contact_phone(contacts, *, us_only: bool, skip_us_only: bool = False) -> str | None:
    for contact in contacts or ():
        contact = contact or {}
        if skip_us_only and _US_ONLY.search(str(contact.get("phone") or "")):
            continue
        phone = dialable(contact.get("phone"), contact.get("phoneExt"), us_only=us_only)
        if phone:
            return phone
    return None


def is_us(country: str | None) -> bool:
    return (country or "").strip().lower() in US_COUNTRIES


def _point(location: dict) -> tuple[float | None, float | None]:
    """The ZIP centre when it lies within ZIP_TRUST_MILES of the registry's point (that point is
    often the city centre); else the registry's point; a US site without one: its ZIP centre."""
    geo = location.get("geoPoint") or {}
    try:
        lat, lon = float(geo["lat"]), float(geo["lon"])
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            lat = lon = None
    except (KeyError, TypeError, ValueError):
        lat = lon = None
    place = zip_place(location.get("zip")) if is_us(location.get("country")) else None
    if place is not None and (lat is None or miles(lat, lon, place.lat, place.lon) <= ZIP_TRUST_MILES):
        return place.lat, place.lon
    return lat, lon


def sees_patients(facility: str, status: str) -> bool:
    """False for an administrative office or a site that says it sees no patients."""
    return not _NO_PATIENTS.search(facility) and not _NO_PATIENTS.search(status.replace("_", " "))


def interventions_of(proto: dict) -> str:
    """Up to three tested treatments, as registered ('Inavolisib + Phesgo'); placebos, a doctor's
    choice, standard care and study procedures are not what a patient asks about."""
    names: list[str] = []
    for item in (proto.get("armsInterventionsModule") or {}).get("interventions") or ():
        name = _text((item or {}).get("name"), 60)
        if not name or _NOT_A_TREATMENT.search(name) or name.casefold() in (n.casefold() for n in names):
            continue
        names.append(name)
        if len(names) == MAX_INTERVENTIONS:
            break
    return " + ".join(names)


def skip_reason(raw: dict) -> str | None:
    """Why this study should not reach patients of a metastatic breast cancer line, or None."""
    proto = (raw or {}).get("protocolSection") or {}
    ident = proto.get("identificationModule") or {}
    conditions_module = proto.get("conditionsModule") or {}
    conditions = [str(c).casefold() for c in conditions_module.get("conditions") or () if c]
    keywords = [str(k).casefold() for k in conditions_module.get("keywords") or () if k]
    titles = [str(ident.get(k) or "").casefold() for k in ("briefTitle", "officialTitle")]
    if any(_EXCLUDES_BREAST.search(c) for c in conditions):
        return SKIP_EXCLUDES_BREAST
    about = " | ".join([*conditions, *keywords, *titles])
    if not _BREAST.search(about):
        return SKIP_NOT_BREAST
    inclusion = subtypes.inclusion_part((proto.get("eligibilityModule") or {}).get("eligibilityCriteria")).casefold()
    scope = _NOT_ADVANCED.sub(" ", f"{about} | {inclusion}")
    if not _ADVANCED.search(scope):
        return SKIP_NOT_METASTATIC
    return None


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
    criteria = (proto.get("eligibilityModule") or {}).get("eligibilityCriteria")
    tags = subtypes.detect(title, _text(ident.get("officialTitle"), 1000), *(conditions.get("conditions") or ()),
                           *(conditions.get("keywords") or ()), subtypes.inclusion_part(criteria))
    contacts = proto.get("contactsLocationsModule") or {}
    sites = []
    for location in contacts.get("locations") or ():
        location = location or {}
        facility = _text(location.get("facility"), 200)
        # Older records leave a site's status empty: the study's status stands for it.
        site_status = _text(location.get("status"), 30).upper() or status
        if not sees_patients(facility, site_status):
            continue
        country = _text(location.get("country"), 60)
        # The site's own contact first; a US site may fall back to a US study contact, never to a
        # sponsor's number in another country (a Canton, OH patient cannot use an Indian extension).
        phone = _contact_phone(location.get("contacts"), us_only=False)
        if phone is None:
            us = is_us(country)
            phone = _contact_phone(contacts.get("centralContacts"), us_only=us, skip_us_only=not us)
        lat, lon = _point(location)
        sites.append(Site(
            facility=facility,
            city=_text(location.get("city"), 100),
            state=_text(location.get("state"), 60),
            zip=_text(location.get("zip"), 12),
            country=country,
            status=site_status,
            phone=phone,
            lat=lat,
            lon=lon,
        ))
    return Study(nct_id, title, ",".join(p for p in phases if p), status, subtypes.encode(tags), sites,
                 acronym=_text(ident.get("acronym"), 40), interventions=_text(interventions_of(proto), 200))
