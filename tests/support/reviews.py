"""Record clinical approvals in tests the way the portal does (service.reviews.record)."""

from __future__ import annotations

from service import db
from service.content.review import APPROVED
from service.reviews import record


def approve(app, locale: str, keys=None, reviewer: str = "reviewer@program.example", now=None) -> int:
    """Approve `keys` (default: every text) of `locale` as they read now; how many were recorded."""
    reviews = app.extensions["line"].reviews
    keys = list(reviews.catalog.content.texts) if keys is None else list(keys)
    with app.app_context(), db.transaction() as sess:
        for key in keys:
            record(sess, reviews, locale=locale, key=key, decision=APPROVED, reviewer=reviewer,
                   now=now or app.extensions["clock"]())
    reviews.invalidate()
    return len(keys)
