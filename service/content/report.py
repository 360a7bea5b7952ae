"""The content report for clinical reviewers: one self-contained HTML page and a CSV.

Every text side by side in every locale, with SMS segments and encoding, reading grade, the
clinical review status of each text (approved, changed since approval, changes requested,
unreviewed: from the recorded approvals, service/reviews.py) with reviewer and date, and the source
each fact comes from; plus a per-locale summary (review progress, what a full menu tour costs in
segments) and the UNREVIEWED_LOCALES policy.
"""

from __future__ import annotations

import csv
import html
import io
from dataclasses import dataclass
from datetime import datetime, timezone

from .catalog import Catalog
from .checks import dale_chall, reading_grade
from .locales import KNOWN_LOCALES, RTL_LOCALES, SOURCE_LOCALE
from .review import UNREVIEWED
from .render import SmsRenderer
from .segments import count



@dataclass(frozen=True)
class Cell:
    key: str
    locale: str
    text: str
    encoding: str
    segments: int
    units: int
    grade: str
    translated: bool
    review: str = UNREVIEWED  # approved | changed | changes_requested | unreviewed
    reviewer: str = ""
    reviewed_at: str = ""  # YYYY-MM-DD


@dataclass(frozen=True)
class LocaleSummary:
    locale: str
    name: str
    status: str
    reviewer: str
    date: str
    texts: int
    translated: int
    tour_segments: int  # every main menu page, topic menu and item once
    largest: str  # "3 (hormone.what)"


def spanish_grade(text: str) -> str:
    import textstat

    textstat.set_lang("es")
    try:
        return f"FH {textstat.fernandez_huerta(text):.0f}"
    finally:
        textstat.set_lang("en_US")


def grade_of(locale: str, text: str) -> str:
    if locale == SOURCE_LOCALE:  # every English text, short ones included (issue 15)
        return f"FK {reading_grade(text):.1f} · DC {dale_chall(text):.1f}" if text.strip() else ""
    if len(text.split()) < 8:
        return ""
    if locale == "es":
        return spanish_grade(text)
    return ""


def sent_form(renderer: SmsRenderer, locale: str, key: str) -> str:
    """The SMS as a patient receives it, for an item text (with its footer); else the text."""
    parts = key.split(".")
    if len(parts) == 4 and parts[0] == "topic" and parts[3] == "text":
        topic = renderer.content.topic(parts[1])
        index = [i.id for i in topic.items].index(parts[2])
        return renderer.item(locale, topic.id, index)
    return _fill(renderer.catalog.get(locale, key))


_SAMPLES = {"contact": "help@mbcguide.example", "topic": "Hormone therapy", "date": "June 2026",
            # trials texts (service/trials): typical values, so the lengths shown are realistic
            "zip": "94110", "radius": "50", "subtype": "HR+", "days": "9", "count": "6", "miles": "12",
            "city": "San Francisco", "phone": "415-555-0101", "phase": "2", "facility": "a cancer center"}


class _Samples(dict):
    def __missing__(self, name: str) -> str:
        return "{" + name + "}"  # a placeholder without a sample shows as itself


def _fill(text: str) -> str:
    """The text with sample values in its placeholders (any name, even one called "key")."""
    try:
        return text.format_map(_Samples(_SAMPLES))
    except (ValueError, IndexError, AttributeError):
        return text


def build(catalog: Catalog, renderer: SmsRenderer, locales: list[str], reviews=None):
    """reviews: a service.reviews.ReviewState covering these locales (None: nothing approved)."""
    cells: list[Cell] = []
    for key in catalog.content.texts:
        for locale in locales:
            text = _fill(catalog.get(locale, key))
            seg = count(sent_form(renderer, locale, key))
            st = reviews.status(locale, key) if reviews is not None else None
            cells.append(Cell(key, locale, text, seg.encoding, seg.segments, seg.units,
                              grade_of(locale, text), catalog.translated(locale, key),
                              st.status if st else UNREVIEWED, st.reviewer if st else "",
                              st.reviewed_at.date().isoformat() if st and st.reviewed_at else ""))
    summaries = []
    for locale in locales:
        tour = [(where, count(text).segments) for where, _kind, text in renderer.tour_texts(locale)]
        biggest = max(tour, key=lambda t: t[1])
        mine = [c for c in cells if c.locale == locale]
        state = reviews.locale(locale) if reviews is not None else None
        approved = sum(c.review == "approved" for c in mine)
        changed = sum(c.review == "changed" for c in mine)
        status = state.label if state else "not reviewed"
        if locale != SOURCE_LOCALE and status != "reviewed":
            status += " (machine translation)"
        status += f": {approved}/{len(mine)} approved" + (f", {changed} changed since approval" if changed else "")
        if reviews is not None and not reviews.offered(locale):
            status += "; not offered (UNREVIEWED_LOCALES=off)"
        reviewers = sorted({c.reviewer for c in mine if c.reviewer and c.review == "approved"})
        summaries.append(LocaleSummary(locale, KNOWN_LOCALES[locale], status, ", ".join(reviewers),
                                       state.reviewed_on.isoformat() if state and state.reviewed_on else "",
                                       len(mine), sum(c.translated for c in mine),
                                       sum(s for _, s in tour), f"{biggest[1]} ({biggest[0]})"))
    return cells, summaries


