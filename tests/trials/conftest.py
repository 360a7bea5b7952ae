"""Fixtures for the trials tests: the fake API, a synced database, helpers."""

from __future__ import annotations

import pytest

from tests.trials.fake_ctgov import FakeCtGov


@pytest.fixture
def ctgov(app):
    with FakeCtGov() as fake:
        app.config["CLINICALTRIALS_API_BASE_URL"] = fake.base_url
        app.config["TRIALS_API_RETRIES"] = 0  # retries are tested on the client directly
        yield fake


@pytest.fixture
def synced(runner, ctgov):
    """The initial fixture data loaded through `flask trials sync`."""
    result = runner.invoke(args=["trials", "sync"])
    assert result.exit_code == 0, result.output
    return ctgov
