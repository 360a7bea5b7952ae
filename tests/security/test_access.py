"""Portal and API authorisation, every route read from the url_map: anonymous requests, roles,
CSRF on every state-changing form, session fixation, sign-out and password changes ending every
session (copied cookies too), sign-in throttling (also behind a proxy: TRUSTED_PROXY_HOPS), purging
old sign-in failures, production cookies.

Cross-clinic access (another clinic's enrollment, task and patient ids, with its user and its
token: 404 and no change) is tests/clinics/test_clinic_scoping.py, whose
`test_every_route_is_covered` already fails for a new /portal or /api/v1 route nobody checked.
"""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
import sqlalchemy as sa

from service.clinics import accounts
from service.config import ConfigError, load_settings
from service.models import ApiToken, FollowUpTask, LoginAttempt
from tests.support.clinics import PASSWORD, Portal, csrf_token

from .conftest import routes

PHONE = "+14155550166"
# Reachable without signing in; everything else under /portal needs a user.
PORTAL_PUBLIC = {("/portal/login", "GET"), ("/portal/login", "POST"), ("/portal/lang/<locale>", "GET")}
API_PUBLIC = {("/api/v1/openapi.json", "GET")}
# Where a clinic admin may do more than staff: (rule, method) -> status for staff.
ADMIN_ONLY = {("/portal/audit", "GET"): 403, ("/portal/clinic", "GET"): 403, ("/portal/admin/staff", "GET"): 403,
              ("/portal/admin/tokens", "GET"): 403}


@pytest.fixture
def clinic(make_clinic, api_for, twilio, db):
    """A clinic with one active enrollment and one open task: (access, enrollment id, task id)."""
    access = make_clinic("North")
    enrollment_id = api_for(access).enroll(PHONE, categories=["chemo"]).get_json()["id"]
    twilio.sms("YES", from_=PHONE)
    twilio.sms("I have a fever", from_=PHONE)
    return access, enrollment_id, db.one(sa.select(FollowUpTask.id))


def concrete(rule: str, enrollment_id: int, task_id: int, staff_id: int = 1, token_id: int = 1) -> str:
    path = (rule.replace("<int:enrollment_id>", str(enrollment_id)).replace("<int:task_id>", str(task_id))
            .replace("<int:staff_id>", str(staff_id)).replace("<int:token_id>", str(token_id))
            .replace("<locale>", "es").replace("<path:key>", "string.help"))
    assert "<" not in path, f"give {rule} a sample value here"
    return path


# --- anonymous ---------------------------------------------------------------------------------


def test_anonymous_portal_requests_go_to_the_login_page(app, client, clinic, snapshot):
    _, enrollment_id, task_id = clinic
    before = snapshot()
    for rule, method in routes(app, "/portal"):
        if (rule, method) in PORTAL_PUBLIC:
            continue
        resp = client.open(concrete(rule, enrollment_id, task_id), method=method)
        assert resp.status_code == 302, (rule, method, resp.status_code)
        assert resp.headers["Location"].startswith("/portal/login"), (rule, method)
    assert snapshot() == before


BAD_AUTHORIZATION = {
    "none": None,
    "empty bearer": "Bearer ",
    "unknown token": "Bearer mbc_" + "x" * 43,
    "basic auth": "Basic dXNlcjpwYXNz",
    "token without scheme": "{token}",
    "revoked token": "Bearer {revoked}",
    "very long token": "Bearer " + "a" * 5000,
}


@pytest.mark.parametrize("case", sorted(BAD_AUTHORIZATION))
def test_api_without_a_valid_token_is_401_json(case, app, client, clinic, make_clinic, snapshot):
    access, enrollment_id, task_id = clinic
    revoked = make_clinic("Gone")
    with app.extensions["db_sessionmaker"]() as sess, sess.begin():
        sess.execute(sa.update(ApiToken).where(ApiToken.clinic_id == revoked.id)
                     .values(revoked_at=app.extensions["clock"]()))
    header = BAD_AUTHORIZATION[case]
    headers = {} if header is None else {"Authorization": header.format(token=access.token, revoked=revoked.token)}
    before = snapshot()
    for rule, method in routes(app, "/api/v1"):
        if (rule, method) in API_PUBLIC:
            continue
        resp = client.open(concrete(rule, enrollment_id, task_id), method=method, headers=headers,
                           json={"phone": "+14155550167", "locale": "en", "categories": ["chemo"],
                                 "patient_consented": True})
        assert resp.status_code == 401, (rule, method, resp.status_code)
        assert resp.get_json()["error"]["code"] == "unauthorized"
        assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    assert snapshot() == before


