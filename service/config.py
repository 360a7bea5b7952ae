"""All configuration, read from the environment in one place (SPEC.md "Environment").

Development and test get obviously fake defaults; production refuses to start without real
secrets, so a forgotten variable fails the deploy instead of silently weakening security.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import click
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from .content.locales import KNOWN_LOCALES, available_locales

INSTANCE_DIR = Path(__file__).resolve().parents[1] / "instance"

DEV_SECRET = "an insecure development secret"
DEV_TWILIO_TOKEN = "dev-auth-token-not-secret"
DEV_TWILIO_SID = "AC" + "0" * 32
PLACEHOLDER_CONTACT = "help@mbcguide.example"
# Reserved names (RFC 2606/6761): a contact there reaches nobody.
RESERVED_DOMAIN = re.compile(r"(^|[.@])(example(\.(com|net|org))?|test|invalid|localhost)$")
# The drivers installed (pyproject.toml): PostgreSQL through psycopg 3, SQLite through the stdlib.
POSTGRES = "postgresql+psycopg"
DRIVERS = {"postgres": POSTGRES, "postgresql": POSTGRES, POSTGRES: POSTGRES,
           "sqlite": "sqlite", "sqlite+pysqlite": "sqlite+pysqlite"}


class ConfigError(click.ClickException):
    """A setting that stops start-up. A ClickException, so `flask ...` prints it as one line
    ("Error: ..."); service/wsgi.py prints it as one line too (`refusal`)."""

    def __str__(self) -> str:
        return self.message


def refusal(exc: ConfigError) -> str:
    """The one line a web process prints when it will not start."""
    return f"MBC Guide will not start: {exc}"


def wsgi_app_env() -> str:
    """The web process is production unless APP_ENV says otherwise (issue 17: a forgotten APP_ENV
    must not serve an open /metrics and the browser phone on the internet)."""
    return os.environ.get("APP_ENV") or "production"


def database_url(raw: str) -> str:
    """DATABASE_URL as SQLAlchemy needs it: postgres:// (Heroku) and postgresql:// mean psycopg 3,
    the driver installed; anything else but SQLite is refused in one line. Never echoes the URL
    (it holds the password)."""
    scheme, sep, rest = raw.strip().partition("://")
    if not sep:
        raise ConfigError("DATABASE_URL must look like postgresql://user:password@host/db or sqlite:///path")
    driver = DRIVERS.get(scheme.lower())
    if driver is None:
        raise ConfigError(f"DATABASE_URL scheme {scheme[:30]!r} is not supported: use postgresql:// "
                          "(PostgreSQL through psycopg 3) or sqlite:///")
    url = f"{driver}://{rest}"
    try:
        make_url(url)
    except (ArgumentError, ValueError):
        raise ConfigError("DATABASE_URL is not a valid database URL") from None
    return url


def _placeholder_contact(value: str) -> bool:
    contact = value.strip().lower()
    return not contact or contact == PLACEHOLDER_CONTACT or bool(RESERVED_DOMAIN.search(contact))


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _list(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def _number(env: dict, name: str, default: int | float) -> int | float:
    """The variable as a number of the default's type; a bad value is one line naming it."""
    value = (env.get(name) or "").strip()
    if not value:
        return default
    kind = type(default)
    try:
        return kind(value)
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        raise ConfigError(f"{name} must be {what}, not {value[:30]!r}") from None


@dataclass
class Settings:
    APP_ENV: str
    DATABASE_URL: str
    SECRET_KEY: str
    TWILIO_ACCOUNT_SID: str
    TWILIO_AUTH_TOKEN: str
    TWILIO_MESSAGING_SERVICE_SID: str
    TWILIO_FROM_NUMBER: str
    TWILIO_API_BASE_URL: str
    PUBLIC_BASE_URL: str
    SMS_BACKEND: str
    ENABLED_LOCALES: list[str]
    SESSION_EXPIRY: timedelta
    PROGRAM_CONTACT: str
    SIMULATOR_ENABLED: bool
    DEFAULT_REGION: str
    CLINICALTRIALS_API_BASE_URL: str  # trials sync source (tests: a local fake)
    TRIALS_RADIUS_MILES: int  # TRIALS <ZIP> looks this far for recruiting sites
    FLOOD_LIMIT: int
    LOG_FORMAT: str
    FLOOD_WINDOW: timedelta
    # Outbound worker (service/worker.py, docs/outbound.md)
    SEND_RATE_PER_SECOND: float  # across all workers; 0 = no limit
    SEND_WINDOW_START: str  # "HH:MM" patient's local time; a clinic's own window wins
    SEND_WINDOW_END: str  # "HH:MM" (24:00 = midnight); start == end means no window
    SEND_DEFAULT_TIMEZONE: str  # when the number does not tell the zone
    WORKER_BATCH: int
    LEASE_SECONDS: int
    WORKER_POLL_SECONDS: float
    SEND_MAX_ATTEMPTS: int
    SEND_RETRY_SECONDS: int  # first retry delay; doubles per attempt
    SEND_TIMEOUT_SECONDS: float  # one Twilio REST call; must stay well under LEASE_SECONDS
    OUTBOUND_DAILY_CAP_PER_NUMBER: int  # texts a number gets per local day at most; more wait a day; 0 = off
    INBOUND_SPOOL_DIR: str  # texts received while the database was down wait here (service/spool.py)
    SPOOL_RETRY_SECONDS: float  # how often a web process retries recording them
    METRICS_TOKEN: str  # GET /metrics needs "Authorization: Bearer <it>" when set (service/metrics.py)
    METRICS_ENABLED: bool  # METRICS_ENABLED=0: no /metrics at all (production then needs no token)
    TRUSTED_PROXY_HOPS: int  # proxies in front that set X-Forwarded-For/-Proto; 0 = trust none
    # Clinical review (service/reviews.py): "label" offers every enabled locale and tells readers of
    # one not fully reviewed that it is a machine translation; "off" offers a locale only once all
    # its texts are approved.
    UNREVIEWED_LOCALES: str
    REVIEWS_REFRESH_SECONDS: float  # how often a process looks for approvals made elsewhere

    def as_flask(self) -> dict:
        return {k: v for k, v in vars(self).items()}


