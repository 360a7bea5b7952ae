"""Outbound SMS: the sender interface and its implementations, delivery statuses, the sending
window and the shared rate limit. The worker (service/worker.py) puts them together."""

from __future__ import annotations

from flask import Flask

from .base import PERMANENT, RETRY, UNKNOWN, Found, SendError, Sent, SmsSender

__all__ = ["PERMANENT", "RETRY", "UNKNOWN", "Found", "SendError", "Sent", "SmsSender", "sender_for"]


def sender_for(app: Flask) -> SmsSender:
    """The app's sender, chosen by SMS_BACKEND and built once (tests may put their own in
    app.extensions["sms_sender"] first)."""
    sender = app.extensions.get("sms_sender")
    if sender is not None:
        return sender
    backend = app.config["SMS_BACKEND"]
    if backend == "twilio":
        from .twilio_sender import TwilioSender

        sender = TwilioSender(
            app.config["TWILIO_ACCOUNT_SID"], app.config["TWILIO_AUTH_TOKEN"],
            from_number=app.config["TWILIO_FROM_NUMBER"],
            messaging_service_sid=app.config["TWILIO_MESSAGING_SERVICE_SID"],
            base_url=app.config["TWILIO_API_BASE_URL"], timeout=app.config["SEND_TIMEOUT_SECONDS"],
        )
    elif backend == "fake":
        from .fake import FakeSender

        sender = FakeSender(clock=app.extensions["clock"])
    else:
        from .console import ConsoleSender

        sender = ConsoleSender()
    app.extensions["sms_sender"] = sender
    return sender
