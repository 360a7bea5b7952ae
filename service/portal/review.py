"""Clinical review pages (/portal/review): progress per locale, one text side by side, approve or
request changes (issue 16).

Who: a program-level reviewer (role "reviewer", no clinic) decides; clinic staff may look but not
decide (403). A reviewer sees nothing else of the portal: every other portal page sends a reviewer
here, so no patient data is ever shown to one. Decisions are recorded by service/reviews.py, bound
to the hash of the words on screen, and written to the audit log.

Keyboard: on a text, A approves, C focuses the comment for "request changes", J / K go to the next
and previous text of the filtered list; after a decision the next text opens.
"""

from __future__ import annotations

import sqlalchemy as sa
from pathlib import Path

from flask import Response, abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, Length, Optional

from .. import db
from ..clinics.accounts import REVIEWER
from ..content.locales import KNOWN_LOCALES, RTL_LOCALES, SOURCE_LOCALE
from ..content.report import grade_of
from ..content.review import APPROVED, CHANGED, REQUESTED, STATUSES, UNREVIEWED
from ..content.segments import count
from ..models import ContentReview
from ..reviews import ReviewError, record
from .blueprint import bp, now
from .i18n import N_, _

REVIEW_JS = (Path(__file__).resolve().parent / "static" / "review.js").read_bytes()
ERRORS = {"changed": N_("The text changed since it was shown. Read it again before deciding."),
          "comment": N_("Say what should change.")}


class ReviewForm(FlaskForm):
    """Approve or request changes; `hash` is the hash of the words the reviewer saw."""

    hash = HiddenField(validators=[DataRequired(), Length(min=64, max=64)])
    action = StringField(validators=[DataRequired(), AnyOf(["approve", "request"])])  # the button pressed
    comment = TextAreaField(validators=[Optional(), Length(max=4000)])

STATUS_NAMES = {APPROVED: N_("Approved"), CHANGED: N_("Changed since approval"),
                REQUESTED: N_("Changes requested"), UNREVIEWED: N_("Never reviewed")}
# Portal endpoints a reviewer may open; every other one sends them to the review pages.
REVIEWER_ENDPOINTS = frozenset({"portal.review_index", "portal.review_text", "portal.review_decide", "portal.review_js",
                                "portal.login", "portal.logout", "portal.set_language"})


@bp.before_request
def _reviewers_see_only_reviews():
    if not request.endpoint or not request.endpoint.startswith("portal."):
        return None
    if current_user.is_authenticated and current_user.role == REVIEWER and request.endpoint not in REVIEWER_ENDPOINTS:
        if request.method == "GET":
            return redirect(url_for("portal.review_index"))
        abort(403)
    return None


def _reviews():
    return current_app.extensions["line"].reviews


def _section(key: str) -> str:
    """The filter group of a key: a topic id, "series", "voice" or "strings"."""
    parts = key.split(".")
    if parts[0] == "topic":
        return parts[1]
    if parts[0] == "series":
        return "series"
    if key.startswith("string.voice_"):
        return "voice"
    return "strings"


def where_used(key: str) -> str:
    """Where a patient meets this text, in the reviewer's words."""
    parts = key.split(".")
    if parts[0] == "topic":
        topic = parts[1]
        if len(parts) == 3:
            return _("Topic %(topic)s: its name in the main menu", topic=topic)
        kind = {"label": _("menu line"), "text": _("SMS text (also read on calls when it has no voice wording)"),
                "voice": _("voice wording on calls")}[parts[3]]
        return _("Topic %(topic)s, item %(item)s: %(kind)s", topic=topic, item=parts[2], kind=kind)
    if parts[0] == "series":
        return _("Clinic follow-up series (%(name)s)", name=".".join(parts[1:]))
    if key == "meta.reviewed_as_of":
        return _("Date in the welcome")
    name = parts[1]
    if name.startswith("safety"):
        return _("Safety reply to red-flag words (SMS and calls)")
    if name in ("help", "stop_confirm", "start_confirm"):
        return _("Reply to the keywords HELP, STOP, START")
    if name.startswith("voice_"):
        return _("Voice line prompt")
    if name.startswith("trials_"):
        return _("Clinical trials search")
    return _("SMS line: %(name)s", name=name)


def _wording(locale: str, key: str) -> tuple[str, str]:
    """(the SMS as sent, the words said on a call) for this text; "" where it is not used that way."""
    line = current_app.extensions["line"]
    voice = current_app.extensions.get("voice")
    renderer, content = line.renderer, line.renderer.content
    text = renderer.catalog.get(locale, key)
    parts = key.split(".")
    if parts[0] == "topic" and len(parts) == 4 and parts[3] in ("text", "voice"):
        topic = content.topic(parts[1])
        index = next(i for i, item in enumerate(topic.items) if item.id == parts[2])
        spoken = voice.renderer.item_text(locale, topic.id, index).text if voice else text
        return (renderer.item(locale, topic.id, index) if parts[3] == "text" else ""), spoken
    if key.startswith("string.voice_"):
        return "", text
    if key == "string.safety":
        return text, text
    return text, ""


