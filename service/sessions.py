"""Flask's signed-cookie sessions, with the signing serializer built once per key set.

Flask builds an itsdangerous serializer on every request, even when no cookie came and none
will be set (every Twilio webhook); that showed up at about 4% of a webhook's time. The cache is
keyed on the secret key and its fallbacks, so rotating SECRET_KEY still takes effect at once.
"""

from __future__ import annotations

from flask import Flask
from flask.sessions import SecureCookieSessionInterface


class SessionInterface(SecureCookieSessionInterface):
    def __init__(self):
        self._serializers: dict = {}

    def get_signing_serializer(self, app: Flask):
        key = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        serializer = self._serializers.get(key)
        if serializer is None:
            serializer = super().get_signing_serializer(app)
            if len(self._serializers) > 8:  # keys only change by hand; stay bounded anyway
                self._serializers.clear()
            self._serializers[key] = serializer
        return serializer


def init_app(app: Flask) -> None:
    app.session_interface = SessionInterface()
