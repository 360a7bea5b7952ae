"""Which catalog strings make up a safety reply (medical.md section 6), for SMS and voice alike."""

from __future__ import annotations

# 988 (Suicide and Crisis Lifeline) answers texts in English and Spanish only; elsewhere a person
# is told to call and ask for an interpreter.
TEXT_988_LOCALES = frozenset({"en", "es"})
# Who will see the message: a clinic that confirmed the person gets a task; otherwise nobody.
SAFETY_NOTES = {"clinic": "safety_clinic", "nobody": "safety_nobody"}
CLASSES = ("emergency", "crisis", "urgent")


def safety_strings(locale: str, kind: str, seen_by: str) -> tuple[str, str]:
    """(the class's string name, the note's string name) in messages/strings.toml."""
    name = "safety_crisis_call" if kind == "crisis" and locale not in TEXT_988_LOCALES else f"safety_{kind}"
    return name, SAFETY_NOTES[seen_by]
