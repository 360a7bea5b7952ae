"""The SMS conversation's trials hook (service/conversation.py handle_sms calls it).

The engine is pure: it answers TRIALS with Reply("trials", zip, subtype, page) and keeps the
search in State.trials_*. Here the search is loaded before the engine runs (only when the message
could need it), stored after, and a "trials" Reply is looked up in the database and composed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy.orm import Session

from ..content.catalog import Catalog
from ..engine import Reply, State
from ..engine.keywords import Lexicon
from ..models import TrialSearch
from .compose import Composer, Search
from .geo import Place, zip_place
from .search import Hit, nearest_sites
from .sync import last_good_sync

TRIALS_NODE = "trials"


def age_days(sess: Session, now: datetime) -> int | None:
    last = last_good_sync(sess)
    return None if last is None else max(0, (now - last).days)


def search_texts(sess: Session, composer: Composer, locale: str, *, zip_code: str, subtype: str | None,
                 page: int, radius: int, now: datetime) -> list[str]:
    """The texts answering TRIALS <zip> [subtype] (page `page`), as the SMS line sends them."""
    if not zip_code:
        return composer.no_zip(locale)
    place = zip_place(zip_code)
    if place is None:
        return composer.unknown_zip(locale, zip_code)
    search = Search(place.zip, subtype or None, radius, age_days(sess, now))
    hits = nearest_sites(sess, place, radius, search.subtype)
    if not hits:
        return composer.none_found(locale, search)
    return composer.results(locale, search, hits, page)


@dataclass(frozen=True)
class Nearby:
    """What a caller hears after typing a ZIP code: how many sites, the nearest, the data's age."""

    place: Place
    radius: int
    count: int
    nearest: Hit | None
    age: int | None  # days since the last good sync; None: never synced


class TrialsLine:
    def __init__(self, catalog: Catalog, lexicon: Lexicon, radius: int):
        self.composer = Composer(catalog)
        self.lexicon = lexicon
        self.radius = radius

    def load(self, sess: Session, subscriber_id: int, state: State, body: str) -> State:
        """State with the stored search, read only when this message could page it (hot path)."""
        if state.node != TRIALS_NODE and self.lexicon.trials_args(body, state.locale) is None:
            return state
        row = sess.get(TrialSearch, subscriber_id)
        if row is None:
            return state
        return replace(state, trials_zip=row.zip, trials_subtype=row.subtype, trials_page=row.page)

    def save(self, sess: Session, subscriber_id: int, before: State, after: State, now: datetime) -> None:
        key = (after.trials_zip, after.trials_subtype, after.trials_page)
        if key == (before.trials_zip, before.trials_subtype, before.trials_page):
            return
        row = sess.get(TrialSearch, subscriber_id)  # the subscriber row is locked: no concurrent insert
        if row is None:
            sess.add(TrialSearch(subscriber_id=subscriber_id, zip=key[0], subtype=key[1], page=key[2], updated_at=now))
        else:
            row.zip, row.subtype, row.page, row.updated_at = *key, now

    def nearby(self, sess: Session, place: Place, now: datetime) -> Nearby:
        hits = nearest_sites(sess, place, self.radius)
        return Nearby(place, self.radius, len(hits), hits[0] if hits else None, age_days(sess, now))

    def search_texts(self, sess: Session, locale: str, zip_code: str, now: datetime) -> list[str]:
        """The first texts TRIALS <zip> answers (what "press 9" after a ZIP search sends)."""
        return search_texts(sess, self.composer, locale, zip_code=zip_code, subtype=None, page=0,
                            radius=self.radius, now=now)

    def texts(self, sess: Session, reply: Reply, locale: str, now: datetime) -> list[str]:
        params = dict(reply.params)
        return search_texts(sess, self.composer, locale, zip_code=params.get("zip", ""),
                            subtype=params.get("subtype") or None, page=int(params.get("page") or 0),
                            radius=self.radius, now=now)