def _texts(locale: str, status: str, section: str) -> list[str]:
    reviews = _reviews()
    snap = reviews.snapshot()
    keys = []
    for key in reviews.catalog.content.texts:
        if section and _section(key) != section:
            continue
        if status and snap.statuses[(locale, key)].status != status:
            continue
        keys.append(key)
    return keys


def _filters() -> tuple[str, str, str]:
    reviews = _reviews()
    locale = request.args.get("locale", "")
    locale = locale if locale in reviews.locales else next((x for x in reviews.locales if x != SOURCE_LOCALE),
                                                           SOURCE_LOCALE)
    status = request.args.get("status", "")
    status = status if status in STATUSES else ""
    section = request.args.get("topic", "")
    sections = _sections()
    return locale, status, section if section in sections else ""


def _sections() -> list[str]:
    content = _reviews().catalog.content
    return [t.id for t in content.topics] + ["series", "strings", "voice"]


@bp.get("/review.js")
@login_required
def review_js():
    """The review page's keyboard script (the portal's CSP allows scripts from this site only)."""
    return Response(REVIEW_JS, mimetype="text/javascript")  # the portal's headers: no-store, like every page


@bp.get("/review")
@login_required
def review_index():
    reviews = _reviews()
    locale, status, section = _filters()
    snap = reviews.snapshot()
    keys = _texts(locale, status, section)
    rows = [(key, snap.statuses[(locale, key)], reviews.catalog.get(locale, key)) for key in keys]
    return render_template("portal/review_index.html", reviews=reviews, snap=snap, locale=locale, status=status,
                           section=section, sections=_sections(), rows=rows, names=KNOWN_LOCALES,
                           status_names=STATUS_NAMES, rtl=RTL_LOCALES, can_decide=current_user.role == REVIEWER)


@bp.get("/review/<locale>/<path:key>")
@login_required
def review_text(locale: str, key: str):
    reviews = _reviews()
    if (locale, key) not in reviews.current:
        abort(404)
    _, status, section = _filters()
    words = reviews.current[(locale, key)]
    st = reviews.status(locale, key)
    sms, spoken = _wording(locale, key)
    source = reviews.catalog.content.texts[key]
    keys = _texts(locale, status, section)
    position = keys.index(key) if key in keys else -1
    following = keys[position + 1] if 0 <= position < len(keys) - 1 else None
    previous = keys[position - 1] if position > 0 else None
    with db.transaction() as sess:
        history = sess.scalars(sa.select(ContentReview).where(ContentReview.locale == locale, ContentReview.key == key)
                               .order_by(ContentReview.id.desc()).limit(20)).all()
        history = [(h.created_at, h.reviewer, h.decision, h.comment, h.hash == words.hash) for h in history]
    return render_template(
        "portal/review_text.html", locale=locale, key=key, words=words, st=st, sms=sms, spoken=spoken,
        sms_segments=count(sms) if sms else None, grade=grade_of(locale, words.translation), source=source,
        where=where_used(key), history=history, following=following, previous=previous, position=position,
        total=len(keys), status=status, section=section, names=KNOWN_LOCALES, status_names=STATUS_NAMES,
        rtl=locale in RTL_LOCALES, form=ReviewForm(hash=words.hash), can_decide=current_user.role == REVIEWER,
        error=ERRORS.get(request.args.get("error", "")))


@bp.post("/review/<locale>/<path:key>")
@login_required
def review_decide(locale: str, key: str):
    if current_user.role != REVIEWER:
        abort(403)  # clinic staff may read the review pages, never decide
    reviews = _reviews()
    if (locale, key) not in reviews.current:
        abort(404)
    form = ReviewForm()
    if not form.validate_on_submit():
        abort(400)
    _, status, section = _filters()
    decision = APPROVED if form.action.data == "approve" else REQUESTED
    keys_before = _texts(locale, status, section)
    try:
        with db.transaction() as sess:
            record(sess, reviews, locale=locale, key=key, decision=decision, reviewer=current_user.email,
                   now=now(), comment=form.comment.data or "", seen_hash=form.hash.data)
    except ReviewError:
        error = "comment" if decision == REQUESTED and not (form.comment.data or "").strip() else "changed"
        return redirect(url_for("portal.review_text", locale=locale, key=key, status=status, topic=section,
                                error=error))
    reviews.invalidate()
    # On to the next text of the list as it was shown (the decided one may leave a filtered list).
    position = keys_before.index(key) if key in keys_before else -1
    following = keys_before[position + 1] if 0 <= position < len(keys_before) - 1 else None
    if following is None:
        return redirect(url_for("portal.review_index", locale=locale, status=status, topic=section))
    return redirect(url_for("portal.review_text", locale=locale, key=following, status=status, topic=section))
