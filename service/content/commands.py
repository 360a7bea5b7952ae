"""`flask --app service content check|report|extract|compile`."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

content_cli = AppGroup("content", help="Content checks and reports.")


@content_cli.command("check")
def check() -> None:
    """Exit non-zero with one line per problem in the enabled locales."""
    from .checks import check_catalog

    line = current_app.extensions["line"]
    locales = line.renderer.enabled_locales
    problems = check_catalog(line.renderer.catalog, line.renderer, locales)
    for problem in problems:
        click.echo(str(problem))
    if problems:
        raise SystemExit(1)
    click.echo(f"content ok: {len(line.renderer.catalog.content.texts)} texts in {len(locales)} locales ({', '.join(locales)})")


@content_cli.command("extract")
def extract() -> None:
    """Rewrite locales/messages.pot from messages/ and merge it into each locale."""
    from .extract import main

    main([])
