"""`flask --app service content check|report|extract|reviews`: the content commands (an outer layer:
they use the review state, the database and the app, which content itself may not import)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from pathlib import Path

from . import db as dbmod
from .reviews import ReviewState, import_entries
from .content.catalog import load_catalog
from .content.review import CHANGED, EXPORT_STATUSES, REVIEWS_FILE, dump, export_entries, load

content_cli = AppGroup("content", help="Content checks and reports.")


def review_state(line, locales: list[str]):
    """The line's review state, or one covering `locales` when the report asks for more."""
    if set(locales) <= set(line.reviews.locales):
        return line.reviews
    return ReviewState(line.renderer.catalog if all(line.renderer.catalog.has(x) for x in locales)
                       else load_catalog(tuple(locales)), locales, line.reviews.policy, line.reviews.engine, 0)


def review_warnings(reviews, locales: list[str]) -> list[str]:
    """One line per text whose words changed since a reviewer approved them."""
    snap = reviews.snapshot()
    warnings = [f"{loc}: {key}: changed since approval by {st.reviewer} on {st.reviewed_at:%Y-%m-%d}"
                for (loc, key), st in sorted(snap.statuses.items()) if loc in locales and st.status == CHANGED]
    if REVIEWS_FILE.exists():
        wanted = {(e["locale"], e["key"], e["hash"], e["status"]) for e in export_entries(reviews.current, snap.statuses)}
        kept = {(e.get("locale"), e.get("key"), e.get("hash"), e.get("status")) for e in load(REVIEWS_FILE)}
        if wanted != kept:
            warnings.append(f"{REVIEWS_FILE.name} differs from the texts and approvals ({len(wanted - kept)} entries "
                            f"to update): run `flask --app service content reviews export locales/reviews.json`")
    return warnings


@content_cli.command("check")
def check() -> None:
    """Exit non-zero with one line per problem in the enabled locales."""
    from .content.checks import check_catalog

    line = current_app.extensions["line"]
    locales = line.renderer.enabled_locales
    problems = check_catalog(line.renderer.catalog, line.renderer, locales)
    for problem in problems:
        click.echo(str(problem))
    for warning in review_warnings(line.reviews, locales):  # warnings: they do not fail the check
        click.echo(f"warning: {warning}")
    if problems:
        raise SystemExit(1)
    click.echo(f"content ok: {len(line.renderer.catalog.content.texts)} texts in {len(locales)} locales ({', '.join(locales)})")


@content_cli.command("extract")
def extract() -> None:
    """Rewrite locales/messages.pot from messages/ and merge it into each locale."""
    from .content.extract import main

    main([])


@content_cli.command("report")
@click.option("--out", "out_dir", default="build/content-report", show_default=True,
              type=click.Path(file_okay=False), help="folder for report.html and report.csv")
@click.option("--all-locales", is_flag=True, help="every locale with a catalog, not only the enabled ones")
def report(out_dir: str, all_locales: bool) -> None:
    """Write the reviewers' report: every text in every locale, segments, grade, review status."""
    from .content.locales import available_locales
    from .content import redflag_quality
    from .content.report import build, to_csv, to_html

    line = current_app.extensions["line"]
    renderer = line.renderer
    locales = available_locales() if all_locales else renderer.enabled_locales
    locales = [loc for loc in locales if renderer.catalog.has(loc)]
    reviews = review_state(line, locales)
    cells, summaries = build(renderer.catalog, renderer, locales, reviews)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    reviewed = renderer.catalog.reviewed_as_of("en")
    safety = redflag_quality.measure(line.lexicon)
    (out / "report.html").write_text(to_html(cells, summaries, renderer.catalog, locales, reviewed, reviews.policy,
                                             (redflag_quality.to_html(safety),)), encoding="utf-8")
    (out / "report.csv").write_text(to_csv(cells, renderer.catalog), encoding="utf-8")
    (out / "redflags.csv").write_text(redflag_quality.to_csv(safety), encoding="utf-8")
    click.echo(f"UNREVIEWED_LOCALES={reviews.policy} (approvals from {reviews.snapshot().source})")
    for q in safety:
        click.echo(f"{q.locale:8} red flags: recall {q.recall:.1%} ({q.found}/{q.positives}), "
                   f"false positives {q.false_positive_rate:.1%} ({q.false_positives}/{q.negatives})")
    for s in summaries:
        click.echo(f"{s.locale:8} {s.status:50} texts {s.translated}/{s.texts}  tour {s.tour_segments} segments  largest {s.largest}")
    click.echo(f"wrote {out / 'report.html'}, {out / 'report.csv'} and {out / 'redflags.csv'}")


reviews_cli = AppGroup("reviews", help="Clinical approvals of the texts: export to and import from a JSON file.")
content_cli.add_command(reviews_cli)


@reviews_cli.command("export")
@click.argument("path", type=click.Path(dir_okay=False))
def reviews_export(path: str) -> None:
    """Write every (locale, text) with its hash, status, reviewer and date (e.g. locales/reviews.json)."""
    line = current_app.extensions["line"]
    reviews = line.reviews
    snap = reviews.snapshot()
    entries = export_entries(reviews.current, snap.statuses)
    Path(path).write_text(dump(entries), encoding="utf-8")
    counts = {s: sum(e["status"] == s for e in entries) for s in EXPORT_STATUSES}
    click.echo(f"wrote {len(entries)} entries to {path}: " + ", ".join(f"{n} {s}" for s, n in counts.items())
               + f" (approvals read from the {snap.source})")


@reviews_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--actor", default="cli", show_default=True, help="recorded as the reviewer when an entry names none")
def reviews_import(path: str, actor: str) -> None:
    """Record each entry marked approved whose hash still matches the words; report the rest."""
    line = current_app.extensions["line"]
    try:
        entries = load(Path(path))
    except (ValueError, OSError) as exc:
        raise click.ClickException(f"{path}: {exc}") from None
    line.reviews.invalidate()
    line.reviews.snapshot()  # read now: inside the transaction below, SQLite would wait on itself
    with dbmod.transaction() as sess:
        report = import_entries(sess, line.reviews, entries, actor=actor, now=current_app.extensions["clock"]())
    line.reviews.invalidate()
    for text in report.lines():
        click.echo(text)
