"""Every clinic follow-up text as it can go out, for `content check` and the tests."""

from __future__ import annotations

from ..content.catalog import Catalog
from .schedule import CLINIC_NAME_MAX, catchup_text
from .series import load_series

# The longest values the placeholders take: a clinic name at its cap, two-digit counts.
LONGEST = {"clinic": "W" * CLINIC_NAME_MAX, "count": "26", "weeks": "4"}


def series_check_texts(catalog: Catalog, locale: str):
    """(label, kind, text) for every series text in a locale."""
    series = load_series()
    for key in catalog.content.texts:
        if key.startswith("series.") and key != "series.catchup":
            yield key, "text", catalog.get(locale, key, **LONGEST)
    # The catch-up names as many treatments as fit: check it with all of them.
    yield "series.catchup", "text", catchup_text(catalog, locale, list(series.categories))