def load_settings(overrides: dict | None = None) -> Settings:
    env = dict(os.environ)
    env.update({k: str(v) for k, v in (overrides or {}).items() if not isinstance(v, (list, timedelta, bool))})
    app_env = env.get("APP_ENV", "development")
    if app_env not in {"development", "test", "production"}:
        raise ConfigError(f"APP_ENV must be development, test or production, not {app_env!r}")
    prod = app_env == "production"

    def secret(name: str, dev_default: str) -> str:
        value = env.get(name, "")
        if value:
            return value
        if prod:
            raise ConfigError(f"{name} must be set when APP_ENV=production")
        return dev_default

    # Default: every locale that has a catalog on disk.
    enabled = _list(env.get("ENABLED_LOCALES")) or available_locales()
    unknown = [loc for loc in enabled if loc not in KNOWN_LOCALES]
    if unknown:
        raise ConfigError(f"ENABLED_LOCALES has unknown locales: {', '.join(unknown)}")
    if "en" not in enabled:
        enabled.insert(0, "en")  # English keywords always work; English is the fallback

    settings = Settings(
        APP_ENV=app_env,
        DATABASE_URL=database_url(env.get("DATABASE_URL") or f"sqlite:///{INSTANCE_DIR / 'mbc_guide.sqlite3'}"),
        SECRET_KEY=secret("SECRET_KEY", DEV_SECRET),
        TWILIO_ACCOUNT_SID=secret("TWILIO_ACCOUNT_SID", DEV_TWILIO_SID),
        TWILIO_AUTH_TOKEN=secret("TWILIO_AUTH_TOKEN", DEV_TWILIO_TOKEN),
        TWILIO_MESSAGING_SERVICE_SID=env.get("TWILIO_MESSAGING_SERVICE_SID", ""),
        TWILIO_FROM_NUMBER=env.get("TWILIO_FROM_NUMBER", ""),
        TWILIO_API_BASE_URL=env.get("TWILIO_API_BASE_URL", ""),
        PUBLIC_BASE_URL=(env.get("PUBLIC_BASE_URL") or ("" if prod else "http://localhost:5000")).rstrip("/"),
        SMS_BACKEND=env.get("SMS_BACKEND") or ("twilio" if prod else "console"),
        ENABLED_LOCALES=enabled,
        SESSION_EXPIRY=timedelta(minutes=_number(env, "SESSION_EXPIRY_MINUTES", 30)),
        PROGRAM_CONTACT=env.get("PROGRAM_CONTACT") or PLACEHOLDER_CONTACT,
        SIMULATOR_ENABLED=_bool(env.get("SIMULATOR_ENABLED"), default=not prod),
        DEFAULT_REGION=env.get("DEFAULT_REGION", "US"),
        CLINICALTRIALS_API_BASE_URL=(env.get("CLINICALTRIALS_API_BASE_URL")
                                     or "https://clinicaltrials.gov/api/v2").rstrip("/"),
        TRIALS_RADIUS_MILES=_number(env, "TRIALS_RADIUS_MILES", 50),
        # More inbound texts than this from one number within the window get no replies (but
        # STOP still works): stops reply storms and loops with auto-responders.
        FLOOD_LIMIT=_number(env, "FLOOD_LIMIT", 20),
        LOG_FORMAT=env.get("LOG_FORMAT", ""),  # json | text; default json in production
        FLOOD_WINDOW=timedelta(minutes=_number(env, "FLOOD_WINDOW_MINUTES", 2)),
        SEND_RATE_PER_SECOND=_number(env, "SEND_RATE_PER_SECOND", 0.0),
        SEND_WINDOW_START=env.get("SEND_WINDOW_START") or "09:00",
        SEND_WINDOW_END=env.get("SEND_WINDOW_END") or "20:00",
        SEND_DEFAULT_TIMEZONE=env.get("SEND_DEFAULT_TIMEZONE") or "America/New_York",
        WORKER_BATCH=_number(env, "WORKER_BATCH", 100),
        LEASE_SECONDS=_number(env, "LEASE_SECONDS", 60),
        WORKER_POLL_SECONDS=_number(env, "WORKER_POLL_SECONDS", 2.0),
        SEND_MAX_ATTEMPTS=_number(env, "SEND_MAX_ATTEMPTS", 6),
        SEND_RETRY_SECONDS=_number(env, "SEND_RETRY_SECONDS", 30),
        SEND_TIMEOUT_SECONDS=_number(env, "SEND_TIMEOUT_SECONDS", 10.0),
        OUTBOUND_DAILY_CAP_PER_NUMBER=_number(env, "OUTBOUND_DAILY_CAP_PER_NUMBER", 10),
        INBOUND_SPOOL_DIR=env.get("INBOUND_SPOOL_DIR") or str(INSTANCE_DIR / "spool"),
        SPOOL_RETRY_SECONDS=_number(env, "SPOOL_RETRY_SECONDS", 5.0),
        METRICS_TOKEN=env.get("METRICS_TOKEN", ""),
        METRICS_ENABLED=_bool(env.get("METRICS_ENABLED"), default=True),
        # How many reverse proxies (Heroku's router, nginx) append to X-Forwarded-For in front of
        # the app. 0: the header is ignored and the client address is the TCP peer; 1 on Heroku
        # or behind one proxy. More than there really are lets a client forge its address (and
        # dodge the per-address sign-in throttle); fewer makes every client the proxy.
        TRUSTED_PROXY_HOPS=_number(env, "TRUSTED_PROXY_HOPS", 0),
        UNREVIEWED_LOCALES=(env.get("UNREVIEWED_LOCALES") or "label").strip().lower(),
        REVIEWS_REFRESH_SECONDS=float(env.get("REVIEWS_REFRESH_SECONDS") or 30),
    )
    for key, value in (overrides or {}).items():  # before the checks: an override cannot slip past them
        setattr(settings, key, value)
    settings.DATABASE_URL = database_url(settings.DATABASE_URL)
    if prod:
        if not settings.PUBLIC_BASE_URL.startswith("https://"):
            raise ConfigError("PUBLIC_BASE_URL must be the public https origin in production")
        if settings.SECRET_KEY == DEV_SECRET or settings.TWILIO_AUTH_TOKEN == DEV_TWILIO_TOKEN:
            raise ConfigError("production must not use the development secrets")
        # Each refusal is one line naming the setting (issue 17: production fails closed).
        if settings.METRICS_ENABLED and not settings.METRICS_TOKEN:
            raise ConfigError("METRICS_TOKEN must be set in production (or METRICS_ENABLED=0 to switch /metrics off)")
        if settings.SIMULATOR_ENABLED:
            raise ConfigError("SIMULATOR_ENABLED must be off in production: the browser phone posts signed webhooks")
        if _placeholder_contact(settings.PROGRAM_CONTACT):
            raise ConfigError("PROGRAM_CONTACT must be your program's real contact in production, "
                              "not a placeholder (it is in every HELP reply)")
        if settings.SMS_BACKEND == "twilio" and not (
            settings.TWILIO_MESSAGING_SERVICE_SID or settings.TWILIO_FROM_NUMBER
        ):
            raise ConfigError("set TWILIO_MESSAGING_SERVICE_SID or TWILIO_FROM_NUMBER")
    if not 1 <= settings.TRIALS_RADIUS_MILES <= 500:
        raise ConfigError("TRIALS_RADIUS_MILES must be between 1 and 500")
    if settings.SEND_TIMEOUT_SECONDS * 2 > settings.LEASE_SECONDS:
        # A lease that can expire while its REST call is still running lets a second worker
        # reclaim a message that may be reaching Twilio (docs/outbound.md).
        raise ConfigError("LEASE_SECONDS must be at least twice SEND_TIMEOUT_SECONDS")
    if not 0 <= settings.TRUSTED_PROXY_HOPS <= 5:
        raise ConfigError("TRUSTED_PROXY_HOPS must be between 0 and 5")
    if settings.UNREVIEWED_LOCALES not in {"label", "off"}:
        raise ConfigError("UNREVIEWED_LOCALES must be label or off")
    if settings.SMS_BACKEND not in {"twilio", "console", "fake"}:
        raise ConfigError("SMS_BACKEND must be twilio or console")
    return settings