def test_a_token_in_the_query_string_is_not_accepted(client, clinic):
    access = clinic[0]
    assert client.get(f"/api/v1/enrollments?access_token={access.token}").status_code == 401


# --- roles ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["clinic_admin", "staff"])
def test_each_role_reaches_what_it_may_and_nothing_else(role, app, clinic, make_clinic, portal_for):
    _, enrollment_id, task_id = clinic
    # Same clinic: a second account with this role (make_clinic makes a clinic per call, so move it).
    other = make_clinic("Tmp", role=role)
    with app.extensions["db_sessionmaker"]() as sess, sess.begin():
        from service.models import StaffUser

        sess.execute(sa.update(StaffUser).where(StaffUser.email == other.email).values(clinic_id=clinic[0].id))
    portal = portal_for(other)
    for rule, method in routes(app, "/portal"):
        if method != "GET" or (rule, method) in PORTAL_PUBLIC:
            continue
        resp = portal.get(concrete(rule, enrollment_id, task_id))
        expected = ADMIN_ONLY.get((rule, method), 200) if role == "staff" else 200
        if resp.status_code == 302:  # /portal/ goes to the list
            resp = portal.get(resp.headers["Location"])
        assert resp.status_code == expected, (role, rule, resp.status_code)
    nav = portal.get("/portal/enrollments").get_data(as_text=True)
    assert ('href="/portal/audit"' in nav) is (role == "clinic_admin")


# --- CSRF ----------------------------------------------------------------------------------


def _csv():
    return (io.BytesIO(b"phone,language,categories\n+14155550168,en,bone\n"), "patients.csv")


# A valid form for each state-changing portal POST, without its csrf_token; the control run
# below proves each one would change something with the right token.
FORMS = {
    "/portal/enrollments/new": lambda: {"phone": "+14155550169", "locale": "en", "categories": "bone", "consent": "y"},
    "/portal/enrollments/import": lambda: {"consent": "y", "file": _csv()},
    "/portal/enrollments/<int:enrollment_id>/stop": dict,
    "/portal/tasks/<int:task_id>/close": dict,
    "/portal/clinic": lambda: {"timezone": "America/Chicago"},
    "/portal/logout": dict,
    "/portal/admin/staff/<int:staff_id>/deactivate": dict,
    "/portal/admin/staff/<int:staff_id>/activate": dict,
    "/portal/admin/tokens": lambda: {"name": "csrf control"},
    "/portal/admin/tokens/<int:token_id>/revoke": dict,
}
CREATED = {"/portal/admin/tokens"}  # answers 201 with the new token (shown once), not a redirect


def nurse_and_token(app, access) -> dict:
    """A second account and the API token of this clinic, for the staff and token routes."""
    from service.clinics.accounts import create_staff
    from service.models import Clinic

    with app.extensions["db_sessionmaker"]() as sess, sess.begin():
        nurse = create_staff(sess, sess.get(Clinic, access.id), "nurse@north.example", PASSWORD)
        token_id = sess.scalar(sa.select(ApiToken.id).where(ApiToken.clinic_id == access.id))
        return {"staff_id": nurse.id, "token_id": token_id}
WRONG_TOKENS = {"missing": None, "empty": "", "garbage": "IjEyMyI.garbage.token",
                "another session's": "other", "from before sign-in": "pre-login"}


def portal_posts(app) -> list[str]:
    # Review decisions are a reviewer's, not a clinic account's: their CSRF check is tested with a
    # reviewer in tests/portal/test_review_portal.py.
    return [rule for rule, method in routes(app, "/portal")
            if method == "POST" and rule != "/portal/login" and not rule.startswith("/portal/review/")]


def test_every_portal_post_has_a_form_here(app):
    assert sorted(portal_posts(app)) == sorted(FORMS)


