"""Staff accounts (portal) and API tokens, each belonging to one clinic.

Passwords: werkzeug's scrypt (memory-hard, maintained with Flask). Tokens: 256 bits from
`secrets`, stored only as SHA-256 (a token is random, so a fast hash is enough: there is
nothing to brute-force), shown once when created.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash
from zxcvbn import zxcvbn

from ..models import ApiToken, Clinic, LoginAttempt, StaffUser, new_session_token
from .enroll import audit

ROLES = ("clinic_admin", "staff", "reviewer")
REVIEWER = "reviewer"  # program-level clinical reviewer: no clinic, sees only the review pages
MIN_PASSWORD = 12
MAX_PASSWORD = 200  # the sign-in form's limit too (portal/forms.py): a longer one could never sign in
MIN_STRENGTH = 3  # zxcvbn score 0-4; 3: "safely unguessable", about 10^8 guesses or more
THROTTLE_WINDOW = timedelta(minutes=15)
THROTTLE_FAILURES = 5  # failed sign-ins per email and IP address within the window
# Also per email from any address (a guess spread over many addresses) and per address for any
# email (one address trying a password on many accounts). Higher, so that someone else's typos
# cannot lock a nurse out as easily as the pair limit would.
THROTTLE_ACCOUNT_FAILURES = 20
THROTTLE_IP_FAILURES = 20
# `clinics sweep` forgets failures older than this: far beyond the window, so a purge never
# lifts a lock early, and short enough that the table stays small.
LOGIN_ATTEMPTS_KEPT = timedelta(days=1)
# Compared against when the email is unknown, so a wrong email takes as long as a wrong password.
_DUMMY_HASH = generate_password_hash("not a real password, only for timing")


class AccountError(ValueError):
    pass


def hash_password(password: str) -> str:
    return generate_password_hash(password, method="scrypt")


def create_staff(sess: Session, clinic: Clinic | None, email: str, password: str, role: str = "staff",
                 now: datetime | None = None) -> StaffUser:
    email = email.strip().lower()
    if "@" not in email or len(email) > 254:
        raise AccountError("not an email address")
    check_password(password, [email, email.partition("@")[0], *([clinic.name] if clinic is not None else [])])
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    if (role == REVIEWER) != (clinic is None):
        raise AccountError("a reviewer belongs to no clinic; every other role to one clinic")
    if sess.scalar(sa.select(StaffUser.id).where(StaffUser.email == email)) is not None:
        raise AccountError(f"{email} already has an account")
    user = StaffUser(clinic_id=clinic.id if clinic is not None else None, email=email, password_hash=hash_password(password), role=role)
    if now is not None:
        user.created_at = now
    sess.add(user)
    sess.flush()
    return user


def throttled(sess: Session, email: str, ip: str, now: datetime) -> bool:
    """True when this email and address pair, this email, or this address failed too often lately."""
    a = LoginAttempt
    recent = sa.select(sa.func.count()).select_from(a).where(a.created_at > now - THROTTLE_WINDOW)
    pair, account, address = sess.execute(sa.select(
        recent.where(a.email == email, a.ip == ip).scalar_subquery(),
        recent.where(a.email == email).scalar_subquery(),
        recent.where(a.ip == ip).scalar_subquery())).one()
    return pair >= THROTTLE_FAILURES or account >= THROTTLE_ACCOUNT_FAILURES or address >= THROTTLE_IP_FAILURES


def authenticate(sess: Session, email: str, password: str, ip: str, now: datetime) -> StaffUser | None:
    """The staff user for these credentials, or None. Callers check `throttled` first."""
    email = email.strip().lower()
    user = sess.scalars(sa.select(StaffUser).where(StaffUser.email == email)).one_or_none()
    ok = check_password_hash(user.password_hash if user else _DUMMY_HASH, password)
    if user is None or not ok or not user.active:
        sess.add(LoginAttempt(email=email[:254], ip=ip[:64], created_at=now))
        return None
    user.last_login_at = now
    if not user.session_token:  # an account made by the release before session tokens
        user.session_token = new_session_token()
    sess.execute(sa.delete(LoginAttempt).where(LoginAttempt.email == email, LoginAttempt.ip == ip))
    return user


def end_sessions(user: StaffUser) -> None:
    """Sign this account out everywhere: every portal cookie issued so far stops working."""
    user.session_token = new_session_token()


def check_password(password: str, personal: list[str]) -> None:
    """Refuse a password that is short, longer than the sign-in form takes, or easy to guess:
    zxcvbn (Dropbox's estimator) must score it at least 3, counting the account's own email and
    clinic name as known words ("aaaaaaaaaaaa" scores 0, "Password123!" 1)."""
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"the password must have at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise AccountError(f"the password must have at most {MAX_PASSWORD} characters")
    verdict = zxcvbn(password, user_inputs=[p for p in personal if p], max_length=MAX_PASSWORD)
    if verdict["score"] < MIN_STRENGTH:
        hint = verdict["feedback"].get("warning") or "add another word or two; uncommon words are better"
        raise AccountError(f"the password is too easy to guess ({hint.rstrip('.')})")


def set_password(sess: Session, user: StaffUser, password: str) -> None:
    """A new password; every session signed in with the old one ends."""
    check_password(password, [user.email, user.email.partition("@")[0]])
    user.password_hash = hash_password(password)
    end_sessions(user)
    sess.flush()


def purge_login_attempts(sess: Session, now: datetime) -> int:
    """Forget failed sign-ins older than LOGIN_ATTEMPTS_KEPT (`clinics sweep`); how many."""
    result = sess.execute(sa.delete(LoginAttempt).where(LoginAttempt.created_at < now - LOGIN_ATTEMPTS_KEPT))
    return result.rowcount or 0


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(sess: Session, clinic: Clinic, name: str = "", now: datetime | None = None) -> tuple[ApiToken, str]:
    """A new bearer token for the clinic: (row, the token itself, which is not stored)."""
    token = "mbc_" + secrets.token_urlsafe(32)
    row = ApiToken(clinic_id=clinic.id, name=name[:80], token_hash=token_hash(token), prefix=token[:10])
    if now is not None:
        row.created_at = now
    sess.add(row)
    sess.flush()
    return row, token


def find_token(sess: Session, token: str) -> ApiToken | None:
    if not token or len(token) > 200:
        return None
    return sess.scalars(sa.select(ApiToken).where(ApiToken.token_hash == token_hash(token),
                                                  ApiToken.revoked_at.is_(None))).one_or_none()


def clinic_named(sess: Session, name: str) -> Clinic | None:
    return sess.scalars(sa.select(Clinic).where(Clinic.name == name)).one_or_none()


# --- Credentials lifecycle (issue 17): list, revoke, deactivate; the CLI and the portal's
# clinic-admin pages both go through these, each limited to one clinic when given one.


def tokens_of(sess: Session, clinic_id: int | None = None) -> list[tuple[ApiToken, str]]:
    """(token, clinic name), newest first; never the token itself (only its hash is stored)."""
    query = (sa.select(ApiToken, Clinic.name).join(Clinic, Clinic.id == ApiToken.clinic_id)
             .order_by(ApiToken.id.desc()))
    if clinic_id is not None:
        query = query.where(ApiToken.clinic_id == clinic_id)
    return [(row, name) for row, name in sess.execute(query).all()]


def revoke_token(sess: Session, token_id: int, now: datetime, actor: str, clinic_id: int | None = None) -> ApiToken | None:
    """Revoke one token (of this clinic, when given): from the next request on it is refused.
    None when there is no such token; revoking twice keeps the first time."""
    query = sa.select(ApiToken).where(ApiToken.id == token_id).with_for_update()
    if clinic_id is not None:
        query = query.where(ApiToken.clinic_id == clinic_id)
    row = sess.scalars(query).one_or_none()
    if row is not None and row.revoked_at is None:
        row.revoked_at = now
        audit(sess, row.clinic_id, actor, "revoke_token", now, detail=f"token {row.prefix}... ({row.name})")
    return row


def staff_of(sess: Session, clinic_id: int | None = None) -> list[tuple[StaffUser, str]]:
    query = (sa.select(StaffUser, Clinic.name).join(Clinic, Clinic.id == StaffUser.clinic_id)
             .order_by(Clinic.name, StaffUser.email))
    if clinic_id is not None:
        query = query.where(StaffUser.clinic_id == clinic_id)
    return [(row, name) for row, name in sess.execute(query).all()]


def set_active(sess: Session, user: StaffUser, active: bool, now: datetime, actor: str) -> bool:
    """Deactivate (no sign-in, and every session of the account ends at once) or activate again.
    False when it already was so."""
    if user.active == active:
        return False
    user.active = active
    if not active:
        end_sessions(user)
    audit(sess, user.clinic_id, actor, "activate_staff" if active else "deactivate_staff", now,
          detail=user.email)
    return True
