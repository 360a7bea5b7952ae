"""Operator surfaces: simulate, db commands, clinics, /healthz, configuration."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from service import create_app, migrate
from service.config import ConfigError, load_settings
from service.models import Clinic, ConsentEvent, Subscriber


def test_simulate_holds_a_conversation_in_english_and_spanish(runner, db):
    script = "hi\n2\n1\nESPAÑOL\n2\nSTOP\nMENU\nSTART\n"
    result = runner.invoke(args=["simulate", "--phone", "+1 415 555 0111"], input=script)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "not medical advice" in out
    assert "Hormone therapy. Reply a number:" in out
    assert "(no reply: held back: this number opted out (STOP)" in out  # MENU after STOP is silent, and says why
    sub = db.one(sa.select(Subscriber))
    assert sub.phone == "+14155550111" and sub.locale == "es" and sub.status == "active"
    kinds = [e.kind for e in db.all(sa.select(ConsentEvent).order_by(ConsentEvent.id))]
    assert kinds == ["opt_in", "opt_out", "opt_in"]


def test_clinics_create_is_idempotent(runner, db):
    assert "created clinic" in runner.invoke(args=["clinics", "create", "Bay Oncology"]).output
    assert "already exists" in runner.invoke(args=["clinics", "create", "Bay Oncology"]).output
    assert db.count(Clinic) == 1


def test_seed_demo_creates_the_demo_clinic(runner, db):
    runner.invoke(args=["seed-demo"])
    assert db.one(sa.select(Clinic)).name == "Demo Clinic"


def test_healthz_up(client):
    resp = client.get("/healthz")
    assert resp.status_code == 200 and resp.get_json()["status"] == "ok"
    # No trials sync yet: nothing to report (tests/trials/test_sync.py covers the figures after one).
    assert (resp.get_json()["trials_last_sync"], resp.get_json()["trials_sync"]) == (None, None)


def test_healthz_down_is_503(tmp_path):
    app = create_app({"APP_ENV": "test", "DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none"})
    resp = app.test_client().get("/healthz")
    assert resp.status_code == 503 and resp.get_json()["status"] != "ok"


def test_models_and_migrations_agree(database_url):
    migrate.check(database_url)  # raises on drift


@pytest.mark.parametrize("missing", ["SECRET_KEY", "TWILIO_AUTH_TOKEN", "TWILIO_ACCOUNT_SID"])
def test_production_refuses_to_start_without_secrets(monkeypatch, missing):
    env = {"APP_ENV": "production", "SECRET_KEY": "s" * 32, "TWILIO_AUTH_TOKEN": "t" * 32,
           "TWILIO_ACCOUNT_SID": "AC" + "9" * 32, "PUBLIC_BASE_URL": "https://line.example.org",
           "TWILIO_MESSAGING_SERVICE_SID": "MG" + "1" * 32, "DATABASE_URL": "sqlite://",
           "METRICS_TOKEN": "m" * 32, "PROGRAM_CONTACT": "help@mbcguide.org"}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    load_settings()  # complete production config loads
    monkeypatch.delenv(missing)
    with pytest.raises(ConfigError, match=missing):
        load_settings()


def test_production_needs_https_public_url(monkeypatch):
    for key, value in {"APP_ENV": "production", "SECRET_KEY": "s" * 32, "TWILIO_AUTH_TOKEN": "t" * 32,
                       "TWILIO_ACCOUNT_SID": "AC" + "9" * 32, "PUBLIC_BASE_URL": "http://line.example.org",
                       "TWILIO_FROM_NUMBER": "+18005550199"}.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ConfigError, match="https"):
        load_settings()


def test_unknown_locale_in_enabled_locales_is_refused(monkeypatch):
    monkeypatch.setenv("ENABLED_LOCALES", "en,xx")
    with pytest.raises(ConfigError, match="xx"):
        load_settings()


def test_session_expiry_is_configurable(monkeypatch):
    monkeypatch.setenv("SESSION_EXPIRY_MINUTES", "45")
    assert load_settings().SESSION_EXPIRY.total_seconds() == 45 * 60
