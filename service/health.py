"""GET /healthz: 200 when the database answers, 503 otherwise."""

from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import Blueprint, current_app, jsonify

from .trials.sync import health_fields  # last trials sync; never turns a 200 into a 503

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)


@bp.get("/healthz")
def healthz():
    try:
        with current_app.extensions["db_engine"].connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except Exception as exc:  # any failure means "not ready"; say which kind, not the details
        log.warning("health check failed: %s", type(exc).__name__)
        return jsonify(status="unavailable", database="down"), 503
    # The clinical review policy and each locale's state (service/reviews.py); cached, no query
    # more often than REVIEWS_REFRESH_SECONDS.
    reviews = current_app.extensions["line"].reviews.summary()
    return jsonify(status="ok", reviews=reviews, **health_fields(current_app.extensions["db_engine"]))
