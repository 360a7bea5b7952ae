"""Red-flag phrases that get the safety reply at once, in any menu state.

Matched on whole words of the accent-folded, casefolded message, so "feverish" and "FIEBRE!"
match but "effervescent" does not. Erring towards a safety reply is the right failure: it costs
one extra text, a miss could cost a life. Terms come from medical.md section 4 (red-flag prompts)
plus crisis language (988).
"""

from __future__ import annotations

import re

from .keywords import fold_accents, normalize

RED_FLAGS: dict[str, tuple[str, ...]] = {
    "en": (
        "fever", "feverish", "temperature of", "chills",
        "can't breathe", "cant breathe", "cannot breathe", "can not breathe", "trouble breathing",
        "hard to breathe", "short of breath", "shortness of breath", "struggling to breathe",
        "chest pain", "chest hurts", "heart attack",
        "suicide", "suicidal", "kill myself", "want to die", "end my life", "hurt myself",
        "severe diarrhea", "bad diarrhea", "bleeding a lot", "coughing blood", "coughing up blood",
        "passed out", "fainted", "seizure", "overdose", "emergency",
    ),
    "es": (
        "fiebre", "calentura", "escalofrios",
        "no puedo respirar", "falta de aire", "me falta el aire", "me ahogo", "dificultad para respirar",
        "dolor de pecho", "dolor en el pecho", "ataque al corazon",
        "suicidio", "suicidarme", "matarme", "quiero morir", "quitarme la vida", "hacerme dano",
        "diarrea fuerte", "diarrea severa", "mucha diarrea", "sangrado fuerte", "tos con sangre",
        "me desmaye", "desmayo", "convulsion", "sobredosis", "emergencia",
    ),
}


def _compile(terms) -> re.Pattern[str]:
    alternation = "|".join(re.escape(fold_accents(t)) for t in sorted(set(terms), key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternation})(?!\w)")


# Every locale's terms are checked for everyone: a Spanish speaker may not have chosen Spanish yet.
_PATTERN = _compile(term for terms in RED_FLAGS.values() for term in terms)


def find_red_flag(text: str) -> str | None:
    """The first red-flag term in the message, or None."""
    folded = fold_accents(normalize(text)).replace("\u2019", "'")
    match = _PATTERN.search(folded)
    return match.group(0) if match else None
