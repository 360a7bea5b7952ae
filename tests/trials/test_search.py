"""Nearest recruiting sites: distance order, radius, subtype, site status, missing data."""

from __future__ import annotations

import pytest

from service import db as dbmod
from service.trials.geo import miles, normalize_zip, zip_place
from service.trials.search import nearest_sites

MISSION = zip_place("94110")


def search(app, zip_code="94110", radius=50, subtype=None):
    with app.app_context(), dbmod.transaction() as sess:
        return nearest_sites(sess, zip_place(zip_code), radius, subtype)


def test_nearest_first_one_site_per_study(app, synced):
    hits = search(app)
    assert [h.nct_id for h in hits] == ["NCT99999901", "NCT99999902", "NCT99999907",
                                        "NCT99999903", "NCT99999904", "NCT99999905"]
    distances = [h.miles for h in hits]
    assert distances == sorted(distances)
    assert len({h.nct_id for h in hits}) == len(hits)


def test_distance_is_to_the_site(app, synced):
    first = search(app)[0]
    assert first.facility == "Test Fixture Cancer Center San Francisco"
    # The site's ZIP centre (94143), 0.05 mi from the registry's point: the point patients are told.
    centre = zip_place("94143")
    assert first.miles == pytest.approx(miles(MISSION.lat, MISSION.lon, centre.lat, centre.lon))
    assert 1.5 < first.miles < 3.0


def test_radius_limits_the_sites(app, synced):
    within_10 = search(app, radius=10)
    assert [h.nct_id for h in within_10] == ["NCT99999901", "NCT99999902"]
    assert all(h.miles <= 10 for h in within_10)
    # Sacramento (about 75 miles) and New York are outside 50 miles; inside 100 Sacramento counts.
    assert "NCT99999906" not in {h.nct_id for h in search(app, radius=100)}
    sacramento = next(h for h in search(app, radius=100) if h.nct_id == "NCT99999904")
    assert sacramento.facility == "Test Fixture Clinic Stanford (no geoPoint)"  # nearer than Sacramento


@pytest.mark.parametrize(("subtype", "expected"), [
    ("HR+", ["NCT99999901", "NCT99999905"]),
    ("HER2+", ["NCT99999902"]),
    ("TNBC", ["NCT99999903"]),
])
def test_subtype_filter(app, synced, subtype, expected):
    assert [h.nct_id for h in search(app, subtype=subtype)] == expected


def test_only_recruiting_and_not_yet_recruiting_sites(app, synced):
    # NCT99999901's COMPLETED site is almost at the ZIP centroid; its recruiting one is 2 miles off.
    first = search(app)[0]
    assert first.nct_id == "NCT99999901" and first.status == "RECRUITING" and first.miles > 1
    statuses = {h.nct_id: h.status for h in search(app)}
    assert statuses["NCT99999903"] == "NOT_YET_RECRUITING"
    assert statuses["NCT99999907"] == "NOT_YET_RECRUITING"


def test_missing_phone_and_geo_point(app, synced):
    hits = {h.nct_id: h for h in search(app)}
    assert hits["NCT99999902"].phone is None
    assert hits["NCT99999904"].facility == "Test Fixture Clinic Stanford (no geoPoint)"  # placed by ZIP


def test_no_sites_far_away(app, synced):
    assert search(app, "99501") == []  # Anchorage


def test_zip_lookup_is_offline_and_strict():
    assert zip_place("94110").state == "CA"
    assert zip_place("94110-1234").zip == "94110"
    assert zip_place(" 10001 ").city == "New York"
    for bad in ("00000", "9411", "941101", "abcde", "", None):
        assert zip_place(bad) is None, bad
    assert normalize_zip("94110-12") is None


def test_haversine():
    assert miles(0, 0, 0, 0) == 0
    # San Francisco City Hall to Los Angeles City Hall: about 347 miles.
    assert miles(37.7793, -122.4193, 34.0537, -118.2428) == pytest.approx(347, abs=2)