@pytest.mark.parametrize("wrong", sorted(WRONG_TOKENS))
def test_portal_posts_without_the_right_csrf_token_change_nothing(wrong, app, clinic, portal_for, snapshot):
    access, enrollment_id, task_id = clinic
    ids = nurse_and_token(app, access)
    portal = Portal(app.test_client(), access.email)
    token = WRONG_TOKENS[wrong]
    if token == "pre-login":  # the session is replaced at sign-in, and its token with it
        token = csrf_token(portal.client.get("/portal/login").get_data(as_text=True))
    elif token == "other":
        token = csrf_token(portal_for(access).get("/portal/enrollments/new").get_data(as_text=True))
    assert portal.login().status_code == 302
    portal.get("/portal/enrollments")  # pages may sweep expired rows: before the snapshot
    before = snapshot()
    for rule in portal_posts(app):
        data = FORMS[rule]()
        if token is not None:
            data["csrf_token"] = token
        resp = portal.client.post(concrete(rule, enrollment_id, task_id, **ids), data=data,
                                  content_type="multipart/form-data")
        if rule == "/portal/logout":  # back to the login page, but still signed in
            assert resp.status_code == 302 and portal.get("/portal/enrollments").status_code == 200
        else:
            assert resp.status_code == 400, (rule, wrong, resp.status_code)
    assert snapshot() == before
    # Control: the same forms with this session's token do change something.
    for rule in portal_posts(app):
        if rule != "/portal/logout":
            good = {**FORMS[rule](), "csrf_token": csrf_token(portal.get("/portal/enrollments/new").get_data(as_text=True))}
            resp = portal.client.post(concrete(rule, enrollment_id, task_id, **ids), data=good,
                                      content_type="multipart/form-data")
            assert resp.status_code == (201 if rule in CREATED else 302), (rule, resp.status_code)
    assert snapshot() != before


def test_sign_in_without_the_csrf_token_is_refused(app, clinic):
    access = clinic[0]
    client = app.test_client()
    for token in (None, "", "garbage"):
        data = {"email": access.email, "password": PASSWORD}
        if token is not None:
            data["csrf_token"] = token
        assert client.post("/portal/login", data=data).status_code == 400
    assert client.get("/portal/enrollments").status_code == 302


# --- session -------------------------------------------------------------------------------


def test_session_cookie_changes_at_sign_in_and_is_cleared_at_sign_out(app, clinic):
    access = clinic[0]
    portal = Portal(app.test_client(), access.email)
    portal.client.get("/portal/login")
    before = portal.client.get_cookie("session").value
    assert portal.login().status_code == 302
    after = portal.client.get_cookie("session").value
    assert after != before
    # A planted pre-login cookie (session fixation) is not signed in by someone else's login.
    planted = app.test_client()
    planted.set_cookie("session", before)
    assert planted.get("/portal/enrollments").status_code == 302
    resp = portal.submit("/portal/enrollments", {}, action="/portal/logout")
    assert resp.status_code == 302
    cleared = [h for h in resp.headers.getlist("Set-Cookie") if h.startswith("session=")]
    assert cleared and ("Expires=Thu, 01 Jan 1970" in cleared[0] or "_user_id" not in cleared[0])
    assert portal.get("/portal/enrollments").status_code == 302


def _replay(app, cookie: str):
    """A request from another browser that holds a copy of `cookie` (same address and agent)."""
    other = app.test_client()
    other.set_cookie("session", cookie)
    return other.get("/portal/enrollments")


def test_a_copied_session_cookie_stops_working_at_sign_out(app, clinic):
    access = clinic[0]
    portal = Portal(app.test_client(), access.email)
    assert portal.login().status_code == 302
    copied = portal.client.get_cookie("session").value
    assert _replay(app, copied).status_code == 200  # a copy works while the session lasts
    second = Portal(app.test_client(), access.email)  # the same nurse on another computer
    assert second.login().status_code == 302
    assert portal.submit("/portal/enrollments", {}, action="/portal/logout").status_code == 302
    resp = _replay(app, copied)
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/portal/login")
    # Signing out ends every session of the account, not only this browser's.
    assert second.get("/portal/enrollments").status_code == 302
    assert portal.login().status_code == 302  # and signing in again works
    assert portal.get("/portal/enrollments").status_code == 200
    assert _replay(app, copied).status_code == 302


def test_a_failed_sign_out_ends_nothing(app, clinic):
    """Sign-out without its CSRF token (a forged cross-site POST) does not sign anyone out."""
    portal = Portal(app.test_client(), clinic[0].email)
    assert portal.login().status_code == 302
    copied = portal.client.get_cookie("session").value
    assert portal.client.post("/portal/logout", data={"csrf_token": "forged"}).status_code == 302
    assert _replay(app, copied).status_code == 200


