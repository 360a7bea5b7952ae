"""Nearest recruiting sites for a ZIP code, one per study, in the order a navigator would read them.

A site counts when its own status is RECRUITING or NOT_YET_RECRUITING (the study's status when the
site lists none, see parse.py) and it has a point within the radius. A study with several sites
nearby appears once, at its nearest site: three listings of one study would crowd out the rest.

Order: distance as the patient reads it (compose.rounded_miles: "about 5 mi" is 5 whether the
point says 4.6 or 5.4, so a tie on the page is a tie here), then the later phase first (a phase 3
study compares with usual care; a phase 1 asks whether a drug is safe), then recruiting before
opening soon, then the NCT id so a page never reorders between two identical requests.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..models import TrialSite, TrialStudy
from .geo import Place, bounding_box, miles
from .parse import OPEN_STATUSES
from .subtypes import like_pattern


@dataclass(frozen=True)
class Hit:
    nct_id: str
    title: str
    phases: str
    facility: str
    city: str
    state: str
    phone: str | None
    status: str
    miles: float
    acronym: str = ""
    interventions: str = ""


def rounded_miles(distance: float) -> int:
    """Distance as a patient is told it: under 1 mile is 0 ("under 1 mi"); whole miles up to 10;
    then steps of 5 (a registry point is a ZIP or city centre, not a door: 23.4 is "about 25")."""
    if distance < 1:
        return 0
    if distance < 10:
        return max(1, round(distance))
    return int(5 * round(distance / 5))


def phase_numbers(phases: str) -> list[int]:
    """'PHASE2,PHASE3' -> [2, 3]; EARLY_PHASE1 counts as 1 (a first safety study); NA -> []."""
    numbers: set[int] = set()
    for phase in phases.split(","):
        digit = phase.strip().upper().removeprefix("EARLY_").removeprefix("PHASE")
        if digit.isdigit():
            numbers.add(int(digit))
    return sorted(numbers)


def top_phase(phases: str) -> int:
    """'PHASE2,PHASE3' -> 3; NA or none -> 0."""
    return max(phase_numbers(phases), default=0)


def order_key(hit: Hit) -> tuple:
    return (rounded_miles(hit.miles), -top_phase(hit.phases), OPEN_STATUSES.index(hit.status)
            if hit.status in OPEN_STATUSES else len(OPEN_STATUSES), hit.nct_id)


def nearest_sites(sess: Session, place: Place, radius: float, subtype: str | None = None) -> list[Hit]:
    lat_min, lat_max, lon_min, lon_max = bounding_box(place.lat, place.lon, radius)
    query = (
        sa.select(TrialStudy.nct_id, TrialStudy.title, TrialStudy.phases, TrialStudy.acronym,
                  TrialStudy.interventions, TrialSite.facility, TrialSite.city, TrialSite.state, TrialSite.phone,
                  TrialSite.status, TrialSite.lat, TrialSite.lon, TrialSite.id.label("site_id"))
        .join(TrialStudy, TrialSite.study_id == TrialStudy.id)
        .where(TrialSite.lat.between(lat_min, lat_max), TrialSite.lon.between(lon_min, lon_max),
               TrialSite.status.in_(OPEN_STATUSES))
    )
    if subtype:
        query = query.where(TrialStudy.subtypes.like(like_pattern(subtype)))
    best: dict[str, tuple[tuple, Hit]] = {}
    for row in sess.execute(query):
        distance = miles(place.lat, place.lon, row.lat, row.lon)
        if distance > radius:
            continue  # in the box's corner, outside the circle
        hit = Hit(row.nct_id, row.title, row.phases, row.facility, row.city, row.state, row.phone, row.status,
                  distance, row.acronym or "", row.interventions or "")
        # Of one study's sites: the nearest; at the same distance, one with a phone, then recruiting,
        # then the one the registry lists first (sites are stored in its order). Sites without a ZIP
        # share their city's point: in Houston, "University of Texas MD Anderson Cancer Center" and
        # "MD Anderson West Houston" tie, and the registry lists the main campus first.
        key = (round(hit.miles, 3), hit.phone is None, hit.status != OPEN_STATUSES[0], row.site_id)
        current = best.get(row.nct_id)
        if current is None or key < current[0]:
            best[row.nct_id] = (key, hit)
    return sorted((hit for _, hit in best.values()), key=order_key)
