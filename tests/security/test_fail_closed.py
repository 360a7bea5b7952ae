"""Issue 17 items 5 and 6: production fails closed, database URLs as hosts give them, and every
refusal is one line (no traceback), in the web process and on the command line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from service import create_app
from service.cli import UPGRADE_FIRST
from service.config import ConfigError, load_settings

from .conftest import PRODUCTION

ROOT = Path(__file__).resolve().parents[2]
FLASK = str(Path(sys.executable).with_name("flask"))


def production(**changes) -> dict:
    settings = {**PRODUCTION, "DATABASE_URL": "sqlite://"}
    settings.update(changes)
    return {k: v for k, v in settings.items() if v is not None}


def clean_env(tmp_path, **env) -> dict:
    """A process environment with none of the test run's settings, plus these."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("APP_", "DATABASE", "TWILIO", "SECRET",
                                                                      "METRICS", "PROGRAM", "SIMULATOR", "PUBLIC"))}
    return {**base, "INBOUND_SPOOL_DIR": str(tmp_path / "spool"), **env}


def run(args: list[str], env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)


def test_a_complete_production_config_loads():
    settings = load_settings(production())
    assert settings.APP_ENV == "production" and settings.SIMULATOR_ENABLED is False


@pytest.mark.parametrize("changes, refusal", [
    ({"METRICS_TOKEN": None}, "METRICS_TOKEN must be set in production"),
    ({"METRICS_TOKEN": ""}, "METRICS_TOKEN must be set in production"),
    ({"SIMULATOR_ENABLED": "1"}, "SIMULATOR_ENABLED must be off in production"),
    ({"PROGRAM_CONTACT": None}, "PROGRAM_CONTACT must be your program's real contact"),
    ({"PROGRAM_CONTACT": "help@mbcguide.example"}, "PROGRAM_CONTACT"),
    ({"PROGRAM_CONTACT": "nurse@clinic.example.com"}, "PROGRAM_CONTACT"),
    ({"PROGRAM_CONTACT": "help@line.test"}, "PROGRAM_CONTACT"),
])
def test_production_refuses_each_unsafe_setting_in_one_line(monkeypatch, changes, refusal):
    for key in ("METRICS_TOKEN", "SIMULATOR_ENABLED", "PROGRAM_CONTACT", "METRICS_ENABLED"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("METRICS_ENABLED", "1")
    for key, value in production(**changes).items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert refusal in str(caught.value) and "\n" not in str(caught.value)


def test_a_test_config_override_cannot_slip_past_the_checks():
    with pytest.raises(ConfigError, match="SIMULATOR_ENABLED"):
        load_settings({**production(), "SIMULATOR_ENABLED": True})


def test_metrics_switched_off_explicitly_needs_no_token_and_has_no_route(database_url):
    app = create_app({**production(METRICS_TOKEN=None), "METRICS_ENABLED": False, "DATABASE_URL": database_url})
    try:
        assert app.test_client().get("/metrics").status_code == 404
    finally:
        app.extensions["db_engine"].dispose()


def test_production_metrics_need_the_token(production_app):
    client = production_app.test_client()
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer " + "m" * 32}).status_code == 200


@pytest.mark.parametrize("given, expected", [
    ("postgres://u:p%40ss@db.example.org:5432/mbc", "postgresql+psycopg://u:p%40ss@db.example.org:5432/mbc"),
    ("postgresql://u:p@db.example.org/mbc?sslmode=require", "postgresql+psycopg://u:p@db.example.org/mbc?sslmode=require"),
    ("postgresql+psycopg://u:p@h/d", "postgresql+psycopg://u:p@h/d"),
    ("sqlite:////tmp/x.sqlite3", "sqlite:////tmp/x.sqlite3"),
])
def test_database_urls_as_hosts_give_them_use_psycopg_3(given, expected):
    url = load_settings({"APP_ENV": "test", "DATABASE_URL": given}).DATABASE_URL
    assert url == expected
    engine = sa.create_engine(url)  # no connection: loads the dialect and its driver
    assert engine.dialect.driver in ("psycopg", "pysqlite")
    engine.dispose()


@pytest.mark.parametrize("given, refusal", [
    ("mysql://root:hunter2@db/mbc", "scheme 'mysql' is not supported"),
    ("postgresql+psycopg2://u:hunter2@h/d", "scheme 'postgresql+psycopg2' is not supported"),
    ("hunter2", "DATABASE_URL must look like"),
])
def test_an_unknown_database_url_is_one_line_without_the_password(given, refusal):
    with pytest.raises(ConfigError) as caught:
        load_settings({"APP_ENV": "test", "DATABASE_URL": given})
    assert refusal in str(caught.value) and "hunter2" not in str(caught.value)


def test_gunicorn_entry_point_is_production_and_refuses_in_one_line(tmp_path):
    """`gunicorn service.wsgi:app` with APP_ENV unset: production, so no secrets means no start."""
    done = run([sys.executable, "-c", "import service.wsgi"], clean_env(tmp_path, DATABASE_URL="sqlite://"))
    assert done.returncode == 3
    assert done.stderr.splitlines() == ["MBC Guide will not start: SECRET_KEY must be set when APP_ENV=production"]


def test_gunicorn_entry_point_with_production_settings_starts(tmp_path):
    env = clean_env(tmp_path, **{k: v for k, v in production().items() if k != "APP_ENV"})
    done = run([sys.executable, "-c", "import service.wsgi as w; print(w.app.config['APP_ENV'])"], env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "production"


def test_the_cli_refuses_a_bad_database_url_in_one_line(tmp_path):
    env = clean_env(tmp_path, APP_ENV="development", DATABASE_URL="mysql://root:hunter2@db/mbc")
    done = run([FLASK, "--app", "service", "worker"], env)
    assert done.returncode != 0 and "Traceback" not in done.stderr and "hunter2" not in done.stderr
    assert [line for line in done.stderr.splitlines() if line.strip()] == [
        "Error: DATABASE_URL scheme 'mysql' is not supported: use postgresql:// (PostgreSQL through psycopg 3) "
        "or sqlite:///"]


def test_commands_before_db_upgrade_say_to_run_it_in_one_line(tmp_path):
    env = clean_env(tmp_path, APP_ENV="development", DATABASE_URL=f"sqlite:///{tmp_path / 'new.sqlite3'}")
    done = run([FLASK, "--app", "service", "simulate"], env)
    assert done.returncode == 1
    assert [line for line in done.stderr.splitlines() if line.strip()] == [f"Error: {UPGRADE_FIRST}"]


@pytest.mark.parametrize("args", [["simulate"], ["worker"], ["seed-demo"], ["clinics", "sweep"],
                                  ["staff", "create", "--help"], ["tokens", "create", "--clinic", "x"],
                                  ["spool", "replay"], ["trials", "sync"]])
def test_every_command_that_needs_tables_checks_first(tmp_path, args):
    app = create_app({"APP_ENV": "test", "DATABASE_URL": f"sqlite:///{tmp_path / 'new.sqlite3'}"})
    try:
        result = app.test_cli_runner().invoke(args=args)
        if args[-1] == "--help":  # help needs no database
            assert result.exit_code == 0
        else:
            assert result.exit_code == 1 and result.output.strip() == f"Error: {UPGRADE_FIRST}", result.output
    finally:
        app.extensions["db_engine"].dispose()


def test_db_upgrade_itself_runs_on_a_new_database(tmp_path):
    app = create_app({"APP_ENV": "test", "DATABASE_URL": f"sqlite:///{tmp_path / 'new.sqlite3'}"})
    try:
        runner = app.test_cli_runner()
        assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
        assert runner.invoke(args=["clinics", "sweep"]).exit_code == 0
    finally:
        app.extensions["db_engine"].dispose()


@pytest.mark.parametrize("name, value, refusal", [("LEASE_SECONDS", "sixty", "LEASE_SECONDS must be a whole number"),
                                                  ("SEND_RATE_PER_SECOND", "fast", "SEND_RATE_PER_SECOND must be a number"),
                                                  ("SESSION_EXPIRY_MINUTES", "1.5", "must be a whole number")])
def test_a_bad_number_is_one_line_naming_it(name, value, refusal):
    with pytest.raises(ConfigError, match=refusal):
        load_settings({"APP_ENV": "test", name: value})
