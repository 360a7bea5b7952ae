"""Golden transcripts: whole conversations through the signed webhook, compared line by line.

Format (tests/golden/sms_*.txt): `>>> text` is what the person sends, `<<< ` starts each reply
message, `... ` continues a multi-line message, `@ +31m` moves the clock. Regenerate after a
deliberate content change with `UPDATE_GOLDEN=1 make test` and review the diff like code.
"""

from __future__ import annotations

import os
import pathlib
import re

import pytest

GOLDEN = pathlib.Path(__file__).parent / "golden"
FILES = sorted(GOLDEN.glob("sms_*.txt"))


def parse(path: pathlib.Path):
    steps = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith(">>> "):
            steps.append(("send", line[4:], []))
        elif line.startswith("@ +"):
            steps.append(("clock", line[3:], []))
        elif line.startswith("<<< "):
            steps[-1][2].append(line[4:])
        elif line.startswith("... "):
            steps[-1][2][-1] += "\n" + line[4:]
    return steps


def render(steps) -> str:
    out = []
    for kind, value, replies in steps:
        if kind == "clock":
            out.append(f"@ +{value}")
            continue
        out.append(f">>> {value}")
        for reply in replies:
            first, *rest = reply.split("\n")
            out.append(f"<<< {first}")
            out.extend(f"... {r}" for r in rest)
    return "\n".join(out) + "\n"


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_golden_transcript(path, twilio, clock):
    expected = parse(path)
    actual = []
    for kind, value, _ in expected:
        if kind == "clock":
            minutes = int(re.fullmatch(r"(\d+)m", value).group(1))
            clock.advance(minutes=minutes)
            actual.append((kind, value, []))
            continue
        reply = twilio.sms(value, from_="+14155550142")
        assert reply.status == 200
        actual.append((kind, value, reply.messages))
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_text(render(actual), encoding="utf-8")
    assert render(actual) == render(expected)


def test_there_are_transcripts_in_english_and_spanish():
    assert {p.stem for p in FILES} >= {"sms_en", "sms_es"}
