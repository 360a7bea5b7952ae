"""Four worker processes share one PostgreSQL queue of 10,000 due texts: Twilio (the fake) sees
every one exactly once."""

from __future__ import annotations

import re
import time
from collections import Counter
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa

from service.models import OutboundMessage
from tests.conftest import require
from tests.support.outbound import (app, fake, queue_many, row_ids_seen, start_worker, statuses,  # noqa: F401
                                    worker_config, worker_env)

TOTAL = 10_000
WORKERS = 4


@pytest.mark.postgres
@pytest.mark.slow
def test_four_workers_send_ten_thousand_texts_exactly_once(app, fake, database_url, is_postgres):
    require(is_postgres, "FOR UPDATE SKIP LOCKED across processes needs PostgreSQL (TEST_DATABASE_URL)")
    fake.clock = lambda: datetime.now(timezone.utc)
    queue_many(app, TOTAL, phones=500, due_at=datetime.now(timezone.utc))
    # 20 texts a number, over the daily cap (tested in tests/security/test_outbound_caps.py): off here.
    env = worker_env(database_url, fake, WORKER_BATCH=100, OUTBOUND_DAILY_CAP_PER_NUMBER=0)

    started = time.monotonic()
    procs = [start_worker(env, "--drain") for _ in range(WORKERS)]
    outputs = []
    try:
        for proc in procs:
            out, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err[-2000:]
            outputs.append(out)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    elapsed = time.monotonic() - started

    seen = Counter(row_ids_seen(fake))
    with app.extensions["db_sessionmaker"]() as sess:
        all_ids = set(sess.scalars(sa.select(OutboundMessage.id)))
        sids = sess.scalar(sa.select(sa.func.count(sa.distinct(OutboundMessage.twilio_sid))))
    assert len(all_ids) == TOTAL
    assert set(seen) == all_ids, "a text was skipped"
    assert max(seen.values()) == 1, f"sent twice: {[k for k, v in seen.items() if v > 1][:10]}"
    assert len(fake.created()) == TOTAL and sids == TOTAL
    assert statuses(app) == {"sent": TOTAL}
    sent_by = [int(re.search(r"sent (\d+)", out).group(1)) for out in outputs]
    assert sum(sent_by) == TOTAL and all(n > 0 for n in sent_by), sent_by  # the work was shared
    print(f"\n{WORKERS} workers, {TOTAL} texts: {elapsed:.1f} s ({TOTAL / elapsed:.0f}/s), per worker {sent_by}")
