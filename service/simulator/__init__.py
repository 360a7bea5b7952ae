"""The browser phone at /simulator: text and call the line without a Twilio account.

Every action goes through the real webhooks with requests signed by the app's own Twilio token
(service/simulator/twilio_like.py plays Twilio's part), so what the page shows is what Twilio
would say and send. On by default outside production (SIMULATOR_ENABLED).
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    if not app.config.get("SIMULATOR_ENABLED"):
        return
    from .views import bp

    app.register_blueprint(bp)
