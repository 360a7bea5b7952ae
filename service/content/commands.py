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


@content_cli.command("report")
@click.option("--out", "out_dir", default="build/content-report", show_default=True,
              type=click.Path(file_okay=False), help="folder for report.html and report.csv")
@click.option("--all-locales", is_flag=True, help="every locale with a catalog, not only the enabled ones")
def report(out_dir: str, all_locales: bool) -> None:
    """Write the reviewers' report: every text in every locale, segments, grade, review status."""
    from pathlib import Path

    from .locales import available_locales
    from . import redflag_quality
    from .report import build, to_csv, to_html

    line = current_app.extensions["line"]
    renderer = line.renderer
    locales = available_locales() if all_locales else renderer.enabled_locales
    locales = [loc for loc in locales if renderer.catalog.has(loc)]
    cells, summaries = build(renderer.catalog, renderer, locales)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    reviewed = renderer.catalog.reviewed_as_of("en")
    safety = redflag_quality.measure(line.lexicon)
    (out / "report.html").write_text(to_html(cells, summaries, renderer.catalog, locales, reviewed,
                                             (redflag_quality.to_html(safety),)), encoding="utf-8")
    (out / "report.csv").write_text(to_csv(cells, renderer.catalog), encoding="utf-8")
    (out / "redflags.csv").write_text(redflag_quality.to_csv(safety), encoding="utf-8")
    for q in safety:
        click.echo(f"{q.locale:8} red flags: recall {q.recall:.1%} ({q.found}/{q.positives}), "
                   f"false positives {q.false_positive_rate:.1%} ({q.false_positives}/{q.negatives})")
    for s in summaries:
        click.echo(f"{s.locale:8} {s.status:20} texts {s.translated}/{s.texts}  tour {s.tour_segments} segments  largest {s.largest}")
    click.echo(f"wrote {out / 'report.html'}, {out / 'report.csv'} and {out / 'redflags.csv'}")
