"""The portal blueprint and what every portal view shares: the signed-in user, clinic scoping."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Blueprint, abort, current_app
from flask_login import UserMixin, current_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy.orm import Session

from ..clinics import scope
from ..models import Enrollment, StaffUser
from ..statuses import LIVE_ENROLLMENTS, EnrollmentStatus
from .errors import html_error_page
from .i18n import NAMES, current_locale, gettext, ngettext

bp = Blueprint("portal", __name__, url_prefix="/portal", template_folder="templates")
# A sign-in lasts 12 hours at most, however busy (issue 17): the cookie's own lifetime slides
# with use, so the moment of sign-in is kept in the signed session and checked on every request.
SIGNED_IN_AT = "signed_in_at"
SESSION_MAX_AGE = timedelta(hours=12)


def session_expired(signed_in_at, at: datetime) -> bool:
    """True when a session signed in at this Unix time (from the cookie) is over at `at`."""
    if not isinstance(signed_in_at, int):
        return True  # a cookie from before the limit, or a forged one: sign in again
    return not 0 <= at.timestamp() - signed_in_at < SESSION_MAX_AGE.total_seconds()


@bp.context_processor
def _portal_globals() -> dict:
    return {"_": gettext, "ngettext": ngettext, "portal_locale": current_locale(), "portal_languages": NAMES,
            "csrf_token": generate_csrf, "enrollment_status": EnrollmentStatus, "live_enrollments": LIVE_ENROLLMENTS}


@bp.errorhandler(404)
def _not_found(_exc):
    """Another clinic's or an unknown id: the same styled page as any unknown address."""
    return html_error_page(404)


class PortalUser(UserMixin):
    """The signed-in staff member, detached from any database session."""

    def __init__(self, row: StaffUser):
        self.id = row.id
        self.clinic_id = row.clinic_id
        self.email = row.email
        self.role = row.role
        self.session_token = row.session_token

    def get_id(self) -> str:
        # What Flask-Login keeps in the session cookie: the user loader accepts it only while the
        # account still has this token (sign-out and a password change replace it).
        return f"{self.id}:{self.session_token}"

    @property
    def actor(self) -> str:
        return f"staff:{self.email}"

    @property
    def is_admin(self) -> bool:
        return self.role == "clinic_admin"


def now() -> datetime:
    return current_app.extensions["clock"]()


def clinic_id() -> int:
    return current_user.clinic_id


def own_enrollment(sess: Session, enrollment_id: int, *, lock: bool = False) -> tuple[Enrollment, str]:
    """The caller's clinic's enrollment and its patient's number, or 404: another clinic's id is
    as good as unknown."""
    found = scope.own_enrollment(sess, clinic_id(), enrollment_id, lock=lock)
    if found is None:
        abort(404)
    return found
