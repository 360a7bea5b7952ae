"""Which breast cancer subtypes a study is about, from everything its record says.

Registrations write subtypes many ways ("HR+/HER2-", "ER-positive", "HER2 positive",
"triple-negative", "HER2-low") and in many places: the brief title may say only "advanced breast
cancer" while the official title or the inclusion criteria say "HER2-positive". So the tags are
found by pattern in the titles, conditions, keywords and the inclusion criteria (never the
exclusion criteria: "Exclusion: HER2-positive disease" is not a HER2+ study). A negated mention
("not HER2-positive", "non-HER2-positive") does not count; "HER2-negative" never reads as HER2+.

A study that names no subtype gets no tag and is left out of a subtype search: TRIALS 94110 (no
subtype) shows every study.
"""

from __future__ import annotations

import re

HR = "HR+"
HER2 = "HER2+"
HER2_LOW = "HER2-low"
TNBC = "TNBC"
SUBTYPES = (HR, HER2, HER2_LOW, TNBC)

_POS = r"(?:\s*\(\s*\+\s*\)|\+|[\s-]*pos(?:itive|itivity)?\b)"
_NEGATED = re.compile(r"(?:\bnot|\bnon|\bno|\bwithout|\bexcluding|\bexcept)[\s-]+(?:\w+[\s-]+)?$")
_PATTERNS = {
    HR: re.compile(
        rf"\b(?:hr|er|pr|er/pr|er\s*and/or\s*pr|hormone[\s-]*receptor|(?:o)?estrogen[\s-]*receptor|"
        rf"progesterone[\s-]*receptor)(?:\s*\([a-z/+ -]{{1,10}}\))?{_POS}|\bluminal\b|\bhormone[\s-]*sensitive\b"
    ),
    HER2: re.compile(rf"\b(?:her2|her-2|erbb2|her2/neu)(?:\s*\([a-z0-9/ -]{{1,10}}\))?{_POS}"),
    HER2_LOW: re.compile(r"\b(?:her2|her-2)[\s-]*(?:ultra[\s-]*)?low\b"),
    TNBC: re.compile(r"\btriple[\s-]*negative\b|\btnbc\b"),
}
# Where the inclusion criteria end: the exclusion list names what the study does NOT take.
_EXCLUSION = re.compile(r"^\s*(?:key\s+)?exclusion\s+criteria\b", re.IGNORECASE | re.MULTILINE)


def inclusion_part(criteria: str | None) -> str:
    """The eligibility text up to its exclusion criteria."""
    text = criteria or ""
    match = _EXCLUSION.search(text)
    return text[: match.start()] if match else text


def _mentions(pattern: re.Pattern, blob: str) -> bool:
    for match in pattern.finditer(blob):
        before = blob[max(0, match.start() - 24): match.start()]
        if not _NEGATED.search(before):
            return True
    return False


def detect(*texts: str) -> tuple[str, ...]:
    """The subtype tags the texts mention (not negated), in SUBTYPES order."""
    blob = " | ".join(t for t in texts if t).casefold()
    return tuple(tag for tag in SUBTYPES if _mentions(_PATTERNS[tag], blob))


def encode(tags: tuple[str, ...] | list[str]) -> str:
    """Stored with spaces around each tag, so `LIKE '% HR+ %'` cannot match inside another tag."""
    return f" {' '.join(tags)} " if tags else ""


def like_pattern(tag: str) -> str:
    return f"% {tag} %"
