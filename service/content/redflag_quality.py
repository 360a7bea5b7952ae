"""How well the red-flag detector does on the committed corpora, per locale.

The corpora (tests/engine/redflag_corpus/<locale>.toml) hold phrasings written as patients write
them, per class, and ordinary texts that must not set off a safety reply. Recall counts a phrasing
found with its own class (an urgent one answered as an emergency also counts: the help is
stronger, not different); a false positive is an ordinary text that got any class. Used by the
corpus test (which fails below the thresholds) and by `content report`.
"""

from __future__ import annotations

import csv
import html
import io
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from ..engine.keywords import Lexicon
from ..engine.redflags import CLASSES, EMERGENCY, URGENT
from .lexicon import load_lexicon
from .locales import KNOWN_LOCALES

CORPUS_DIR = Path(__file__).resolve().parents[2] / "tests" / "engine" / "redflag_corpus"
MIN_RECALL = 0.95
MAX_FALSE_POSITIVES = 0.01


@dataclass
class LocaleQuality:
    locale: str
    positives: int = 0
    found: int = 0
    negatives: int = 0
    false_positives: int = 0
    misses: list[tuple[str, str, str | None]] = field(default_factory=list)  # (class, text, got)
    false_alarms: list[tuple[str, str]] = field(default_factory=list)  # (text, class)

    @property
    def recall(self) -> float:
        return self.found / self.positives if self.positives else 1.0

    @property
    def false_positive_rate(self) -> float:
        return self.false_positives / self.negatives if self.negatives else 0.0

    @property
    def passes(self) -> bool:
        return self.recall >= MIN_RECALL and self.false_positive_rate <= MAX_FALSE_POSITIVES


def accepted(expected: str, got: str | None) -> bool:
    return got == expected or (expected == URGENT and got == EMERGENCY)


def load_corpora(directory: Path = CORPUS_DIR) -> dict[str, dict]:
    corpora = {}
    for path in sorted(directory.glob("*.toml")):
        with path.open("rb") as fh:
            corpora[path.stem] = tomllib.load(fh)
    return corpora


def measure(lexicon: Lexicon, corpora: dict[str, dict] | None = None) -> list[LocaleQuality]:
    results = []
    for locale, corpus in (load_corpora() if corpora is None else corpora).items():
        quality = LocaleQuality(locale)
        for kind in CLASSES:
            for phrase in corpus.get(kind, ()):
                flag = lexicon.red_flag(phrase)
                got = flag.kind if flag else None
                quality.positives += 1
                if accepted(kind, got):
                    quality.found += 1
                else:
                    quality.misses.append((kind, phrase, got))
        for phrase in corpus.get("negative", ()):
            quality.negatives += 1
            flag = lexicon.red_flag(phrase)
            if flag:
                quality.false_positives += 1
                quality.false_alarms.append((phrase, f"{flag.kind}: {flag.term}"))
        results.append(quality)
    return results


def to_html(results: list[LocaleQuality]) -> str:
    """The report's section on red-flag detection: recall and false positives per locale."""
    e = html.escape
    rows = ["<h2 id='red-flags'>Red-flag detection</h2>",
            f"<p>Measured on the committed corpora (tests/engine/redflag_corpus/). Targets: recall at least "
            f"{MIN_RECALL:.0%}, false positives at most {MAX_FALSE_POSITIVES:.0%}, in every locale.</p>",
            "<table><tr><th>locale</th><th>red-flag phrasings found</th><th>recall</th>"
            "<th>ordinary texts flagged</th><th>false positives</th><th>misses</th></tr>"]
    for q in results:
        cls = "" if q.passes else " class='over'"
        misses = "; ".join(f"{kind}: {text}" for kind, text, _ in q.misses)
        rows.append(f"<tr{cls}><td>{e(q.locale)}</td><td>{q.found} / {q.positives}</td><td>{q.recall:.1%}</td>"
                    f"<td>{q.false_positives} / {q.negatives}</td><td>{q.false_positive_rate:.1%}</td>"
                    f"<td>{e(misses)}</td></tr>")
    rows.append("</table>")
    return "\n".join(rows)


def to_csv(results: list[LocaleQuality]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["locale", "positives", "found", "recall", "negatives", "false_positives", "false_positive_rate"])
    for q in results:
        writer.writerow([q.locale, q.positives, q.found, f"{q.recall:.4f}", q.negatives, q.false_positives,
                         f"{q.false_positive_rate:.4f}"])
    return out.getvalue()


def main() -> None:  # python -m service.content.redflag_quality: the figures and every miss
    for q in measure(load_lexicon(list(KNOWN_LOCALES))):
        print(f"{q.locale:8} recall {q.found}/{q.positives} = {q.recall:.1%}   false positives "
              f"{q.false_positives}/{q.negatives} = {q.false_positive_rate:.1%}   {'ok' if q.passes else 'FAIL'}")
        for kind, phrase, got in q.misses:
            print(f"    missed {kind}: {phrase!r} (got {got})")
        for phrase, got in q.false_alarms:
            print(f"    false alarm: {phrase!r} ({got})")


if __name__ == "__main__":
    main()
