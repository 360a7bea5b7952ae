"""`flask --app service trials sync`: load recruiting metastatic breast cancer studies.

Every page is written to trial_staging as it arrives (one short transaction each), then one
transaction swaps the staged studies in: upsert by NCT id, replace their sites, delete studies the
API no longer returns (closed). If the API fails part-way, nothing live changes: patients keep the
last good data, the run is recorded as failed, and the command exits non-zero.
"""

from __future__ import annotations

import json
import logging
import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy.orm import Session

from .. import db
from ..models import TrialSite, TrialStaging, TrialStudy, TrialSync
from ..statuses import SyncStatus
from .api import ApiError, TrialsApi
from .parse import FIXTURE_PREFIX, SKIP_NO_ID, BadStudy, Study, parse_study, skip_reason

log = logging.getLogger(__name__)

STALE_RUN = timedelta(hours=6)  # a "running" sync older than this died without cleaning up
CHUNK = 500  # rows per IN (...) list: well under SQLite's and PostgreSQL's parameter limits


class SyncFailed(RuntimeError):
    pass


@dataclass(frozen=True)
class SyncResult:
    sync_id: int
    studies: int
    sites: int
    removed: int
    skipped: dict[str, int] = field(default_factory=dict)  # reason (parse.SKIP_*) -> studies

    def summary(self) -> str:
        """One line for the scheduler's log: stored, skipped by reason, sites, removed."""
        skipped = sum(self.skipped.values())
        why = f" ({format_reasons(self.skipped)})" if skipped else ""
        return (f"trials sync ok: {self.studies} studies stored, {skipped} skipped{why}, "
                f"{self.sites} sites, {self.removed} removed")


def format_reasons(reasons: dict[str, int]) -> str:
    """'not about breast cancer: 3; not for metastatic or advanced disease: 1', largest first."""
    return "; ".join(f"{why}: {n}" for why, n in sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0])))


def last_good_sync(sess: Session) -> datetime | None:
    """When the data patients see was loaded, or None before the first good sync."""
    return sess.scalar(sa.select(sa.func.max(TrialSync.finished_at)).where(TrialSync.status == SyncStatus.OK))


def parse_reasons(text: str) -> dict[str, int]:
    """The inverse of format_reasons: 'not about breast cancer: 3; ...' -> {reason: 3, ...}."""
    reasons = {}
    for part in filter(None, (p.strip() for p in (text or "").split(";"))):
        why, _, count = part.rpartition(":")
        if why and count.strip().isdigit():
            reasons[why.strip()] = int(count)
    return reasons


def health_fields(engine: sa.Engine) -> dict:
    """For GET /healthz: when the trials data was last loaded and what that sync kept (studies
    stored, skipped by reason, sites, removed); nulls before the first good sync."""
    try:
        with engine.connect() as conn:
            last = conn.execute(sa.select(TrialSync.finished_at, TrialSync.studies, TrialSync.skipped,
                                          TrialSync.skip_reasons, TrialSync.sites, TrialSync.removed)
                                .where(TrialSync.status == SyncStatus.OK)
                                .order_by(TrialSync.finished_at.desc(), TrialSync.id.desc()).limit(1)).first()
    except sa.exc.SQLAlchemyError as exc:
        log.warning("could not read the last trials sync: %s", type(exc).__name__)
        return {"trials_last_sync": None, "trials_sync": None}
    if last is None:
        return {"trials_last_sync": None, "trials_sync": None}
    return {"trials_last_sync": last.finished_at.isoformat(),
            "trials_sync": {"studies": last.studies, "skipped": last.skipped,
                            "skipped_by_reason": parse_reasons(last.skip_reasons),
                            "sites": last.sites, "removed": last.removed}}


def run_sync(api: TrialsApi, *, now: Callable[[], datetime], allow_fixtures: bool = False,
             on_page: Callable[[int, int | None], None] | None = None) -> SyncResult:
    """Fetch every page, then swap. Needs an app context (db.transaction). Raises SyncFailed."""
    with db.transaction() as sess:
        _abandon_stale(sess, now())
        run = TrialSync(status=SyncStatus.RUNNING, started_at=now())
        sess.add(run)
        sess.flush()
        sync_id = run.id
    skipped: Counter[str] = Counter()
    try:
        for page in api.pages():
            rows = []
            for raw in page.studies:
                try:
                    study = parse_study(raw)
                except BadStudy as exc:
                    log.warning("skipping a study: %s", exc)
                    skipped[SKIP_NO_ID] += 1
                    continue
                if not allow_fixtures and study.title.upper().startswith(FIXTURE_PREFIX):
                    # CLINICALTRIALS_API_BASE_URL points at the tests' fake: never store invented studies.
                    raise SyncFailed(f"{study.nct_id} is test fixture data; refusing to load it")
                reason = skip_reason(raw)
                if reason is not None:
                    skipped[reason] += 1
                    continue
                rows.append({"sync_id": sync_id, "nct_id": study.nct_id,
                             "data": json.dumps(study.to_json(), ensure_ascii=False)})
            if rows:
                with db.transaction() as sess:
                    sess.execute(sa.insert(TrialStaging), rows)
            if on_page is not None:
                on_page(len(page.studies), page.total)
        return _swap(sync_id, now, dict(skipped))
    except Exception as exc:
        _fail(sync_id, exc, now())
        if isinstance(exc, (ApiError, SyncFailed, sa.exc.SQLAlchemyError)):
            raise SyncFailed(str(exc)) from exc
        raise


