"""Golden call transcripts: whole calls through the signed voice webhooks, compared line by line.

Format (tests/golden/voice_*.txt):
  === call +1...     a new call from that number
  >>> (call)         the call connects; `>>> 2` presses a key, `>>> "words"` says them,
                     `>>> (silence)` lets the <Gather> time out
  <<< [lang voice] text    each <Say> heard (`<<< [play] url` for a recording), `<<< (hangup)`
  === queued texts   the texts queued since the last such line ("press 9"); `... ` continues a line
The language menu lists only ENABLED below, so a new locale elsewhere does not churn these files.
Regenerate after a deliberate change with `UPDATE_GOLDEN=1 make test` and review the diff like code.
"""

from __future__ import annotations

import os
import pathlib

import pytest
import sqlalchemy as sa

from service import create_app
from service.content.locales import po_path
from service.models import OutboundMessage
from tests.conftest import PUBLIC, TOKEN, _empty_tables
from tests.support.twilio import TwilioEmulator
from tests.support.voice_caller import Call

GOLDEN = pathlib.Path(__file__).parents[1] / "golden"
FILES = sorted(GOLDEN.glob("voice_*.txt"))
ENABLED = [loc for loc in ("en", "es", "zh-Hans") if loc == "en" or po_path(loc).exists()]


@pytest.fixture
def golden_app(database_url, clock):
    app = create_app({"APP_ENV": "test", "TESTING": True, "DATABASE_URL": database_url, "PUBLIC_BASE_URL": PUBLIC,
                      "TWILIO_AUTH_TOKEN": TOKEN, "SECRET_KEY": "test-secret", "ENABLED_LOCALES": ENABLED})
    app.extensions["clock"] = clock
    yield app
    _empty_tables(app.extensions["db_engine"])
    app.extensions["db_engine"].dispose()


def parse(path: pathlib.Path) -> list[tuple[str, str]]:
    """The script: ("call", number), ("input", what), ("texts", "")."""
    steps = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("=== call "):
            steps.append(("call", line[9:].strip()))
        elif line.startswith("=== queued texts"):
            steps.append(("texts", ""))
        elif line.startswith(">>> "):
            steps.append(("input", line[4:]))
    return steps


def continued(prefix: str, text: str) -> list[str]:
    first, *rest = text.split("\n")
    return [f"{prefix}{first}", *(f"... {r}" for r in rest)]


def play(steps, twilio: TwilioEmulator, app) -> str:
    out: list[str] = []
    call: Call | None = None
    shown_texts = 0
    for kind, value in steps:
        if kind == "call":
            call = Call(twilio, value)
            out.append(f"=== call {value}")
            continue
        if kind == "texts":
            out.append("=== queued texts")
            with app.extensions["db_sessionmaker"]() as sess:
                rows = sess.scalars(sa.select(OutboundMessage).order_by(OutboundMessage.id)).all()
            for row in rows[shown_texts:]:
                out.extend(continued(f"<<< [{row.phone} {row.locale} {row.source}] ", row.body))
            shown_texts = len(rows)
            continue
        out.append(f">>> {value}")
        if value == "(call)":
            heard = call.start()
        elif value == "(silence)":
            heard = call.silence()
        elif value.startswith('"'):
            heard = call.say(value.strip('"'))
        else:
            heard = call.press(value)
        for h in heard:
            out.extend(continued(f"<<< [{h.language} {h.voice}] " if h.kind == "say" else "<<< [play] ", h.text))
        if call.ended:
            out.append("<<< (hangup)")
    return "\n".join(out) + "\n"


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_golden_call(path, golden_app):
    twilio = TwilioEmulator(client=golden_app.test_client(), token=TOKEN, base_url=PUBLIC)
    actual = play(parse(path), twilio, golden_app)
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_text(actual, encoding="utf-8")
    assert actual == path.read_text(encoding="utf-8")


def test_there_are_call_transcripts_in_english_spanish_and_mandarin():
    stems = {p.stem for p in FILES}
    assert {"voice_en", "voice_es"} <= stems
    if "zh-Hans" in ENABLED:
        assert "voice_zh-Hans" in stems
