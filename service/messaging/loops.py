"""No reply loops with auto-responders: texts that announce themselves as automatic replies, and
the same text getting the same answer again and again, get no reply (the flood limit in
service/conversation.py catches fast loops; this catches slow ones and identical bodies).

Only replies are held back: the engine still runs, so consent changes, red-flag tasks and the
menu position are recorded as usual. Called from handle_sms inside the webhook's transaction.
"""

from __future__ import annotations

import json
import re
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..models import InboundMessage

REPEATS = 2  # the same text, answered the same way this many times in the window: no more answers

# What phones and mail-to-SMS gateways put in automatic answers (iOS Driving Focus, Android
# driving mode, out-of-office and "do not reply" senders), in English and Spanish.
AUTO_REPLY = re.compile(
    r"\bauto[- ]?(?:reply|replies|response|responder)\b"
    r"|\bautomatic(?:ally)?\s+(?:reply|replied|response|generated)\b"
    r"|\bautomated\s+(?:reply|response|message|text)\b"
    r"|\b(?:driving|do not disturb)\b.{0,80}?\b(?:turned on|get back to you|see your message|where i'?m going)"
    r"|\bout of (?:the )?office\b"
    r"|\b(?:do not|don'?t)\s+reply\b"
    r"|\b(?:is not|isn'?t|not)\s+monitored\b"
    r"|\brespuesta autom[aá]tica\b|\bmensaje autom[aá]tico\b|\bestoy manejando\b",
    re.IGNORECASE | re.DOTALL,
)

_LAST_ANSWERS = (
    sa.select(InboundMessage.body, InboundMessage.response)
    .where(InboundMessage.subscriber_id == sa.bindparam("sub"), InboundMessage.channel == "sms",
           InboundMessage.received_at > sa.bindparam("since"))
    .order_by(InboundMessage.received_at.desc(), InboundMessage.id.desc())
    .limit(REPEATS)
)


def looks_automatic(body: str) -> bool:
    """An automatic reply announces itself; a person asking "is this automated?" is answered."""
    text = body.strip()
    return bool(text) and not text.endswith("?") and AUTO_REPLY.search(text) is not None


def _same(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def repeats_itself(sess: Session, subscriber_id: int, body: str, texts: list[str], since: datetime) -> bool:
    """True when the last REPEATS texts from this number since `since` were this same text and were
    answered with these same texts (or not at all): answering again would only feed a loop."""
    rows = sess.execute(_LAST_ANSWERS, {"sub": subscriber_id, "since": since}).all()
    answer = json.dumps(texts, ensure_ascii=False)
    return len(rows) == REPEATS and all(
        _same(prev_body or "", body) and (prev_answer or "[]") in (answer, "[]") for prev_body, prev_answer in rows)


def hold_back(sess: Session, subscriber_id: int, body: str, texts: list[str], since: datetime,
              red_flag: bool = False, last_body: str | None = None) -> bool:
    """Whether to send no reply to this text (see the module docstring).

    A text with a red flag is never taken for an auto-reply ("chest pain, do not reply, call me"
    reads like one); only the same text answered the same way REPEATS times in the window is.
    `last_body` is the number's previous text (read with the subscriber): when it differs from
    this one there is no repeat, and no query is needed (most texts)."""
    if not texts:
        return False
    if not red_flag and looks_automatic(body):
        return True
    if last_body is None or not _same(last_body, body):
        return False
    return repeats_itself(sess, subscriber_id, body, texts, since)
