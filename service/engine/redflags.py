"""Red-flag phrases get the safety reply at once, in any menu state.

Matched on whole words of the accent-folded, casefolded message, so "FIEBRE!" matches but
"effervescent" does not. Every enabled locale's terms are checked for everyone: a Spanish speaker
may not have chosen Spanish yet. Erring towards a safety reply costs one extra text; a miss could
cost a life. Scripts without spaces between words (Chinese) match anywhere in the message.
"""

from __future__ import annotations

import re
from functools import lru_cache

from .keywords import Lexicon, fold_accents, normalize


@lru_cache(maxsize=16)
def _pattern(lexicon: Lexicon) -> re.Pattern[str]:
    return lexicon.red_flag_pattern()


def find_red_flag(text: str, lexicon: Lexicon) -> str | None:
    """The first red-flag term in the message, or None."""
    folded = fold_accents(normalize(text)).replace("\u2019", "'")
    match = _pattern(lexicon).search(folded)
    return match.group(0) if match else None
