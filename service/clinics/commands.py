"""`flask --app service staff create`, `tokens create`, `clinics sweep` (SPEC.md "Command line")."""

from __future__ import annotations

import sys

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from .. import db as dbmod
from ..call_sessions import purge_calls
from ..models import StaffUser
from .accounts import (REVIEWER, ROLES, AccountError, clinic_named, create_staff, create_token, purge_login_attempts,
                       set_password)
from .lifecycle import sweep

staff_cli = AppGroup("staff", help="Clinic staff accounts for the portal.")
tokens_cli = AppGroup("tokens", help="Clinic API tokens.")

DEMO_EMAIL = "nurse@demo-clinic.example"
DEMO_PASSWORD = "demo-password-not-secret"  # development only: seed-demo refuses in production


def _clinic(sess, name: str):
    clinic = clinic_named(sess, name)
    if clinic is None:
        raise click.ClickException(f"no clinic named {name!r} (create it with `clinics create`)")
    return clinic


def _read_password() -> str:
    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    return password


@staff_cli.command("create")
@click.option("--clinic", "clinic_name", default=None, help="the clinic's exact name (not for --role reviewer)")
@click.option("--email", required=True)
@click.option("--role", type=click.Choice(ROLES), default="staff", show_default=True,
              help="reviewer: a program-level clinical reviewer of the texts, tied to no clinic")
def staff_create(clinic_name: str | None, email: str, role: str) -> None:
    """Create a portal account; the password is read from standard input."""
    if (role == REVIEWER) != (clinic_name is None):
        raise click.ClickException("--clinic is required, except with --role reviewer (no clinic)")
    password = _read_password()
    with dbmod.transaction() as sess:
        clinic = _clinic(sess, clinic_name) if clinic_name is not None else None
        try:
            user = create_staff(sess, clinic, email, password, role, now=current_app.extensions["clock"]())
        except AccountError as exc:
            raise click.ClickException(str(exc)) from None
        where = f"for clinic {clinic.name!r}" if clinic is not None else "(program-level, no clinic)"
        click.echo(f"created {user.role} {user.email} {where}")


@staff_cli.command("set-password")
@click.option("--email", required=True)
def staff_set_password(email: str) -> None:
    """Give an account a new password (read from standard input) and sign it out everywhere."""
    password = _read_password()
    with dbmod.transaction() as sess:
        user = sess.scalars(sa.select(StaffUser).where(StaffUser.email == email.strip().lower())).one_or_none()
        if user is None:
            raise click.ClickException(f"no account {email!r}")
        try:
            set_password(sess, user, password)
        except AccountError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"new password for {user.email}; its portal sessions have ended")


@tokens_cli.command("create")
@click.option("--clinic", "clinic_name", required=True, help="the clinic's exact name")
@click.option("--name", default="", help="what the token is for (shown in listings)")
def tokens_create(clinic_name: str, name: str) -> None:
    """Create an API token. It is printed once, as the last line, and stored only hashed."""
    with dbmod.transaction() as sess:
        clinic = _clinic(sess, clinic_name)
        row, token = create_token(sess, clinic, name, now=current_app.extensions["clock"]())
        click.echo(f"token {row.prefix}... for clinic {clinic.name!r}; it is shown only now:")
    click.echo(token)


@click.command("sweep")
@with_appcontext
def clinics_sweep() -> None:
    """Expire unconfirmed enrollments and complete finished ones, for every clinic; forget calls
    that are over (the voice line's call_sessions, kept only while a call lasts)."""
    now = current_app.extensions["clock"]()
    with dbmod.transaction() as sess:
        counts = sweep(sess, now)
    with dbmod.transaction() as sess:  # housekeeping apart: a failure here keeps the sweep's work
        counts["finished calls removed"] = purge_calls(sess, now)
    with dbmod.transaction() as sess:  # failed sign-ins long past the throttle window
        counts["old sign-in failures removed"] = purge_login_attempts(sess, current_app.extensions["clock"]())
    click.echo(", ".join(f"{n} {what}" for what, n in counts.items()))


def seed_demo_staff(clinic_name: str) -> None:
    """A demo clinic-admin for `make run`, with a development-only password."""
    if current_app.config["APP_ENV"] == "production":
        raise click.ClickException("seed-demo creates a known password: not in production")
    with dbmod.transaction() as sess:
        clinic = _clinic(sess, clinic_name)
        try:
            create_staff(sess, clinic, DEMO_EMAIL, DEMO_PASSWORD, "clinic_admin")
        except AccountError:
            pass  # already there
    base = current_app.config["PUBLIC_BASE_URL"]
    click.echo(f"portal: {base}/portal/  sign in as {DEMO_EMAIL} / {DEMO_PASSWORD} (development only)")
