"""Reading a clinic's CSV of patients the way a nurse writes it.

Headers in any case, in English or Spanish ("Phone", "Teléfono"); comma or semicolon separated
(what Excel writes in much of Europe and Latin America); a UTF-8 byte-order mark; languages and
treatments by code or by name in English or Spanish ("es", "Spanish", "Español"; "chemo",
"Chemotherapy", "Quimioterapia"). Columns the import does not know are named back to the nurse,
never dropped silently.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field

from babel import Locale, UnknownLocaleError

from ..content.catalog import Catalog
from ..content.locales import KNOWN_LOCALES

REQUIRED = ("phone", "language", "categories")
OPTIONAL = ("start_date", "timezone", "label")
MAX_ROWS = 1000
HEADER_ALIASES = {
    "phone": ("phone", "phone number", "mobile", "mobile phone", "cell", "telefono", "numero", "celular", "movil"),
    "language": ("language", "lang", "locale", "idioma", "lengua"),
    "categories": ("categories", "category", "treatments", "treatment", "tratamientos", "tratamiento"),
    "start_date": ("start_date", "start date", "treatment start", "fecha de inicio", "inicio", "fecha"),
    "timezone": ("timezone", "time zone", "zona horaria"),
    "label": ("label", "patient label", "patient", "etiqueta", "paciente", "mrn", "record"),
}
# Names a nurse may write for a treatment besides its code and its English and Spanish labels.
CATEGORY_SYNONYMS = {
    "chemo": ("chemotherapy", "quimioterapia"),
    "hormone": ("hormonal", "hormone therapy", "endocrine therapy", "hormonoterapia"),
    "cdk46": ("cdk4/6", "cdk 4/6", "cdk4/6 inhibitor"),
    "her2": ("anti-her2", "her2 therapy"),
    "adc": ("adc", "antibody drug conjugate"),
    "immuno": ("immunotherapy", "inmunoterapia"),
    "targeted": ("targeted therapy", "targeted pills", "terapia dirigida"),
    "bone": ("bone care", "symptom care", "huesos"),
}
_SPLIT = re.compile(r"\s*[;,|+]\s*")


def key(text: str) -> str:
    """Case, accents, spaces and dashes do not matter: 'Español ' == 'espanol'."""
    text = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[\s_\-]+", " ", text.casefold()).strip()


def _header_map() -> dict[str, str]:
    return {key(alias): column for column, aliases in HEADER_ALIASES.items() for alias in aliases}


def language_names(locales: list[str]) -> dict[str, str]:
    """Every name a language goes by -> its code; a name two languages share (Chinese) is left out."""
    names: dict[str, set[str]] = {}
    for code in locales:
        spellings = {code, code.replace("-", "_"), KNOWN_LOCALES.get(code, "")}
        try:
            loc = Locale.parse(code.replace("-", "_"))
        except (UnknownLocaleError, ValueError):
            loc = None
        if loc is not None:
            for lang in ("en", "es"):
                spellings.add(loc.get_display_name(lang) or "")
                spellings.add(loc.get_language_name(lang) or "")
        for name in spellings:
            if name:
                names.setdefault(key(name), set()).add(code)
    return {name: next(iter(codes)) for name, codes in names.items() if len(codes) == 1}


def category_names(catalog: Catalog, categories: list[str]) -> dict[str, str]:
    names = {}
    for code in categories:
        spellings = [code, *CATEGORY_SYNONYMS.get(code, ())]
        label_key = f"topic.{code}.label"
        if label_key in catalog.content.texts:
            spellings += [catalog.get("en", label_key), catalog.get("es", label_key)]
        for name in spellings:
            names[key(name)] = code
    return names


def to_categories(raw: str, names: dict[str, str]) -> list[str]:
    """'Chemotherapy; Hormone therapy' or 'chemo hormone' -> codes. An unknown name is kept as
    written, so the enrollment check names it."""
    out: list[str] = []
    for piece in filter(None, _SPLIT.split(raw.strip())):
        if key(piece) in names:
            out.append(names[key(piece)])
        else:  # several codes separated by spaces, or one unknown word
            out.extend(names.get(key(word), word) for word in piece.split())
    return out


EXTRA = "\x00extra"  # a key no header can have: the row has more fields than the header


@dataclass
class ParsedFile:
    rows: list[dict[str, str]] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # headers the import does not know, as written
    error: str | None = None  # not_utf8 | missing_columns | empty | too_many | unreadable
    error_line: int | None = None  # for "unreadable": the line csv could not read


def read(data: bytes) -> ParsedFile:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return ParsedFile(error="not_utf8")
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    start = 1  # the line the record being read starts on
    try:
        header = next(reader, [])
        aliases = _header_map()
        columns = [aliases.get(key(h)) for h in header]
        ignored = [h.strip() for h, col in zip(header, columns) if col is None and h.strip()]
        if any(c not in columns for c in REQUIRED):
            return ParsedFile(ignored=ignored, error="missing_columns")
        rows = []
        while len(rows) <= MAX_ROWS:
            start = reader.line_num + 1
            values = next(reader, None)
            if values is None:
                break
            row = {col: (value or "").strip() for col, value in zip(columns, values) if col is not None}
            # More fields than the header: a report row, unless the extras are blank (a trailing comma).
            extra = any((v or "").strip() for v in values[len(header):])
            if any(row.values()) or extra:
                row["line"] = str(reader.line_num)  # the file's own line, as a spreadsheet numbers it
                if extra:
                    row[EXTRA] = "1"
                rows.append(row)
    except csv.Error:  # a field over csv's 128 KB limit, a stray quote: say where, echo nothing
        return ParsedFile(error="unreadable", error_line=start)
    if not rows:
        return ParsedFile(ignored=ignored, error="empty")
    if len(rows) > MAX_ROWS:
        return ParsedFile(ignored=ignored, error="too_many")
    return ParsedFile(rows=rows, ignored=ignored)


TEMPLATE = (
    "phone,language,categories,start_date,timezone,label\r\n"
    "+14155550123,es,chemo,,,A.R.\r\n"
    "(212) 555-0101,English,Hormone therapy; CDK4/6 inhibitors,,America/New_York,MRN 1042\r\n"
)
