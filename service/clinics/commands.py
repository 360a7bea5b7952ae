"""`flask --app service staff create|set-password|list|deactivate|activate`, `tokens create|list|revoke`,
`clinics sweep` (SPEC.md "Command line")."""

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
                       revoke_token, set_active, set_password, staff_of, tokens_of)
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


CLI_ACTOR = "cli"


def _when(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "never"


def _clinic_id(sess, clinic_name: str | None) -> int | None:
    return _clinic(sess, clinic_name).id if clinic_name else None


@tokens_cli.command("list")
@click.option("--clinic", "clinic_name", default=None, help="only this clinic's tokens")
def tokens_list(clinic_name: str | None) -> None:
    """Every API token: id, first characters, clinic, name, created, last used, revoked."""
    with dbmod.transaction() as sess:
        rows = tokens_of(sess, _clinic_id(sess, clinic_name))
    for row, clinic in rows:
        state = f"revoked {_when(row.revoked_at)}" if row.revoked_at else "active"
        click.echo(f"{row.id}\t{row.prefix}...\t{clinic}\t{row.name or '-'}\tcreated {_when(row.created_at)}"
                   f"\tlast used {_when(row.last_used_at)}\t{state}")
    if not rows:
        click.echo("no tokens")


@tokens_cli.command("revoke")
@click.argument("token_id", type=click.IntRange(1, 2**62))
def tokens_revoke(token_id: int) -> None:
    """Revoke the token with this id (from `tokens list`): refused from its next request on."""
    with dbmod.transaction() as sess:
        row = revoke_token(sess, token_id, current_app.extensions["clock"](), CLI_ACTOR)
        if row is None:
            raise click.ClickException(f"no token with id {token_id}")
        click.echo(f"token {row.prefix}... revoked {_when(row.revoked_at)}")


@staff_cli.command("list")
@click.option("--clinic", "clinic_name", default=None, help="only this clinic's accounts")
def staff_list(clinic_name: str | None) -> None:
    """Every portal account: email, role, clinic, active or not, last sign-in."""
    with dbmod.transaction() as sess:
        rows = staff_of(sess, _clinic_id(sess, clinic_name))
    for user, clinic in rows:
        click.echo(f"{user.email}\t{user.role}\t{clinic}\t{'active' if user.active else 'deactivated'}"
                   f"\tlast sign-in {_when(user.last_login_at)}")
    if not rows:
        click.echo("no accounts")


def _set_active(email: str, active: bool) -> None:
    with dbmod.transaction() as sess:
        user = sess.scalars(sa.select(StaffUser).where(StaffUser.email == email.strip().lower())
                            .with_for_update()).one_or_none()
        if user is None:
            raise click.ClickException(f"no account {email!r}")
        changed = set_active(sess, user, active, current_app.extensions["clock"](), CLI_ACTOR)
    verb = "activated" if active else "deactivated; its portal sessions have ended"
    click.echo(f"{user.email} {verb}" if changed else f"{user.email} was already {'active' if active else 'deactivated'}")


@staff_cli.command("deactivate")
@click.option("--email", required=True)
def staff_deactivate(email: str) -> None:
    """Stop an account signing in and end every session it has."""
    _set_active(email, False)


@staff_cli.command("activate")
@click.option("--email", required=True)
def staff_activate(email: str) -> None:
    """Let a deactivated account sign in again (with its password)."""
    _set_active(email, True)


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
