"""SMS segment arithmetic (../shared/reference/twilio.md section 6).

One character outside the GSM-7 table switches the whole message to UCS-2. GSM-7 extension
characters take two septets; UCS-2 characters outside the BMP (most emoji) take two units.
"""

from __future__ import annotations

from dataclasses import dataclass

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")

GSM7 = "GSM-7"
UCS2 = "UCS-2"


@dataclass(frozen=True)
class SegmentCount:
    encoding: str
    units: int  # septets for GSM-7, 16-bit code units for UCS-2
    segments: int


def is_gsm7(text: str) -> bool:
    return all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text)


def count(text: str) -> SegmentCount:
    if is_gsm7(text):
        units = sum(2 if c in GSM7_EXTENSION else 1 for c in text)
        single, multi, encoding = 160, 153, GSM7
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, multi, encoding = 70, 67, UCS2
    segments = 1 if units <= single else -(-units // multi)
    return SegmentCount(encoding, units, segments)


def non_gsm_chars(text: str) -> list[str]:
    """The characters that force UCS-2, for the content report."""
    return sorted({c for c in text if c not in GSM7_BASIC and c not in GSM7_EXTENSION})
