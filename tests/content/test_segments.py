"""Segment arithmetic against twilio.md section 6."""

import pytest

from service.content.segments import GSM7, UCS2, count, non_gsm_chars


@pytest.mark.parametrize("text,encoding,units,segments", [
    ("a" * 160, GSM7, 160, 1),
    ("a" * 161, GSM7, 161, 2),
    ("a" * 306, GSM7, 306, 2),
    ("a" * 307, GSM7, 307, 3),
    ("€" * 80, GSM7, 160, 1),  # extension characters count double
    ("[" * 81, GSM7, 162, 2),
    ("ñé¿¡ü" * 10, GSM7, 50, 1),  # these are in the GSM-7 basic table
    ("á", UCS2, 1, 1),  # but á is not
    ("á" * 70, UCS2, 70, 1),
    ("á" * 71, UCS2, 71, 2),
    ("á" * 134, UCS2, 134, 2),
    ("á" * 135, UCS2, 135, 3),
    ("😀" * 35, UCS2, 70, 1),  # outside the BMP: two units each
    ("中文" * 35, UCS2, 70, 1),
    ("it\u2019s", UCS2, 4, 1),  # one curly quote forces UCS-2
])
def test_count(text, encoding, units, segments):
    got = count(text)
    assert (got.encoding, got.units, got.segments) == (encoding, units, segments)


def test_non_gsm_chars_names_the_culprits():
    assert non_gsm_chars("Qué día – ok") == ["í", "–"]  # é is GSM-7
