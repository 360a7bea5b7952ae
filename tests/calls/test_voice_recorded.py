"""Haitian Creole on calls: no Twilio voice, so recorded prompts with <Play>, or text only."""

from __future__ import annotations

import logging

import pytest

from service import create_app
from service.content.voice import VOICES, RecordedPrompts, Utterance
from tests.conftest import PUBLIC, TOKEN, _empty_tables
from tests.support.twilio import TwilioEmulator
from tests.support.voice_caller import Call, choose_language

LOCALE = "ht"


def make_app(database_url, clock, prompts_dir):
    app = create_app({"APP_ENV": "test", "TESTING": True, "DATABASE_URL": database_url, "PUBLIC_BASE_URL": PUBLIC,
                      "TWILIO_AUTH_TOKEN": TOKEN, "SECRET_KEY": "test-secret", "VOICE_PROMPTS_DIR": str(prompts_dir)})
    app.extensions["clock"] = clock
    return app


def script(app) -> list[str]:
    result = app.test_cli_runner().invoke(args=["voice", "script", LOCALE])
    assert result.exit_code == 0, result.output
    return [line.split("\t")[0] for line in result.output.splitlines() if not line.startswith("#")]


@pytest.fixture
def recorded(database_url, clock, tmp_path):
    """An app whose prompts folder holds every Haitian Creole recording the script lists."""
    assert LOCALE not in VOICES
    first = make_app(database_url, clock, tmp_path)
    names = script(first)
    first.extensions["db_engine"].dispose()
    folder = tmp_path / "ht"
    folder.mkdir()
    for name in names:
        (folder / name).write_bytes(b"ID3")  # content does not matter to the line
    app = make_app(database_url, clock, tmp_path)
    yield app, folder, names
    _empty_tables(app.extensions["db_engine"])
    app.extensions["db_engine"].dispose()


def test_recording_names_follow_the_documented_convention(tmp_path):
    prompts = RecordedPrompts(tmp_path, "https://line.example.org/static/voice")
    u = Utterance("string.voice_goodbye", "Mèsi paske ou rele M B C Guide. Orevwa.", "ht")
    name = prompts.file_name(u)
    assert name.startswith("string-voice_goodbye-") and name.endswith(".mp3") and len(name) == len("string-voice_goodbye-") + 12
    assert prompts.url(u) == f"https://line.example.org/static/voice/ht/{name}"
    changed = Utterance(u.key, u.text + " ", "ht")
    assert prompts.file_name(changed) != name  # new wording, new recording


def test_with_every_recording_haitian_creole_is_offered_and_played(recorded):
    app, folder, names = recorded
    voice = app.extensions["voice"]
    assert LOCALE in voice.offered
    twilio = TwilioEmulator(client=app.test_client(), token=TOKEN, base_url=PUBLIC)
    call = Call(twilio, "+13055550142")
    menu = call.start()
    while not any(h.kind == "play" for h in menu):  # Haitian Creole may be on a later page
        menu = call.press("9")
    option = [h for h in menu if h.kind == "play"]
    assert len(option) == 1 and option[0].text.startswith(f"{PUBLIC}/static/voice/ht/")
    call = Call(twilio, "+13055550142")  # a new call, to pick it
    call.start()
    heard = choose_language(call, voice.offered, LOCALE)
    assert heard and all(h.kind == "play" for h in heard)
    assert {h.text.rsplit("/", 1)[1] for h in heard} <= set(names)
    assert call.gather.get("input") == "dtmf"  # no speech recognition for Haitian Creole
    heard = call.press("2")
    assert all(h.kind == "play" for h in heard)
    assert call.press("#")[0].text.rsplit("/", 1)[1] in names and call.ended


def test_one_missing_recording_means_text_only(recorded, database_url, clock, tmp_path, caplog):
    app, folder, names = recorded
    (folder / names[-1]).unlink()
    with caplog.at_level(logging.WARNING):
        partial = make_app(database_url, clock, tmp_path)
    try:
        assert LOCALE not in partial.extensions["voice"].offered
        assert any("ht has 1 of its recorded prompts missing" in r.getMessage() for r in caplog.records)
        result = partial.test_cli_runner().invoke(args=["voice", "script", LOCALE, "--missing"])
        assert [line.split("\t")[0] for line in result.output.splitlines()[1:]] == [names[-1]]
    finally:
        partial.extensions["db_engine"].dispose()


def test_the_script_refuses_an_unknown_locale(app):
    result = app.test_cli_runner().invoke(args=["voice", "script", "xx"])
    assert result.exit_code != 0 and "not an enabled locale" in result.output
