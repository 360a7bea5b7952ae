"""The arguments of a TRIALS command: a ZIP code and a subtype. Pure, like the engine.

"TRIALS 94110 HR+", "trials 94110-1234 triple negative", "TRIALS her2+ 94110", "TRIALS MORE".
A number that is not a valid ZIP is kept as given, so the reply can say which ZIP was not found.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

HR, HER2, HER2_LOW, TNBC = "HR+", "HER2+", "HER2-low", "TNBC"

# Normalized (casefolded, spaces dropped) ways people write each subtype.
SUBTYPE_ALIASES = {
    HR: ("hr+", "hr", "hr+/her2", "hr+her2", "hr+/her2-", "er+", "er+/pr+", "pr+", "hormone+",
         "hormonepositive", "hrpositive", "luminal", "rh+", "re+"),
    HER2: ("her2+", "her2", "her-2+", "her2positive", "her2pos", "erbb2+"),
    # "HER2 low" must never read as HER2+ (the words are tried together before one by one).
    HER2_LOW: ("her2-low", "her2low", "her-2low", "her2bajo", "her2-bajo", "her2faible", "her2baixo"),
    TNBC: ("tnbc", "triplenegative", "triple-negative", "triplenegativo", "triplenegativa"),
}
_ALIAS = {alias: name for name, aliases in SUBTYPE_ALIASES.items() for alias in aliases}
_DIGITS = re.compile(r"^\d[\d-]*$")


@dataclass(frozen=True)
class TrialsCommand:
    zip: str | None = None
    subtype: str | None = None


def subtype_of(text: str) -> str | None:
    return _ALIAS.get(text.replace(" ", "").casefold())


def parse(args: tuple[str, ...]) -> TrialsCommand:
    """args: the normalized words after the command word (MORE is the engine's business)."""
    zip_code = None
    rest = []
    for word in args:
        if zip_code is None and _DIGITS.match(word):
            zip_code = word[:10]
        else:
            rest.append(word)
    subtype = subtype_of("".join(rest)) if rest else None
    if subtype is None:
        subtype = next((s for s in map(subtype_of, rest) if s), None)
    return TrialsCommand(zip=zip_code, subtype=subtype)
