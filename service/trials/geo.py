"""ZIP code to a point, and distances, offline.

`zipcodes` ships the USPS ZIP table with centroids inside the package, so nothing is downloaded
at run time (pitfalls.md: uszipcode and pgeocode download and fail here).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

import zipcodes

EARTH_RADIUS_MILES = 3958.8
_ZIP = re.compile(r"^(\d{5})(?:-\d{4})?$")


@dataclass(frozen=True)
class Place:
    zip: str
    city: str
    state: str
    lat: float
    lon: float


def normalize_zip(text: str | None) -> str | None:
    """'94110' or '94110-1234' -> '94110'; anything else -> None."""
    match = _ZIP.match((text or "").strip())
    return match.group(1) if match else None


@lru_cache(maxsize=4096)
def zip_place(text: str | None) -> Place | None:
    """The centroid of a US ZIP code, or None for a malformed or unknown one."""
    code = normalize_zip(text)
    if code is None:
        return None
    for row in zipcodes.matching(code):
        try:
            return Place(code, row.get("city", ""), row.get("state", ""), float(row["lat"]), float(row["long"]))
        except (KeyError, TypeError, ValueError):
            continue  # a row without a usable centroid is as good as unknown
    return None


def miles(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle (haversine) distance in miles."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlmb = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_MILES * math.asin(min(1.0, math.sqrt(a)))


def bounding_box(lat: float, lon: float, radius: float) -> tuple[float, float, float, float]:
    """(min lat, max lat, min lon, max lon) around a point: a cheap index-friendly prefilter."""
    # 68 miles per degree is a little under the true figure, so the box always holds the circle.
    dlat = radius / 68.0
    # Near the poles cos() -> 0; no US ZIP is there, so clamp instead of dividing by zero.
    dlon = radius / max(1e-6, 68.0 * math.cos(math.radians(lat)))
    return lat - dlat, lat + dlat, lon - dlon, lon + dlon
