"""The series as data: its shape, its facts' sources, and its texts in every locale."""

from __future__ import annotations

import re

import pytest

from service.clinics.series import load_series
from service.clinics.texts import series_check_texts
from service.content.segments import count
from service.engine import keywords as kw


def test_every_category_is_a_topic_with_what_side_and_ask(app):
    series = load_series()
    content = app.extensions["line"].renderer.catalog.content
    topics = {t.id for t in content.topics}
    assert set(series.categories) <= topics
    for category, steps in series.categories.items():
        assert [s.name for s in steps] == [f"{category}.what", f"{category}.side", f"{category}.ask"]
        assert [s.day for s in steps] == sorted(s.day for s in steps)
        for step in steps:
            assert content.texts[step.key].sources, f"{step.key} cites no medical.md section"
    assert [s.name for s in series.common] == ["common.trials", "common.checkin"]
    assert series.expire_days == 7


def test_plan_staggers_categories_and_counts_weeks():
    series = load_series()
    plan = series.plan(["hormone", "chemo"])
    assert [(s.name, s.day) for s in plan] == [
        ("hormone.what", 0), ("chemo.what", 1), ("hormone.side", 3), ("chemo.side", 4), ("hormone.ask", 7),
        ("chemo.ask", 8), ("common.trials", 14), ("common.checkin", 21)]
    assert series.weeks(["hormone"]) == 3


def locales(app):
    return list(app.extensions["line"].renderer.enabled_locales)


def test_every_series_text_fits_three_segments_in_every_translated_locale(app):
    catalog = app.extensions["line"].renderer.catalog
    too_long = []
    for locale in locales(app):
        for key, _, text in series_check_texts(catalog, locale):
            if (locale == "en" or catalog.translated(locale, key.split(" ")[0])) and count(text).segments > 3:
                too_long.append((locale, key, count(text)))
    assert too_long == []


LETTER = r"[A-Za-z\u00C0-\u024F\u0400-\u04FF\u0600-\u06FF\u1E00-\u1EFF]"  # scripts that separate words with spaces


def keyword_candidates(text: str) -> set[str]:
    """Every run of 1-3 words, and every 1-4 character run of CJK/Hangul: a keyword in the text
    may be quoted, written without spaces (Chinese) or carry a particle (Korean)."""
    words = re.findall(rf"{LETTER}+", text)
    runs = {" ".join(words[i:i + n]) for n in (1, 2, 3) for i in range(len(words))}
    for block in re.findall(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]+", text):
        runs |= {block[i:i + n] for n in (1, 2, 3, 4) for i in range(len(block))}
    return runs


@pytest.mark.parametrize("kind", [kw.OPT_IN, kw.OPT_OUT, kw.HELP])
def test_confirmation_names_words_that_work_in_its_own_language(app, kind):
    """Reply YES / HELP / STOP in the patient's language must be words the line understands."""
    line = app.extensions["line"]
    catalog = line.renderer.catalog
    checked = 0
    for locale in locales(app):
        if not catalog.translated(locale, "series.confirm"):
            continue  # reported by `content check`
        text = catalog.get(locale, "series.confirm", clinic="X", count="5", weeks="3")
        assert any(line.lexicon.classify(w, locale) == kind for w in keyword_candidates(text)), (locale, text)
        checked += 1
    assert checked >= 2  # English and Spanish at least


def test_english_confirmation_has_every_required_disclosure(app):
    text = app.extensions["line"].renderer.catalog.get("en", "series.confirm", clinic="Bayview", count="5", weeks="3")
    for part in ("MBC Guide", "Bayview", "5 texts over 3 weeks", "Msg & data rates may apply", "YES", "HELP", "STOP"):
        assert part in text
