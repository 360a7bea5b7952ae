"""Alembic environment: the URL comes from the app config, the target from service.models."""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from sqlalchemy import engine_from_config, pool

from service import models  # noqa: F401 - registers the tables on Base.metadata
from service.config import load_settings
from service.db import Base

config = context.config
if config.config_file_name is not None and not config.attributes.get("skip_logging"):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

url = config.attributes.get("url") or config.get_main_option("sqlalchemy.url") or load_settings().DATABASE_URL
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True,
                      render_as_batch=url.startswith("sqlite"))
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connectable = config.attributes.get("connection")
    if connectable is None:
        connectable = engine_from_config({"sqlalchemy.url": url}, prefix="sqlalchemy.",
                                         poolclass=pool.NullPool)
        with connectable.connect() as connection:
            _run(connection)
    else:
        _run(connectable)


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=connection.dialect.name == "sqlite", compare_type=True)
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # An ALTER waiting for its lock behind a long transaction makes every later query on
            # that table wait behind it, webhooks included. Give up after half a webhook's budget
            # (service/db.py WAIT_SECONDS) instead: the release fails, the running version keeps
            # answering, and the deploy can be retried. SET LOCAL: this transaction only.
            from service import db

            connection.exec_driver_sql(f"SET LOCAL lock_timeout = {int(db.WAIT_SECONDS * 500)}")
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
