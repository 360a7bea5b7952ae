"""The detector's reading rules, one case each (service/engine/redflags.py), with the real terms of
every locale. The corpora (test_redflag_corpus.py) measure recall; these pin the mechanics."""

from __future__ import annotations

import pytest

from service.content.lexicon import load_lexicon
from service.content.locales import KNOWN_LOCALES

LEXICON = load_lexicon(list(KNOWN_LOCALES))


def kind(text: str) -> str | None:
    flag = LEXICON.red_flag(text)
    return flag.kind if flag else None


@pytest.mark.parametrize("text,expected", [
    ("CAN'T BREATHE!!", "emergency"), ("cant breeeathe", "emergency"), ("chest pains", "emergency"),
    ("pain in the middle of my chest", "emergency"), ("chst pain", "emergency"),  # order, span, a typo
    ("我妈妈chest pain", "emergency"),  # English glued to Chinese
    ("fever 101", "urgent"), ("temp 38.5", "urgent"), ("38,5°C", "urgent"), ("38.5 C", "urgent"),
    ("体温38度5", "urgent"), ("발열 38.5도예요", "urgent"),
    ("no, i have chest pain", "emergency"),  # a negation does not cross a comma
    ("im not ok my chest hurts", "emergency"),  # "not ok" is no negation
    ("i had surgery years ago and now i cant breathe", "emergency"),  # "now" ends the past
    ("去年做过手术，现在胸口很痛", "emergency"),
    ("i dont want to live anymore", "crisis"), ("me quiero morir", "crisis"),
])
def test_read_as_people_write(text, expected):
    assert kind(text) == expected


@pytest.mark.parametrize("text", [
    "no fever today", "sin fiebre", "I had a fever last year", "我去年发烧了", "what if i get a fever",
    "fever 99.5", "temp of 99", "I take 100mg", "I am 38", "fewer side effects", "chest port",
    "stop worrying", "hay fever", "my ca 15-3 went up to 38.5", "想死你了 什么时候来看我", "mắc cười muốn chết",
])
def test_ordinary_texts_are_not_red_flags(text):
    assert kind(text) is None


def test_a_negation_read_in_another_language_does_not_hide_a_real_flag():
    # Portuguese "no" is "in the"; Spanish negation covers only its own words.
    assert kind("sangramento no nariz que nao para") == "emergency"
    assert kind("no tengo fiebre") is None


def test_the_words_that_matched_are_kept_for_the_clinic():
    flag = LEXICON.red_flag("ok so my chest hurts real bad since lunch")
    assert flag.kind == "emergency" and flag.words == "chest hurts"
