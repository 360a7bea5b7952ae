"""`flask trials sync` against the local fake API: paging, upserts, removals, failures."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
import zipcodes

from service.models import TrialSite, TrialStaging, TrialStudy, TrialSync
from service.trials.api import ApiError, TrialsApi
from service.trials.sync import SyncFailed, format_reasons, parse_reasons, run_sync
from tests.trials.fake_ctgov import FIXTURES, FakeCtGov


def studies(db) -> dict[str, TrialStudy]:
    return {s.nct_id: s for s in db.all(sa.select(TrialStudy))}


def sites_of(db, nct_id: str) -> list[TrialSite]:
    return db.all(sa.select(TrialSite).join(TrialStudy).where(TrialStudy.nct_id == nct_id).order_by(TrialSite.id))


def snapshot(db) -> tuple:
    rows = db.all(sa.select(TrialStudy).order_by(TrialStudy.nct_id))
    sites = db.all(sa.select(TrialSite).order_by(TrialSite.id))
    return ([(s.id, s.nct_id, s.title, s.phases, s.subtypes) for s in rows],
            [(s.study_id, s.facility, s.status, s.phone, s.lat, s.lon) for s in sites])


def test_sync_pages_through_everything_repeating_the_parameters(runner, ctgov, db):
    result = runner.invoke(args=["trials", "sync"])
    assert result.exit_code == 0, result.output
    assert "trials sync ok: 7 studies stored, 0 skipped, 11 sites, 0 removed" in result.output
    first, second = ctgov.requests
    assert "pageToken" not in first
    assert second.pop("pageToken") == "TESTFIXTUREPAGE2"
    assert second == first  # later pages repeat the first page's parameters exactly
    assert first["query.cond"] == "metastatic breast cancer"
    assert set(first["filter.overallStatus"].split("|")) == {"RECRUITING", "NOT_YET_RECRUITING"}
    assert first["pageSize"] == "200" and first["countTotal"] == "true"
    assert "protocolSection.contactsLocationsModule" in first["fields"].split("|")
    assert sorted(studies(db)) == [f"NCT9999990{n}" for n in range(1, 8)]
    assert db.count(TrialSite) == 11
    run = db.one(sa.select(TrialSync))
    assert (run.status, run.studies, run.sites, run.removed) == ("ok", 7, 11, 0)
    assert db.count(TrialStaging) == 0


def test_sync_shows_a_progress_bar(runner, ctgov):
    result = runner.invoke(args=["trials", "sync"])
    assert result.exit_code == 0
    assert "Syncing trials" in result.output


def test_sync_keeps_the_fields_patients_see(synced, db):
    found = studies(db)
    assert found["NCT99999901"].phases == "PHASE3"
    assert found["NCT99999903"].phases == "PHASE1,PHASE2"
    assert found["NCT99999901"].subtypes.split() == ["HR+"]
    assert found["NCT99999902"].subtypes.split() == ["HER2+"]
    assert found["NCT99999903"].subtypes.split() == ["TNBC"]  # from keywords, not conditions
    assert found["NCT99999905"].subtypes.split() == ["HR+"]  # "Estrogen Receptor Positive"
    assert found["NCT99999904"].subtypes == ""
    sf, _la, closed = sites_of(db, "NCT99999901")
    assert (sf.city, sf.zip, sf.status, sf.phone) == ("San Francisco", "94143", "RECRUITING", "415-555-0101")
    # The registry's point is 0.05 mi from the site's ZIP centre: the ZIP centre is kept.
    centre = zipcodes.matching("94143")[0]
    assert (sf.lat, sf.lon) == (float(centre["lat"]), float(centre["long"]))
    assert closed.status == "COMPLETED"
    assert sites_of(db, "NCT99999902")[0].phone is None  # no site or central contact
    assert sites_of(db, "NCT99999903")[0].phone == "650-555-0103"  # the central contact's
    assert sites_of(db, "NCT99999905")[0].phone == "408-555-0105 x12"
    assert sites_of(db, "NCT99999907")[0].status == "NOT_YET_RECRUITING"  # the study's, site has none


def test_a_site_without_geo_point_is_placed_at_its_zip_or_left_out(synced, db):
    _sacramento, stanford, nowhere = sites_of(db, "NCT99999904")
    centroid = zipcodes.matching("94305")[0]
    assert (stanford.lat, stanford.lon) == (float(centroid["lat"]), float(centroid["long"]))
    assert (nowhere.lat, nowhere.lon) == (None, None)


def test_second_sync_updates_adds_and_removes_closed_studies(synced, runner, db):
    before = studies(db)
    synced.dataset = "resync"
    result = runner.invoke(args=["trials", "sync"])
    assert result.exit_code == 0, result.output
    assert "3 studies stored, 0 skipped, 3 sites, 5 removed" in result.output
    after = studies(db)
    assert sorted(after) == ["NCT99999901", "NCT99999903", "NCT99999908"]
    assert after["NCT99999901"].id == before["NCT99999901"].id  # updated in place
    assert "(Renamed)" in after["NCT99999901"].title
    assert len(sites_of(db, "NCT99999901")) == 1
    assert db.count(TrialSite) == 3  # the removed studies' sites went with them
    runs = db.all(sa.select(TrialSync).order_by(TrialSync.id))
    assert [r.status for r in runs] == ["ok", "ok"]


def test_running_the_same_sync_twice_changes_nothing(synced, runner, db):
    first = snapshot(db)
    assert runner.invoke(args=["trials", "sync"]).exit_code == 0
    studies_after, sites_after = snapshot(db)
    assert studies_after == first[0]  # same ids, same data
    assert [s[1:] for s in sites_after] == [s[1:] for s in first[1]]


def test_api_failure_mid_sync_keeps_the_last_good_data(runner, ctgov, db, clock, client):
    ctgov.dataset = "resync"
    assert runner.invoke(args=["trials", "sync"]).exit_code == 0
    good = snapshot(db)
    good_time = client.get("/healthz").get_json()["trials_last_sync"]

    clock.advance(days=1)
    ctgov.dataset = "initial"
    ctgov.fail_page = 1  # page 1 arrives (and is staged), page 2 fails
    result = runner.invoke(args=["trials", "sync"])
    assert result.exit_code != 0
    assert "the last good data is kept" in result.output
    assert "HTTP 500" in result.output
    assert len(ctgov.requests) == 3  # resync, then the two pages of the failed run
    assert snapshot(db) == good  # nothing from the staged first page leaked in
    assert db.count(TrialStaging) == 0
    failed = db.one(sa.select(TrialSync).where(TrialSync.status == "failed"))
    assert "HTTP 500" in failed.error
    assert client.get("/healthz").get_json()["trials_last_sync"] == good_time


def test_first_sync_failing_leaves_no_data(runner, ctgov, db):
    ctgov.fail_page = 0
    assert runner.invoke(args=["trials", "sync"]).exit_code != 0
    assert db.count(TrialStudy) == 0 and db.count(TrialSite) == 0


def test_an_empty_answer_is_not_taken_as_every_study_closing(synced, runner, db):
    good = snapshot(db)
    synced.dataset = "empty"
    result = runner.invoke(args=["trials", "sync"])
    assert result.exit_code != 0
    assert "no studies" in result.output
    assert snapshot(db) == good


def test_transient_errors_are_retried_then_fail():
    waits = []
    with FakeCtGov() as fake:
        fake.fail_page = 0
        api = TrialsApi(fake.base_url, retries=2, sleep=waits.append)
        with pytest.raises(ApiError, match="HTTP 500"):
            list(api.pages())
        assert len(fake.requests) == 3
        assert waits == [2.0, 4.0]


def test_client_errors_are_not_retried():
    with FakeCtGov() as fake:
        fake.fail_page, fake.fail_status = 0, 400
        api = TrialsApi(fake.base_url, retries=2, sleep=lambda s: pytest.fail("slept"))
        with pytest.raises(ApiError, match="HTTP 400"):
            list(api.pages())
        assert len(fake.requests) == 1


def test_an_unreachable_api_fails_cleanly(app, db):
    with FakeCtGov() as fake:
        dead = fake.base_url  # the port is closed once the fake stops
    api = TrialsApi(dead, retries=0)
    with app.app_context(), pytest.raises(SyncFailed, match="unreachable"):
        run_sync(api, now=app.extensions["clock"], allow_fixtures=True)
    assert db.one(sa.select(TrialSync)).status == "failed"


def test_fixture_data_is_refused_outside_tests(app, ctgov, db):
    api = TrialsApi(ctgov.base_url, retries=0)
    with app.app_context(), pytest.raises(SyncFailed, match="test fixture data"):
        run_sync(api, now=app.extensions["clock"], allow_fixtures=False)
    assert db.count(TrialStudy) == 0


def test_healthz_reports_the_last_sync(client, runner, ctgov, clock, db):
    before = client.get("/healthz")
    assert before.status_code == 200
    assert before.get_json() == {"status": "ok", "trials_last_sync": None} | {
        k: v for k, v in before.get_json().items() if k not in ("status", "trials_last_sync")}
    assert before.get_json()["trials_last_sync"] is None and before.get_json()["trials_sync"] is None
    result = runner.invoke(args=["trials", "sync"])
    assert result.exit_code == 0
    after = client.get("/healthz")
    assert after.status_code == 200
    assert after.get_json()["status"] == "ok"
    assert after.get_json()["trials_last_sync"] == clock().isoformat()
    # The same figures as the command's summary line: studies stored, skipped by reason, sites.
    stats = after.get_json()["trials_sync"]
    assert result.output.strip().endswith(
        f"trials sync ok: {stats['studies']} studies stored, {stats['skipped']} skipped, "
        f"{stats['sites']} sites, {stats['removed']} removed")
    assert stats["studies"] == db.count(TrialStudy) > 0 and stats["sites"] == db.count(TrialSite) > 0
    assert (stats["skipped"], stats["skipped_by_reason"]) == (0, {})


@pytest.mark.parametrize("reasons", [
    {},
    {"not about breast cancer": 3},
    {"conditions exclude breast cancer": 1, "not about breast cancer": 12, "no NCT id": 2},
])
def test_skip_reasons_read_back_as_they_were_written(reasons):
    assert parse_reasons(format_reasons(reasons)) == reasons


def test_every_fixture_is_marked_as_test_data():
    for path in FIXTURES.glob("*.json"):
        data = json.loads(path.read_text(encoding="utf-8"))
        assert set(data) <= {"totalCount", "nextPageToken", "studies"}, path  # the API v2 shape
        for raw in data["studies"]:
            ident = raw["protocolSection"]["identificationModule"]
            assert ident["nctId"].startswith("NCT999999"), path
            assert ident["briefTitle"].startswith("TEST FIXTURE - NOT A REAL STUDY"), path
    assert "TEST DATA" in (FIXTURES / "README.md").read_text(encoding="utf-8")