def to_csv(cells: list[Cell], catalog: Catalog) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["key", "locale", "text", "encoding", "segments", "units", "grade", "translated",
                     "review_status", "reviewer", "reviewed_at", "sources"])
    for c in cells:
        writer.writerow([c.key, c.locale, c.text, c.encoding, c.segments, c.units, c.grade,
                         "yes" if c.translated else "no", c.review, c.reviewer, c.reviewed_at,
                         "; ".join(catalog.content.texts[c.key].sources)])
    return out.getvalue()


CSS = """
body{font:15px/1.45 system-ui,sans-serif;margin:1.5rem;color:#1a1a1a}
h1{font-size:1.4rem}h2{font-size:1.15rem;margin-top:2rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0}
th,td{border:1px solid #ccd;padding:.35rem .5rem;vertical-align:top;text-align:left}
th{background:#eef1f7;position:sticky;top:0}
td.text{white-space:pre-wrap;min-width:14rem}
.meta{color:#555;font-size:.8rem;display:block;margin-top:.25rem}
.over{background:#fde2e2}.missing{background:#fff4cc}
.machine{color:#8a4b00;font-weight:600}
.r-approved{border-left:4px solid #2f855a}.r-changed{border-left:4px solid #c05621}
.r-changes_requested{border-left:4px solid #c53030}.r-unreviewed{border-left:4px solid #a0aec0}
code{font-size:.85rem}
"""


def to_html(cells: list[Cell], summaries: list[LocaleSummary], catalog: Catalog, locales: list[str],
            reviewed_as_of: str, policy: str = "label", sections: tuple[str, ...] = ()) -> str:
    """`sections`: more HTML sections (already escaped) placed after the locale summary."""
    e = html.escape
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    rows = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>MBC Guide content report</title><style>{CSS}</style></head><body>",
        "<h1>MBC Guide content report</h1>",
        f"<p>Generated {e(now)}. Facts as of {e(reviewed_as_of)}. Facts come from "
        "<code>shared/reference/medical.md</code>; each row names its section. Segments are counted "
        "for the SMS as sent (item texts include their navigation footer). Budgets: menus 2 segments, "
        "other texts 3. Grades: FK = Flesch-Kincaid grade (English: every text 8 or below, median 6 "
        "or below); DC = Dale-Chall score (English; it counts long, uncommon words: 5.0-5.9 is "
        "about grades 5-6, 6.0-6.9 grades 7-8); "
        "FH = Fernández-Huerta (Spanish, 70-80 is about 6th grade).</p>",
        "<p class='machine'>A translation is a machine translation until a bilingual clinician has "
        "approved every text in the portal (/portal/review). Each approval is bound to the English and "
        "the translation it saw: a later change shows as \"changed since approval\".</p>",
        f"<p id='policy'>Policy for locales not fully reviewed (UNREVIEWED_LOCALES): <strong>{e(policy)}</strong> "
        + ("(offered, with the machine-translation notice)" if policy == "label"
           else "(offered by SMS and voice only when every text is approved)") + ".</p>",
        "<h2 id='summary'>Locales</h2><table><tr><th>locale</th><th>language</th><th>review status</th>"
        "<th>reviewer</th><th>date</th><th>texts translated</th><th>segments for a full menu tour</th>"
        "<th>largest text (segments)</th></tr>",
    ]
    for s in summaries:
        cls = " class='machine'" if "machine" in s.status else ""
        rows.append(f"<tr><td>{e(s.locale)}</td><td>{e(s.name)}</td><td{cls}>{e(s.status)}</td><td>{e(s.reviewer)}</td>"
                    f"<td>{e(s.date)}</td><td>{s.translated} / {s.texts}</td><td>{s.tour_segments}</td><td>{e(s.largest)}</td></tr>")
    rows.append("</table>")
    rows.extend(sections)
    rows.append("<h2 id='texts'>Every text</h2><table><tr><th>key</th><th>source</th>")
    rows.extend(f"<th>{e(loc)}</th>" for loc in locales)
    rows.append("</tr>")
    by_key: dict[str, dict[str, Cell]] = {}
    for c in cells:
        by_key.setdefault(c.key, {})[c.locale] = c
    for key, per_locale in by_key.items():
        source = catalog.content.texts[key]
        budget = 2 if source.kind == "menu" else 3
        rows.append(f"<tr><td><code>{e(key)}</code></td><td>{e('; '.join(source.sources))}</td>")
        for loc in locales:
            c = per_locale[loc]
            cls = "text" + (" over" if c.segments > budget else "") + ("" if c.translated else " missing")
            direction = " dir='rtl'" if loc in RTL_LOCALES else ""
            meta = f"{c.segments} seg · {c.encoding} · {c.units} units" + (f" · {c.grade}" if c.grade else "")
            meta += f" · {c.review.replace('_', ' ')}" + (f" by {c.reviewer} {c.reviewed_at}" if c.reviewer else "")
            cls += f" r-{c.review}"
            if not c.translated:
                meta += " · NOT TRANSLATED (English shown)"
            rows.append(f"<td class='{cls}' lang='{e(loc)}'{direction}>{e(c.text)}"
                        f"<span class='meta' dir='ltr'>{e(meta)}</span></td>")
        rows.append("</tr>")
    rows.append("</table></body></html>")
    return "\n".join(rows)
