"""Nearest recruiting sites for a ZIP code, one per study, nearest first.

A site counts when its own status is RECRUITING or NOT_YET_RECRUITING (the study's status when the
site lists none, see parse.py) and it has a point within the radius. A study with several sites
nearby appears once, at its nearest site: three listings of one study would crowd out the rest.
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


def nearest_sites(sess: Session, place: Place, radius: float, subtype: str | None = None) -> list[Hit]:
    lat_min, lat_max, lon_min, lon_max = bounding_box(place.lat, place.lon, radius)
    query = (
        sa.select(TrialStudy.nct_id, TrialStudy.title, TrialStudy.phases, TrialSite.facility,
                  TrialSite.city, TrialSite.state, TrialSite.phone, TrialSite.status, TrialSite.lat,
                  TrialSite.lon)
        .join(TrialStudy, TrialSite.study_id == TrialStudy.id)
        .where(TrialSite.lat.between(lat_min, lat_max), TrialSite.lon.between(lon_min, lon_max),
               TrialSite.status.in_(OPEN_STATUSES))
    )
    if subtype:
        query = query.where(TrialStudy.subtypes.like(like_pattern(subtype)))
    best: dict[str, Hit] = {}
    for row in sess.execute(query):
        distance = miles(place.lat, place.lon, row.lat, row.lon)
        if distance > radius:
            continue  # in the box's corner, outside the circle
        hit = Hit(row.nct_id, row.title, row.phases, row.facility, row.city, row.state, row.phone, row.status,
                  distance)
        current = best.get(row.nct_id)
        if current is None or (hit.miles, hit.facility) < (current.miles, current.facility):
            best[row.nct_id] = hit
    # Ties broken by NCT id so a page never reorders between two identical requests.
    return sorted(best.values(), key=lambda h: (round(h.miles, 3), h.nct_id))
