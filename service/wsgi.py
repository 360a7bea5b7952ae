"""WSGI entry point for gunicorn: `gunicorn service.wsgi:app`."""

from . import create_app
from .db import WAIT_SECONDS

# The web process bounds every PostgreSQL statement by the budget it already gives connects and
# lock waits (service/db.py): a webhook stuck in a slow statement fails over to the apology and
# the spool before Twilio's 15 s run out and the text is lost. The worker and the CLI, which run
# longer jobs, build their app without it.
app = create_app({"DB_STATEMENT_TIMEOUT": WAIT_SECONDS})