def test_a_password_change_ends_every_session(app, clinic, runner):
    access = clinic[0]
    portal = Portal(app.test_client(), access.email)
    assert portal.login().status_code == 302
    copied = portal.client.get_cookie("session").value
    new_password = "a brand new long password"
    result = runner.invoke(args=["staff", "set-password", "--email", access.email.upper()], input=new_password + "\n")
    assert result.exit_code == 0, result.output
    assert portal.get("/portal/enrollments").status_code == 302
    assert _replay(app, copied).status_code == 302
    assert portal.login().status_code == 401  # the old password
    assert portal.login(new_password).status_code == 302
    assert portal.get("/portal/enrollments").status_code == 200
    short = runner.invoke(args=["staff", "set-password", "--email", access.email], input="too short\n")
    assert short.exit_code != 0 and "at least" in short.output
    assert portal.get("/portal/enrollments").status_code == 200  # a refused change ends nothing


def test_a_cookie_without_the_session_token_is_refused(app, clinic):
    """A cookie that names only the user id (as before session tokens, or forged with the secret
    key but without the token) signs nobody in."""
    portal = Portal(app.test_client(), clinic[0].email)
    assert portal.login().status_code == 302
    serializer = app.session_interface.get_signing_serializer(app)
    data = serializer.loads(portal.client.get_cookie("session").value)
    staff_id, _, token = data["_user_id"].partition(":")
    assert staff_id.isdigit() and len(token) >= 32
    for user_id in (staff_id, f"{staff_id}:", f"{staff_id}:{token[:-1]}", f"{int(staff_id) + 1}:{token}"):
        resp = _replay(app, serializer.dumps({**data, "_user_id": user_id}))
        assert resp.status_code == 302, user_id
    assert _replay(app, serializer.dumps(data)).status_code == 200


# --- sign-in throttling --------------------------------------------------------------------

IP = "10.0.0.1"


def _login(app, email: str, password: str, ip: str, forwarded_for: str | None = None) -> int:
    client = app.test_client()
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    page = client.get("/portal/login", environ_base={"REMOTE_ADDR": ip}, headers=headers)
    return client.post("/portal/login", environ_base={"REMOTE_ADDR": ip}, headers=headers, data={
        "email": email, "password": password, "csrf_token": csrf_token(page.get_data(as_text=True))}).status_code


def _failures(kind: str, email: str) -> list[tuple[str, str]]:
    if kind == "pair":
        return [(email, IP)] * accounts.THROTTLE_FAILURES
    if kind == "account":  # spread over addresses, each below the pair limit
        per = accounts.THROTTLE_FAILURES - 1
        n = accounts.THROTTLE_ACCOUNT_FAILURES
        return [(email, f"10.1.{i // per}.{i % per}") for i in range(n)]
    # "address": one address, a different (unknown) account each time
    return [(f"guess{i}@north.example", IP) for i in range(accounts.THROTTLE_IP_FAILURES)]


@pytest.mark.parametrize("kind,locked_ip,open_ip", [
    ("pair", IP, "10.9.9.9"),             # that account from that address; elsewhere still fine
    ("account", "10.9.9.9", None),        # that account from any address
    ("address", IP, "10.9.9.9"),          # any account from that address
])
def test_sign_in_locks_after_repeated_failures(kind, locked_ip, open_ip, app, clinic, clock):
    email = clinic[0].email
    for guess_email, ip in _failures(kind, email):
        assert _login(app, guess_email, "wrong password!", ip) == 401
    assert _login(app, email, PASSWORD, locked_ip) == 429  # the right password is refused too
    if open_ip:
        assert _login(app, email, PASSWORD, open_ip) == 302
    clock.advance(minutes=15, seconds=1)
    assert _login(app, email, PASSWORD, locked_ip) == 302


def test_one_below_each_limit_still_signs_in(app, clinic):
    email = clinic[0].email
    for _ in range(accounts.THROTTLE_FAILURES - 1):
        assert _login(app, email, "wrong password!", IP) == 401
    assert _login(app, email, PASSWORD, IP) == 302


# --- behind a reverse proxy (TRUSTED_PROXY_HOPS) --------------------------------------------

PROXY = "10.0.0.254"  # what the app sees as the peer behind Heroku's router or nginx


def _guesses(kind: str, email: str) -> list[str]:
    """The emails tried with a wrong password: `kind` "pair" (one account) or "address" (many)."""
    if kind == "pair":
        return [email] * accounts.THROTTLE_FAILURES
    return [f"guess{i}@north.example" for i in range(accounts.THROTTLE_IP_FAILURES)]


