"""The reviewers' report: CSV rows for every text and locale; the HTML renders in Chromium."""

from __future__ import annotations

import csv
from html.parser import HTMLParser

import pytest

from tests.conftest import require
from tests.support.browser import chromium_available, chromium_page


@pytest.fixture
def report(runner, tmp_path, app):
    result = runner.invoke(args=["content", "report", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    return tmp_path, app.extensions["line"].renderer


def test_csv_has_every_text_in_every_locale(report):
    out, renderer = report
    with (out / "report.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    keys = set(renderer.catalog.content.texts)
    locales = renderer.enabled_locales
    assert len(rows) == len(keys) * len(locales)
    row = next(r for r in rows if r["key"] == "topic.cdk46.what.text" and r["locale"] == "en")
    assert row["sources"].startswith("medical.md") and row["grade"].startswith("FK ")
    assert int(row["segments"]) >= 1 and row["encoding"] == "GSM-7"
    es = next(r for r in rows if r["key"] == "topic.cdk46.what.text" and r["locale"] == "es")
    assert es["review_status"] == "unreviewed" and es["translated"] == "yes" and es["reviewer"] == ""


def test_html_is_self_contained(report):
    out, _ = report

    class Refs(HTMLParser):
        external = []

        def handle_starttag(self, tag, attrs):
            for name, value in attrs:
                if name in {"src", "href"} and value and not value.startswith("#"):
                    self.external.append(value)

    parser = Refs()
    parser.feed((out / "report.html").read_text(encoding="utf-8"))
    assert parser.external == []


@pytest.mark.browser
def test_report_renders_in_chromium(report):
    require(chromium_available(), "Chromium (/usr/bin/chromium) is needed for browser tests")
    out, renderer = report
    with chromium_page() as page:
        page.goto((out / "report.html").as_uri())
        assert page.title() == "MBC Guide content report"
        summary = page.locator("#summary + table tr")
        assert summary.count() == 1 + len(renderer.enabled_locales)
        assert page.locator("td[lang='es']").first.inner_text().strip() != ""
        page.screenshot(path=str(out / "report.png"), full_page=False)
    assert (out / "report.png").stat().st_size > 5000


def test_report_shows_red_flag_recall_and_false_positives_per_locale(report):
    out, _ = report
    with (out / "redflags.csv").open(encoding="utf-8") as fh:
        rows = {r["locale"]: r for r in csv.DictReader(fh)}
    assert set(rows) >= {"en", "es", "zh_Hans", "vi"}
    assert all(float(r["recall"]) >= 0.95 and float(r["false_positive_rate"]) <= 0.01 for r in rows.values())
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "<h2 id='red-flags'>Red-flag detection</h2>" in page
    assert f"<td>{rows['en']['found']} / {rows['en']['positives']}</td>" in page
