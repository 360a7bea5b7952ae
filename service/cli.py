"""Command line: `flask --app service <command>` (SPEC.md "Command line")."""

from __future__ import annotations

import functools
import sys
import uuid

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import AppGroup, ScriptInfo, with_appcontext

from . import db as dbmod
from .db import Base

# Commands that work on a database not migrated yet (or need none); every other one first checks
# that `db upgrade` ran and says so in one line when it did not (issue 17).
NO_SCHEMA_NEEDED = {"db", "content", "routes", "shell", "run"}
UPGRADE_FIRST = "the database is not set up: run `flask --app service db upgrade` first"

db_cli = AppGroup("db", help="Database migrations.")
clinics_cli = AppGroup("clinics", help="Clinics.")


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (default: head)."""
    from . import migrate  # Alembic (and Mako, Pygments) only for this command: ~10 MB per process

    migrate.upgrade(current_app.config["DATABASE_URL"], revision)
    click.echo(f"database at {revision}")


@db_cli.command("check")
def db_check() -> None:
    """Fail when the models and the migrations disagree."""
    from . import migrate

    migrate.check(current_app.config["DATABASE_URL"])
    click.echo("no drift between models and migrations")


@clinics_cli.command("create")
@click.argument("name")
@click.option("--timezone", "tz", default="America/New_York", show_default=True)
def clinics_create(name: str, tz: str) -> None:
    """Create a clinic (idempotent: an existing clinic is left as it is)."""
    from .models import Clinic

    with dbmod.transaction() as sess:
        existing = sess.scalars(sa.select(Clinic).where(Clinic.name == name)).one_or_none()
        if existing:
            click.echo(f"clinic {name!r} already exists (id {existing.id})")
            return
        clinic = Clinic(name=name, timezone=tz)
        sess.add(clinic)
        sess.flush()
        click.echo(f"created clinic {name!r} (id {clinic.id})")


@click.command("simulate")
@with_appcontext
@click.option("--phone", default="+15555550100", show_default=True, help="the number you text from")
def simulate(phone: str) -> None:
    """Talk to the line in the terminal, through the same engine and storage as the webhook."""
    from .conversation import handle_sms
    from .phones import to_e164
    from .simulator.explain import why_no_reply

    line = current_app.extensions["line"]
    clock = current_app.extensions["clock"]
    phone = to_e164(phone, current_app.config["DEFAULT_REGION"])
    interactive = sys.stdin.isatty()
    if interactive:
        click.echo(f"Texting MBC Guide as {phone}. Try MENU, 1, MORE, HELP, ESPAÑOL, STOP, START. Ctrl-D ends.")
    while True:
        if interactive:
            click.echo("you> ", nl=False)
        raw = sys.stdin.readline()
        if not raw:
            break
        text = raw.rstrip("\n")
        now = clock()
        with dbmod.transaction() as sess:
            texts = handle_sms(sess, line, sid="SMsim" + uuid.uuid4().hex, phone=phone,
                               body=text, now=now)
        if not texts:
            with dbmod.transaction() as sess:
                click.echo(f"(no reply: {why_no_reply(sess, current_app, phone, now)['text']})")
        for reply in texts:
            click.echo("line> " + reply.replace("\n", "\n      "))
        click.echo("")


@click.command("seed-demo")
@with_appcontext
@click.pass_context
def seed_demo(ctx: click.Context) -> None:
    """Create the demo clinic used by `make run`, with a few weeks of patients, texts, check-in
    answers, tasks and a fictional trials sample (safe to run again; refused in production)."""
    if current_app.config["APP_ENV"] == "production":
        raise click.ClickException("seed-demo makes fictional patients and a known password: not in production")
    ctx.invoke(clinics_create, name="Demo Clinic", tz="America/Los_Angeles")
    from .clinics.commands import seed_demo_staff
    from .demo import seed

    added = seed(current_app._get_current_object(), "Demo Clinic", current_app.extensions["clock"]())
    if any(added.values()):
        click.echo("demo data: " + ", ".join(f"{n} {what}" for what, n in added.items()))
    else:
        click.echo("demo data: already there")
    seed_demo_staff("Demo Clinic")


spool_cli = AppGroup("spool", help="Texts received while the database was down (service/spool.py).")


@spool_cli.command("status")
def spool_status() -> None:
    """How many texts wait to be recorded."""
    spool = current_app.extensions["spool"]
    click.echo(f"{spool.pending()} texts wait in {current_app.config['INBOUND_SPOOL_DIR']}")
    if spool.failed():
        click.echo(f"{spool.failed()} could not be recorded: see the *.failed files there and the "
                   "spool_record_failed log lines")


@spool_cli.command("replay")
def spool_replay() -> None:
    """Record every waiting text now (the web processes and the worker also do this by themselves)."""
    from .spool import replay

    try:
        result = replay(current_app._get_current_object())
    except Exception as exc:  # noqa: BLE001 - the database is still down: say so, keep everything
        raise click.ClickException(f"the database failed ({type(exc).__name__}); nothing was lost, "
                                   "try again when it is back") from exc
    click.echo(f"recorded {result.stored}, already recorded {result.already}, still waiting {result.left}"
               + (f", could not be recorded {result.failed} (see *.failed)" if result.failed else ""))


def require_schema() -> None:
    """One line instead of a "no such table" traceback when the database was never migrated
    (or misses a table a newer release added)."""
    app = click.get_current_context().ensure_object(ScriptInfo).load_app()
    try:
        present = set(sa.inspect(app.extensions["db_engine"]).get_table_names())
    except sa.exc.SQLAlchemyError as exc:
        raise click.ClickException(f"cannot reach the database ({type(exc).__name__}): check DATABASE_URL") from None
    if any(name not in present for name in Base.metadata.tables):
        raise click.ClickException(UPGRADE_FIRST)


def _guard(command: click.Command) -> None:
    """Run require_schema before the command (a group: before each of its subcommands, so that
    `--help` still needs no database)."""
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _guard(sub)
        return
    if getattr(command, "_schema_guarded", False):  # commands are module globals, apps are many
        return
    callback = command.callback

    @functools.wraps(callback)
    def guarded(*args, **kwargs):
        require_schema()
        return callback(*args, **kwargs)

    command.callback = guarded
    command._schema_guarded = True


def init_app(app: Flask) -> None:
    from .content_cli import content_cli as content_group

    app.cli.add_command(db_cli)
    from .clinics.commands import clinics_sweep, staff_cli, tokens_cli

    clinics_cli.add_command(clinics_sweep)
    app.cli.add_command(clinics_cli)
    app.cli.add_command(staff_cli)
    app.cli.add_command(tokens_cli)
    app.cli.add_command(content_group)
    app.cli.add_command(simulate)
    app.cli.add_command(spool_cli)
    app.cli.add_command(seed_demo)
    from .worker import worker_command

    app.cli.add_command(worker_command)
    from .trials.sync import trials_cli

    app.cli.add_command(trials_cli)
    for name, command in app.cli.commands.items():
        if name not in NO_SCHEMA_NEEDED:
            _guard(command)
