"""Pages outside the portal and the API: the development start page at `/` and the styled
"page not found" for browsers (the API answers its own 404s in JSON)."""

from __future__ import annotations

from flask import Blueprint, Flask, current_app, render_template, request
from werkzeug.exceptions import HTTPException

from .portal.errors import html_error_page

bp = Blueprint("pages", __name__, template_folder="templates")
DOCS = ("clinics.md", "voice.md", "trials.md", "outbound.md", "operations.md")


@bp.get("/")
def home():
    if not current_app.config.get("SIMULATOR_ENABLED"):
        return html_error_page(404)  # production: nothing to show at the root
    return render_template("home.html", docs=DOCS, base=current_app.config["PUBLIC_BASE_URL"])


def html_error(exc: HTTPException):
    """A 404 or 405 outside /api/ (routing errors never reach a blueprint's own handler)."""
    if request.path.startswith("/twilio/"):
        return exc  # Twilio reads nothing from it
    return html_error_page(exc.code or 404)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