def _swap(sync_id: int, now: Callable[[], datetime], skipped: dict[str, int]) -> SyncResult:
    with db.transaction() as sess:
        staged: dict[str, Study] = {}
        rows = sess.execute(sa.select(TrialStaging.nct_id, TrialStaging.data)
                            .where(TrialStaging.sync_id == sync_id).order_by(TrialStaging.id))
        for nct_id, data in rows:
            staged[nct_id] = Study.from_json(json.loads(data))  # a study seen twice: the later page wins
        if not staged:
            why = f" ({sum(skipped.values())} skipped: {format_reasons(skipped)})" if skipped else ""
            raise SyncFailed(f"the API returned no studies to keep{why}; keeping the last good data")
        stamp = now()
        existing = dict(sess.execute(sa.select(TrialStudy.nct_id, TrialStudy.id)).all())
        gone = [sid for nct, sid in existing.items() if nct not in staged]
        # Sites have no stable id in the API: replace them all, inside this same transaction.
        sess.execute(sa.delete(TrialSite))
        for chunk in _chunks(gone):
            sess.execute(sa.delete(TrialStudy).where(TrialStudy.id.in_(chunk)))
        def fields(s: Study) -> dict:
            return {"title": s.title, "phases": s.phases, "overall_status": s.overall_status,
                    "subtypes": s.subtypes, "acronym": s.acronym, "interventions": s.interventions,
                    "synced_at": stamp}

        updates = [{"id": existing[nct], **fields(s)} for nct, s in staged.items() if nct in existing]
        inserts = [{"nct_id": nct, **fields(s)} for nct, s in staged.items() if nct not in existing]
        if updates:
            sess.execute(sa.update(TrialStudy), updates)
        if inserts:
            sess.execute(sa.insert(TrialStudy), inserts)
        ids = dict(sess.execute(sa.select(TrialStudy.nct_id, TrialStudy.id)).all())
        sites = [{"study_id": ids[nct], **vars(site)} for nct, s in staged.items() for site in s.sites]
        if sites:
            sess.execute(sa.insert(TrialSite), sites)
        sess.execute(sa.update(TrialSync).where(TrialSync.id == sync_id).values(
            status=SyncStatus.OK, finished_at=stamp, studies=len(staged), sites=len(sites), removed=len(gone),
            skipped=sum(skipped.values()), skip_reasons=format_reasons(skipped)[:300]))
        sess.execute(sa.delete(TrialStaging).where(TrialStaging.sync_id == sync_id))
    return SyncResult(sync_id, len(staged), len(sites), len(gone), skipped)


def _fail(sync_id: int, exc: Exception, when: datetime) -> None:
    log.error("trials sync %d failed, keeping the last good data: %s", sync_id, exc)
    with db.transaction() as sess:
        sess.execute(sa.delete(TrialStaging).where(TrialStaging.sync_id == sync_id))
        sess.execute(sa.update(TrialSync).where(TrialSync.id == sync_id).values(
            status=SyncStatus.FAILED, finished_at=when, error=str(exc)[:300]))


def _abandon_stale(sess: Session, when: datetime) -> None:
    stale = list(sess.scalars(sa.select(TrialSync.id).where(
        TrialSync.status == SyncStatus.RUNNING, TrialSync.started_at < when - STALE_RUN)))
    for chunk in _chunks(stale):
        sess.execute(sa.delete(TrialStaging).where(TrialStaging.sync_id.in_(chunk)))
        sess.execute(sa.update(TrialSync).where(TrialSync.id.in_(chunk)).values(status=SyncStatus.ABANDONED))


def _chunks(items: list, size: int = CHUNK):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def api_from_config() -> TrialsApi:
    cfg = current_app.config
    return TrialsApi(cfg["CLINICALTRIALS_API_BASE_URL"], page_size=int(cfg.get("TRIALS_PAGE_SIZE", 200)),
                     retries=int(cfg.get("TRIALS_API_RETRIES", 2)))


trials_cli = AppGroup("trials", help="Clinical trials near me (ClinicalTrials.gov).")


@trials_cli.command("sync")
def sync_command() -> None:
    """Load recruiting metastatic breast cancer studies; keeps the last good data on failure."""
    clock = current_app.extensions["clock"]
    bar = None

    def on_page(count: int, total: int | None) -> None:
        nonlocal bar
        if bar is None:
            bar = click.progressbar(length=total or count, label="Syncing trials", file=sys.stderr)
            bar.__enter__()
        if total is None:  # no totalCount: grow the bar as pages arrive
            bar.length = max(bar.length or 0, bar.pos + count)
        bar.update(count)

    try:
        result = run_sync(api_from_config(), now=clock, allow_fixtures=current_app.config["APP_ENV"] == "test",
                          on_page=on_page)
    except SyncFailed as exc:
        raise click.ClickException(f"trials sync failed, the last good data is kept: {exc}") from exc
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    click.echo(result.summary())
