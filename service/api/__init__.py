"""JSON API /api/v1 for clinics: bearer-token auth, enrollments, OpenAPI document."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from .views import bp, json_routing_error

    app.register_blueprint(bp)
    # Routing errors (unknown path, wrong method) never reach blueprint handlers; answer them in
    # JSON under /api/ and leave every other path to Flask's default page.
    app.register_error_handler(404, json_routing_error)
    app.register_error_handler(405, json_routing_error)
