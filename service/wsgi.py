"""WSGI entry point for gunicorn: `gunicorn service.wsgi:app`.

Production unless APP_ENV says otherwise (config.wsgi_app_env). A setting that stops start-up is
one line on stderr and exit status 3, which makes gunicorn stop instead of restarting workers.
"""

import sys

from . import create_app
from .config import ConfigError, refusal, wsgi_app_env
from .db import WAIT_SECONDS

# The web process bounds every PostgreSQL statement by the budget it already gives connects and
# lock waits (service/db.py): a webhook stuck in a slow statement fails over to the apology and
# the spool before Twilio's 15 s run out and the text is lost. The worker and the CLI, which run
# longer jobs, build their app without it.
try:
    app = create_app({"DB_STATEMENT_TIMEOUT": WAIT_SECONDS, "APP_ENV": wsgi_app_env()})
except ConfigError as exc:
    print(refusal(exc), file=sys.stderr, flush=True)
    raise SystemExit(3) from None  # gunicorn's WORKER_BOOT_ERROR: the server stops
