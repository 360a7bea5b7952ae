"""Why the line said nothing, and when a queued text will go: for the people trying it out
(`flask simulate`, the browser phone), who would otherwise take silence for a crash.

Read after the fact from what the webhook stored (the number's status, its texts within the flood
window), so the webhook itself does no extra work for it.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import Session

from ..messaging.window import next_send_time, window_from, zones_to_use
from ..models import InboundMessage, OutboundMessage, Subscriber
from ..statuses import SubscriberStatus


def why_no_reply(sess: Session, app: Flask, phone: str, now: datetime) -> dict[str, str]:
    """{"code": ..., "text": ...} for a text that got no reply."""
    line = app.extensions["line"]
    sub = sess.scalars(sa.select(Subscriber).where(Subscriber.phone == phone)).one_or_none()
    if sub is not None and sub.status == SubscriberStatus.OPTED_OUT:
        return {"code": "opted_out",
                "text": "held back: this number opted out (STOP), so the line answers nothing but "
                        "START (or YES to a clinic), which turns texts back on"}
    if sub is not None and line.flood_limit > 0:
        since = now - line.flood_window
        recent = sess.scalar(sa.select(sa.func.count()).select_from(InboundMessage).where(
            InboundMessage.subscriber_id == sub.id, InboundMessage.channel == "sms",
            InboundMessage.received_at > since))
        if recent > line.flood_limit:
            minutes = int(line.flood_window.total_seconds() // 60)
            return {"code": "flood",
                    "text": f"held back: flood limit, more than {line.flood_limit} texts in {minutes} minutes "
                            f"from this number (it stops loops with auto-responders). Replies resume when "
                            f"fewer than {line.flood_limit} texts are that recent; STOP and safety replies "
                            "always go out"}
    return {"code": "repeat",
            "text": "held back: the same text was answered the same way just now, or it reads like an "
                    "automatic reply (loop guard)"}


def send_time(app: Flask, row: OutboundMessage, now: datetime) -> tuple[datetime, bool]:
    """When the worker will send this queued text, and whether quiet hours moved it (the line
    texts only inside the sending window, in the patient's local time)."""
    due = max(row.due_at, now)
    cfg = app.config
    window = window_from(cfg["SEND_WINDOW_START"], cfg["SEND_WINDOW_END"])
    zones = zones_to_use(now, override=row.send_timezone, phone=row.phone, fallback=cfg["SEND_DEFAULT_TIMEZONE"])
    at = next_send_time(due, window, zones)
    return at, at > due
