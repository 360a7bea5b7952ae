"""Helpers shared by the security tests: a snapshot of every table (to prove "no state change")
and the routes the app serves, read from its url_map so that a new route is covered at once."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from service.db import Base


def routes(app, prefix: str) -> list[tuple[str, str]]:
    """(rule, method) for every route under `prefix`, HEAD and OPTIONS left out."""
    found = {(rule.rule, method) for rule in app.url_map.iter_rules() if rule.rule.startswith(prefix)
             for method in rule.methods - {"HEAD", "OPTIONS"}}
    return sorted(found)


@pytest.fixture
def snapshot(app):
    """snapshot() -> every row of every table, comparable before and after a request."""
    engine = app.extensions["db_engine"]

    def take() -> dict[str, list[tuple]]:
        with engine.connect() as conn:
            return {table.name: sorted(map(repr, conn.execute(sa.select(table)).all()))
                    for table in Base.metadata.sorted_tables}

    return take


PRODUCTION = {"APP_ENV": "production", "SECRET_KEY": "s" * 40, "TWILIO_AUTH_TOKEN": "t" * 32,
              "TWILIO_ACCOUNT_SID": "AC" + "9" * 32, "PUBLIC_BASE_URL": "https://line.example.org",
              "TWILIO_FROM_NUMBER": "+18005550199", "METRICS_TOKEN": "m" * 32,
              "PROGRAM_CONTACT": "help@mbcguide.org"}


@pytest.fixture
def production_app(database_url):
    """The app as deployed (APP_ENV=production), on the test database."""
    from service import create_app

    app = create_app({**PRODUCTION, "DATABASE_URL": database_url})
    yield app
    app.extensions["db_engine"].dispose()


@pytest.fixture
def proxied_app(app):
    """The test app as deployed behind one reverse proxy (TRUSTED_PROXY_HOPS=1, as on Heroku):
    same database and clock as `app`, whose teardown empties the tables."""
    from service import create_app
    from tests.conftest import PUBLIC, TOKEN

    proxied = create_app({"APP_ENV": "test", "TESTING": True, "DATABASE_URL": app.config["DATABASE_URL"],
                          "PUBLIC_BASE_URL": PUBLIC, "TWILIO_AUTH_TOKEN": TOKEN, "SECRET_KEY": "test-secret",
                          "TRUSTED_PROXY_HOPS": 1})
    proxied.extensions["clock"] = app.extensions["clock"]
    yield proxied
    proxied.extensions["db_engine"].dispose()
