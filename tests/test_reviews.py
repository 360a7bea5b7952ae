"""Clinical approvals (service/reviews.py, service/content/review.py): bound to the words by hash,
exported and imported with their reviewer and date, seen by a running line without a restart."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa

from service import create_app
from service import db as dbmod
from service.config import ConfigError, load_settings
from service.content.review import (APPROVED, CHANGED, REQUESTED, UNREVIEWED, Decision, Words, status_of,
                                    text_hash)
from service.models import AuditLog, ContentReview
from service.reviews import ReviewError, record
from tests.conftest import PUBLIC, TOKEN
from tests.support.reviews import approve
from tests.support.twilio import TwilioEmulator

KEY = "topic.cdk46.what.text"
T0 = datetime(2026, 11, 2, 17, 0, tzinfo=timezone.utc)


def words(english: str, translation: str) -> Words:
    return Words("es", KEY, english, translation, True, text_hash(KEY, english, translation))


def test_an_approval_covers_exactly_the_english_and_the_translation_it_saw():
    seen = words("Pills that slow cancer.", "Pastillas que frenan el cáncer.")
    approval = Decision("es", KEY, seen.hash, APPROVED, "dr.ruiz@example.org", T0)
    assert status_of(seen, [approval]).status == APPROVED
    new_translation = words("Pills that slow cancer.", "Pastillas que detienen el cáncer.")
    new_english = words("Pills that slow the cancer.", "Pastillas que frenan el cáncer.")
    for changed in (new_translation, new_english):
        st = status_of(changed, [approval])
        assert st.status == CHANGED and st.reviewer == "dr.ruiz@example.org" and st.approved == approval
    assert status_of(seen, []).status == UNREVIEWED
    # A request for changes on these words stands until someone approves them again.
    request = Decision("es", KEY, seen.hash, REQUESTED, "dr.ruiz@example.org", T0, "say 'slow', not 'stop'")
    assert status_of(seen, [approval, request]).status == REQUESTED
    assert status_of(seen, [approval, request, approval]).status == APPROVED
    assert text_hash(KEY, "a", "b") != text_hash("topic.other.text", "a", "b")  # bound to the key too


def test_recording_checks_the_words_on_screen_and_audits(app, db):
    reviews = app.extensions["line"].reviews
    current = reviews.current[("es", KEY)]
    with app.app_context():
        with pytest.raises(ReviewError):  # the text changed while the reviewer was reading it
            with dbmod.transaction() as sess:
                record(sess, reviews, locale="es", key=KEY, decision=APPROVED, reviewer="r@x.org", now=T0,
                       seen_hash="0" * 64)
        with pytest.raises(ReviewError):  # a request for changes says what to change
            with dbmod.transaction() as sess:
                record(sess, reviews, locale="es", key=KEY, decision=REQUESTED, reviewer="r@x.org", now=T0)
        with dbmod.transaction() as sess:
            record(sess, reviews, locale="es", key=KEY, decision=APPROVED, reviewer="r@x.org", now=T0,
                   seen_hash=current.hash)
    reviews.invalidate()
    assert reviews.status("es", KEY).status == APPROVED
    row = db.one(sa.select(ContentReview))
    assert (row.hash, row.english, row.translation) == (current.hash, current.english, current.translation)
    audit = db.one(sa.select(AuditLog))
    assert audit.clinic_id is None and audit.action == "review_approved" and KEY in audit.detail


def test_a_changed_text_loses_its_approval_in_the_state_the_check_and_the_report(app, runner, tmp_path):
    reviews = app.extensions["line"].reviews
    approve(app, "es", [KEY, "string.help"])
    assert reviews.status("es", KEY).status == APPROVED
    # The translation is edited after the approval (a new .po): the same approval no longer matches.
    old = reviews.current[("es", KEY)]
    edited = words(old.english, old.translation + " Hable con su equipo.")
    reviews.current[("es", KEY)] = edited
    reviews.invalidate()
    assert reviews.status("es", KEY).status == CHANGED
    assert reviews.status("es", "string.help").status == APPROVED
    result = runner.invoke(args=["content", "check"])
    assert f"warning: es: {KEY}: changed since approval by reviewer@program.example on 2026-11-02" in result.output
    assert "string.help" not in result.output
    result = runner.invoke(args=["content", "report", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    csv = (tmp_path / "report.csv").read_text(encoding="utf-8")
    assert ",changed,reviewer@program.example,2026-11-02," in csv
    assert ",approved,reviewer@program.example,2026-11-02," in csv
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "UNREVIEWED_LOCALES" in html and "<strong>label</strong>" in html


def test_export_and_import_round_trip(app, runner, db, tmp_path, clock):
    approve(app, "es", [KEY, "string.help"], reviewer="dr.ruiz@example.org")
    approve(app, "en", reviewer="dr.lee@example.org")
    path = tmp_path / "reviews.json"
    result = runner.invoke(args=["content", "reviews", "export", str(path)])
    assert result.exit_code == 0, result.output
    entries = json.loads(path.read_text(encoding="utf-8"))
    reviews = app.extensions["line"].reviews
    assert len(entries) == len(reviews.current)  # one per (locale, text), English included
    by = {(e["locale"], e["key"]): e for e in entries}
    assert by[("es", KEY)] == {"locale": "es", "key": KEY, "hash": reviews.current[("es", KEY)].hash,
                               "status": "approved", "reviewer": "dr.ruiz@example.org",
                               "reviewed_at": "2026-11-02T17:00:00+00:00"}
    assert by[("es", "string.safety_crisis")]["status"] == "unreviewed" and by[("es", "string.safety_crisis")]["reviewer"] == ""
    assert sum(e["status"] == "approved" for e in entries) == 2 + len(reviews.catalog.content.texts)

    # Another database (here: the same one emptied) takes the file: approvals come back as they were.
    with db._sessionmaker() as sess, sess.begin():
        sess.execute(sa.delete(ContentReview))
    reviews.invalidate()
    assert reviews.status("es", KEY).status == UNREVIEWED
    # One entry's words changed since it was exported: reported, not recorded.
    by[("es", "string.help")]["hash"] = "f" * 64
    path.write_text(json.dumps(list(by.values())), encoding="utf-8")
    clock.advance(days=3)
    result = runner.invoke(args=["content", "reviews", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"recorded {1 + len(reviews.catalog.content.texts)} approvals, 0 already recorded, 1 stale")
    assert "stale: es string.help" in result.output
    st = reviews.status("es", KEY)
    assert (st.status, st.reviewer, st.reviewed_at) == (APPROVED, "dr.ruiz@example.org", T0)  # not the import's time
    assert reviews.status("es", "string.help").status == UNREVIEWED
    assert reviews.locale("en").reviewed_on.isoformat() == "2026-11-02"
    assert db.count(AuditLog) >= 1
    again = runner.invoke(args=["content", "reviews", "import", str(path)])
    assert "recorded 0 approvals, " in again.output and f"{1 + len(reviews.catalog.content.texts)} already recorded" in again.output
    # Exporting again gives the same file as before the round trip, apart from the stale entry.
    second = tmp_path / "again.json"
    runner.invoke(args=["content", "reviews", "export", str(second)])
    after = {(e["locale"], e["key"]): e for e in json.loads(second.read_text(encoding="utf-8"))}
    assert after[("es", KEY)] == by[("es", KEY)]
    assert after[("es", "string.help")]["status"] == "unreviewed"


def test_import_refuses_a_file_that_is_not_a_list(runner, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"locale": "es"}', encoding="utf-8")
    result = runner.invoke(args=["content", "reviews", "import", str(bad)])
    assert result.exit_code != 0 and "expected a JSON list" in result.output


def test_a_running_line_uses_approvals_made_elsewhere_without_a_restart(app, database_url, twilio):
    serving = create_app({"APP_ENV": "test", "TESTING": True, "DATABASE_URL": database_url, "PUBLIC_BASE_URL": PUBLIC,
                          "TWILIO_AUTH_TOKEN": TOKEN, "SECRET_KEY": "test-secret", "REVIEWS_REFRESH_SECONDS": 0})
    serving.extensions["clock"] = app.extensions["clock"]
    try:
        line = TwilioEmulator(client=serving.test_client(), token=TOKEN, base_url=PUBLIC)
        assert "Facts as of June 2026." in line.sms("hi", from_="+14155550111").messages[0]
        approve(app, "en")  # another process (here: the fixture's app) records the approvals
        assert "Info reviewed November 2026." in line.sms("hi", from_="+14155550112").messages[0]
    finally:
        serving.extensions["db_engine"].dispose()


def test_policy_setting_is_checked():
    assert load_settings({"UNREVIEWED_LOCALES": "off"}).UNREVIEWED_LOCALES == "off"
    assert load_settings({}).UNREVIEWED_LOCALES == "label"
    with pytest.raises(ConfigError, match="UNREVIEWED_LOCALES must be label or off"):
        load_settings({"UNREVIEWED_LOCALES": "hide"})


def test_healthz_shows_the_policy_and_each_locale(app, client):
    approve(app, "fr")
    body = client.get("/healthz").get_json()
    assert body["reviews"]["policy"] == "label"
    assert body["reviews"]["locales"]["fr"]["state"] == "reviewed" and body["reviews"]["locales"]["fr"]["offered"]
    assert body["reviews"]["locales"]["es"] == {"state": "not reviewed", "approved": 0, "changed": 0,
                                                "texts": len(app.extensions["line"].renderer.content.texts),
                                                "reviewed": None, "offered": True}