@pytest.mark.parametrize("kind", ["pair", "address"])
def test_behind_one_proxy_each_client_address_is_throttled_on_its_own(kind, proxied_app, clinic, db):
    """Every request comes from the proxy; with TRUSTED_PROXY_HOPS=1 the address the proxy
    appended to X-Forwarded-For counts, so one guesser does not lock out every nurse."""
    email = clinic[0].email
    guesser, nurse = "198.51.100.7", "203.0.113.9"
    for guess in _guesses(kind, email):
        assert _login(proxied_app, guess, "wrong password!", PROXY, forwarded_for=guesser) == 401
    assert _login(proxied_app, email, PASSWORD, PROXY, forwarded_for=guesser) == 429
    assert _login(proxied_app, email, PASSWORD, PROXY, forwarded_for=nurse) == 302
    # The guesser cannot pose as the nurse: what a client writes before the proxy's entry is ignored.
    assert _login(proxied_app, email, PASSWORD, PROXY, forwarded_for=f"{nurse}, {guesser}") == 429
    assert set(db.all(sa.select(LoginAttempt.ip))) == {guesser}


@pytest.mark.parametrize("kind", ["pair", "address"])
def test_without_trusted_proxies_a_forged_forwarded_for_does_not_escape_the_throttle(kind, app, clinic, db):
    """TRUSTED_PROXY_HOPS=0 (the default): X-Forwarded-For is the client's own say-so and is
    ignored; a new made-up address on every try is still the same address."""
    assert app.config["TRUSTED_PROXY_HOPS"] == 0
    email = clinic[0].email
    for i, guess in enumerate(_guesses(kind, email)):
        assert _login(app, guess, "wrong password!", IP, forwarded_for=f"198.51.100.{i + 1}") == 401
    assert _login(app, email, PASSWORD, IP, forwarded_for="203.0.113.9") == 429
    assert _login(app, email, PASSWORD, IP) == 429
    assert set(db.all(sa.select(LoginAttempt.ip))) == {IP}


def test_trusted_proxy_hops_setting(monkeypatch):
    monkeypatch.delenv("TRUSTED_PROXY_HOPS", raising=False)
    assert load_settings().TRUSTED_PROXY_HOPS == 0
    monkeypatch.setenv("TRUSTED_PROXY_HOPS", "1")
    assert load_settings().TRUSTED_PROXY_HOPS == 1
    for wrong in ("-1", "one", "9"):
        monkeypatch.setenv("TRUSTED_PROXY_HOPS", wrong)
        with pytest.raises(ConfigError, match="TRUSTED_PROXY_HOPS"):
            load_settings()


# --- housekeeping ----------------------------------------------------------------------------


def test_sweep_forgets_old_sign_in_failures_but_not_recent_ones(app, clinic, clock, runner, db):
    email = clinic[0].email
    for _ in range(accounts.THROTTLE_FAILURES):
        assert _login(app, email, "wrong password!", IP) == 401
    clock.advance(hours=23)
    assert _login(app, "guess@north.example", "wrong password!", "10.0.0.2") == 401
    clock.advance(hours=1, seconds=1)  # the first five are now more than a day old
    result = runner.invoke(args=["clinics", "sweep"])
    assert result.exit_code == 0, result.output
    assert f"{accounts.THROTTLE_FAILURES} old sign-in failures removed" in result.output
    assert db.all(sa.select(LoginAttempt.ip)) == ["10.0.0.2"]
    again = runner.invoke(args=["clinics", "sweep"])
    assert "0 old sign-in failures removed" in again.output


def test_purging_never_lifts_a_lock_early(app, clinic, clock):
    """The purge keeps far more than the throttle window: a sweep right after the failures
    (or any time within the window) leaves the lock in place."""
    assert accounts.LOGIN_ATTEMPTS_KEPT >= 2 * accounts.THROTTLE_WINDOW
    email = clinic[0].email
    for _ in range(accounts.THROTTLE_FAILURES):
        assert _login(app, email, "wrong password!", IP) == 401
    clock.advance(minutes=14)
    with app.app_context():
        from service import db as dbmod

        with dbmod.transaction() as sess:
            assert accounts.purge_login_attempts(sess, clock()) == 0
    assert _login(app, email, PASSWORD, IP) == 429


# --- production cookies --------------------------------------------------------------------


def test_production_session_cookie_is_secure_httponly_samesite(production_app):
    client = production_app.test_client()
    resp = client.get("/portal/login", base_url="https://line.example.org")
    cookie = next(h for h in resp.headers.getlist("Set-Cookie") if h.startswith("session="))
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
    assert {"secure", "httponly", "samesite"} <= attributes, cookie
    assert "SameSite=Lax" in cookie or "SameSite=Strict" in cookie
    assert production_app.config["REMEMBER_COOKIE_SECURE"] and production_app.config["REMEMBER_COOKIE_HTTPONLY"]
