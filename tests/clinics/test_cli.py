"""`clinics create`, `staff create`, `tokens create`, `clinics sweep`, `seed-demo` (SPEC.md)."""

from __future__ import annotations

import sqlalchemy as sa
from werkzeug.security import check_password_hash

from service.clinics.accounts import token_hash
from service.models import ApiToken, StaffUser

from tests.support.clinics import Api


def test_staff_create_reads_the_password_from_stdin(runner, db):
    runner.invoke(args=["clinics", "create", "Lakeside"])
    result = runner.invoke(args=["staff", "create", "--clinic", "Lakeside", "--email", "Nurse@Lakeside.example"],
                           input="a long enough password\n")
    assert result.exit_code == 0, result.output
    user = db.one(sa.select(StaffUser))
    assert user.email == "nurse@lakeside.example" and user.role == "staff"
    assert user.password_hash.startswith("scrypt:") and check_password_hash(user.password_hash, "a long enough password")
    assert "a long enough password" not in result.output


def test_staff_create_refuses_short_passwords_unknown_clinics_and_duplicates(runner, db):
    runner.invoke(args=["clinics", "create", "Lakeside"])
    short = runner.invoke(args=["staff", "create", "--clinic", "Lakeside", "--email", "a@b.example"], input="short\n")
    assert short.exit_code != 0 and "at least 12" in short.output
    unknown = runner.invoke(args=["staff", "create", "--clinic", "Nowhere", "--email", "a@b.example"], input="x" * 20 + "\n")
    assert unknown.exit_code != 0 and "no clinic named" in unknown.output
    args = ["staff", "create", "--clinic", "Lakeside", "--email", "a@b.example", "--role", "clinic_admin"]
    assert runner.invoke(args=args, input="violet kettle mountain 42\n").exit_code == 0
    again = runner.invoke(args=args, input="amber lantern orchard 7\n")
    assert again.exit_code != 0 and "already has an account" in again.output
    assert db.count(StaffUser) == 1


def test_tokens_create_prints_the_token_last_and_stores_its_hash(runner, db, app):
    runner.invoke(args=["clinics", "create", "Lakeside"])
    result = runner.invoke(args=["tokens", "create", "--clinic", "Lakeside"])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    assert token.startswith("mbc_") and len(token) > 40
    row = db.one(sa.select(ApiToken))
    assert row.token_hash == token_hash(token) and token not in row.token_hash
    assert Api(app.test_client(), token).get("/enrollments").status_code == 200


def test_seed_demo_gives_a_working_portal_login(runner, app):
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    assert "nurse@demo-clinic.example" in first.output and "demo-password-not-secret" in first.output
    assert runner.invoke(args=["seed-demo"]).exit_code == 0  # safe to run again
    from tests.support.clinics import Portal

    portal = Portal(app.test_client(), "nurse@demo-clinic.example")
    assert portal.login("demo-password-not-secret").status_code == 302


def test_clinics_sweep_expires_old_enrollments(runner, make_clinic, api_for, db, clock):
    api = api_for(make_clinic("North"))
    eid = api.enroll("+14155550123").get_json()["id"]
    clock.advance(days=8)
    result = runner.invoke(args=["clinics", "sweep"])
    assert result.exit_code == 0 and "1 expired" in result.output
    from tests.support.clinics import enrollment

    assert enrollment(db, eid).status == "expired"



def test_clinics_sweep_removes_calls_that_are_over(runner, twilio, db, clock):
    from service.models import CallSession, InboundMessage
    from tests.support.voice_caller import Call

    def call(phone: str) -> Call:
        c = Call(twilio, phone)
        c.start()
        c.press("1")  # English
        c.press("2")  # a topic: logged in inbound_messages
        return c

    def sweep() -> str:
        result = runner.invoke(args=["clinics", "sweep"])
        assert result.exit_code == 0, result.output
        return result.output

    over, lasting = call("+14155550123"), call("+14155550124")
    clock.advance(hours=23)
    lasting.press("1")  # still on the line 23 hours in: kept while heard from within a day
    clock.advance(hours=2)
    live = call("+14155550125")
    assert "1 finished calls removed" in sweep()
    assert sorted(db.all(sa.select(CallSession.call_sid))) == sorted([lasting.sid, live.sid])
    assert db.count(InboundMessage) == 4  # what the callers asked stays in the message log

    clock.advance(hours=22)  # `lasting` last heard from exactly a day ago
    assert "0 finished calls removed" in sweep()
    clock.advance(microseconds=1)
    assert "1 finished calls removed" in sweep()
    assert db.all(sa.select(CallSession.call_sid)) == [live.sid]
    assert "0 expired, 0 failed, 0 completed, 0 released, 0 finished calls removed" in sweep()
