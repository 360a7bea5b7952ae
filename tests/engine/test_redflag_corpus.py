"""The red-flag detector on the committed corpora: recall >= 95% and false positives <= 1% in
every locale (service/content/redflag_quality.py), and the corpora are as large as promised."""

import pytest

from service.content.lexicon import load_lexicon
from service.content.locales import KNOWN_LOCALES, locale_dir
from service.content.redflag_quality import load_corpora, measure
from service.engine.redflags import CLASSES

CORPORA = load_corpora()
LEXICON = load_lexicon(list(KNOWN_LOCALES))
# Promised sizes (issue 13): positives per class, positives in all, negatives.
SIZES = {"en": (25, 90, 220), "es": (10, 45, 110)}
OTHER = (6, 24, 60)


def test_every_locale_has_a_corpus():
    assert sorted(CORPORA) == sorted(locale_dir(loc) for loc in KNOWN_LOCALES)


@pytest.mark.parametrize("locale", sorted(CORPORA))
def test_corpus_size(locale):
    per_class, positives, negatives = SIZES.get(locale, OTHER)
    corpus = CORPORA[locale]
    assert all(len(corpus.get(kind, ())) >= per_class for kind in CLASSES)
    assert sum(len(corpus.get(kind, ())) for kind in CLASSES) >= positives
    assert len(corpus.get("negative", ())) >= negatives


@pytest.mark.parametrize("quality", measure(LEXICON, CORPORA), ids=lambda q: q.locale)
def test_recall_and_false_positives(quality):
    assert quality.recall >= 0.95, quality.misses
    assert quality.false_positive_rate <= 0.01, quality.false_alarms


def test_the_negative_corpus_has_at_least_200_texts():
    assert sum(len(c.get("negative", ())) for c in CORPORA.values()) >= 200
