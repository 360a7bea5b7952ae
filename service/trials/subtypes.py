"""Which breast cancer subtypes a study is about, from its conditions, keywords and title.

Registrations write subtypes many ways ("HR+/HER2-", "ER-positive", "HER2 positive",
"triple-negative"), so the tags are found by pattern. A study that names no subtype gets no tag
and is left out of a subtype search: TRIALS 94110 (no subtype) shows every study.
"""

from __future__ import annotations

import re

HR = "HR+"
HER2 = "HER2+"
TNBC = "TNBC"
SUBTYPES = (HR, HER2, TNBC)

_POS = r"(?:\+|[\s-]*pos(?:itive)?\b)"
_PATTERNS = {
    HR: re.compile(
        rf"\b(?:hr|er|pr|er/pr|er\s*and/or\s*pr|hormone[\s-]*receptor|estrogen[\s-]*receptor|"
        rf"oestrogen[\s-]*receptor|progesterone[\s-]*receptor){_POS}|\bluminal\b|\bhormone[\s-]*sensitive\b"
    ),
    HER2: re.compile(rf"\b(?:her2|her-2|erbb2|her2/neu){_POS}"),
    TNBC: re.compile(r"\btriple[\s-]*negative\b|\btnbc\b"),
}


def detect(*texts: str) -> tuple[str, ...]:
    """The subtype tags the texts mention, in SUBTYPES order."""
    blob = " | ".join(t for t in texts if t).casefold()
    return tuple(tag for tag in SUBTYPES if _PATTERNS[tag].search(blob))


def encode(tags: tuple[str, ...] | list[str]) -> str:
    """Stored with spaces around each tag, so `LIKE '% HR+ %'` cannot match inside another tag."""
    return f" {' '.join(tags)} " if tags else ""


def like_pattern(tag: str) -> str:
    return f"% {tag} %"
