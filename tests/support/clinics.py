"""Clinics for tests: clinics with staff and tokens, a signed-in portal client, an API client, and
what a test reads of an enrollment's queue. The fixtures `make_clinic`, `portal_for` and `api_for`
(tests/conftest.py) are built from these, for tests/clinics, tests/api, tests/portal and the rest."""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa

from service import db as service_db
from service.clinics.accounts import create_staff, create_token
from service.models import Clinic, Enrollment, EnrollmentMessage, OutboundMessage, Subscriber

PASSWORD = "correct horse battery staple"
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def csrf_token(html: str) -> str:
    match = CSRF.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1) or match.group(2)


@dataclass
class ClinicAccess:
    id: int
    name: str
    email: str
    token: str


def new_clinic(app, name: str, role: str = "clinic_admin", tz: str = "America/New_York") -> ClinicAccess:
    """A clinic named `name` with one staff account (`role`) and an API token."""
    with app.app_context():
        with service_db.transaction() as sess:
            clinic = Clinic(name=name, timezone=tz)
            sess.add(clinic)
            sess.flush()
            email = f"{role}@{name.lower().replace(' ', '-')}.example"
            create_staff(sess, clinic, email, PASSWORD, role)
            _, token = create_token(sess, clinic, "tests")
            return ClinicAccess(clinic.id, name, email, token)


class Portal:
    """A test client signed in as one staff member; posts forms with their CSRF token."""

    def __init__(self, client, email: str):
        self.client = client
        self.email = email

    def login(self, password: str = PASSWORD):
        page = self.client.get("/portal/login")
        return self.client.post("/portal/login", data={"email": self.email, "password": password,
                                                        "csrf_token": csrf_token(page.get_data(as_text=True))})

    def get(self, path: str, **kw):
        return self.client.get(path, **kw)

    def submit(self, form_path: str, data: dict, action: str | None = None, **kw):
        """GET the page that holds the form, then POST it with that page's CSRF token."""
        page = self.client.get(form_path)
        assert page.status_code == 200, (form_path, page.status_code)
        payload = {"csrf_token": csrf_token(page.get_data(as_text=True)), **data}
        return self.client.post(action or form_path, data=payload, **kw)


def signed_in(app, access: ClinicAccess) -> Portal:
    """A portal client signed in as the clinic's staff account."""
    portal = Portal(app.test_client(), access.email)
    resp = portal.login()
    assert resp.status_code == 302, resp.get_data(as_text=True)
    return portal


class Api:
    def __init__(self, client, token: str):
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"}

    def post(self, path: str, json=None, **kw):
        return self.client.post(f"/api/v1{path}", json=json, headers=self.headers, **kw)

    def get(self, path: str, **kw):
        return self.client.get(f"/api/v1{path}", headers=self.headers, **kw)

    def enroll(self, phone: str = "+14155550123", locale: str = "en", categories=("hormone",), *,
               sent: bool = True, **extra):
        """Enroll through the API. The confirmation is due at once, so by default it is marked sent
        as the worker would (a YES answers only a confirmation that reached the person); sent=False
        leaves it queued. A held confirmation (another clinic's is unanswered) stays held."""
        body = {"phone": phone, "locale": locale, "categories": list(categories), "patient_consented": True, **extra}
        resp = self.post("/enrollments", json=body)
        if sent and resp.status_code == 201:
            send_confirmations(self.client.application, resp.get_json()["id"])
        return resp


def queue_rows(db, phone: str | None = None, enrollment_id: int | None = None) -> list[tuple[str, OutboundMessage]]:
    """(step, queued row) for an enrollment or a number, in due order."""
    query = (sa.select(EnrollmentMessage.step, OutboundMessage)
             .join(OutboundMessage, OutboundMessage.id == EnrollmentMessage.message_id)
             .order_by(OutboundMessage.due_at, OutboundMessage.id))
    if enrollment_id is not None:
        query = query.where(EnrollmentMessage.enrollment_id == enrollment_id)
    if phone is not None:
        query = query.where(OutboundMessage.phone == phone)
    with db._sessionmaker() as sess, sess.begin():
        return [(step, row) for step, row in sess.execute(query).all()]


def enrollment(db, enrollment_id: int) -> Enrollment:
    return db.one(sa.select(Enrollment).where(Enrollment.id == enrollment_id))


def subscriber(db, phone: str) -> Subscriber:
    return db.one(sa.select(Subscriber).where(Subscriber.phone == phone))


def mark_sent(app, message_ids: list[int], when) -> None:
    """What the worker does after Twilio accepted a text (the worker is tested on its own)."""
    with app.app_context():
        with service_db.transaction() as sess:
            sess.execute(sa.update(OutboundMessage).where(OutboundMessage.id.in_(message_ids))
                         .values(status="sent", sent_at=when, twilio_sid=None))


def send_confirmations(app, enrollment_id: int | None = None) -> list[int]:
    """Mark queued confirmations sent (of one enrollment, or all), at the app clock's now: what
    the worker does with a confirmation, which is due at once. Returns the enrollment ids."""
    with app.app_context():
        with service_db.transaction() as sess:
            query = (sa.select(EnrollmentMessage.enrollment_id, OutboundMessage)
                     .join(OutboundMessage, OutboundMessage.id == EnrollmentMessage.message_id)
                     .where(EnrollmentMessage.step == "confirm", OutboundMessage.status == "queued"))
            if enrollment_id is not None:
                query = query.where(EnrollmentMessage.enrollment_id == enrollment_id)
            rows = sess.execute(query).all()
            when = app.extensions["clock"]()
            for _eid, row in rows:
                row.status, row.sent_at = "sent", when
            return [eid for eid, _row in rows]
