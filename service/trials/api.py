"""ClinicalTrials.gov API v2 client: `GET {base}/studies`, paged with pageToken.

The base URL is CLINICALTRIALS_API_BASE_URL (tests point it at a local fake). Later pages repeat
the first page's parameters plus pageToken, as the API requires. Transient failures (network,
429, 5xx) are retried a couple of times; anything else raises ApiError and the sync keeps the
last good data.
"""

from __future__ import annotations

import http.client
import json
import logging
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Callable, Iterator
from urllib.parse import urlencode

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://clinicaltrials.gov/api/v2"
# "metastatic breast cancer" as a condition: the API's condition synonyms also match
# "stage IV breast cancer" and "advanced breast cancer" registrations.
DEFAULT_CONDITION = "metastatic breast cancer"
STATUSES = "RECRUITING|NOT_YET_RECRUITING"
# Only the modules we read (parse.py): a full record with hundreds of sites is large.
FIELDS = "|".join([
    "protocolSection.identificationModule",
    "protocolSection.statusModule",
    "protocolSection.designModule",
    "protocolSection.conditionsModule",
    "protocolSection.armsInterventionsModule",
    "protocolSection.eligibilityModule",
    "protocolSection.contactsLocationsModule",
])
MAX_PAGES = 500  # 500 x pageSize studies is far more than exist; a loop means a broken API


class ApiError(RuntimeError):
    pass


@dataclass(frozen=True)
class Page:
    studies: list
    next_token: str | None
    total: int | None


class TrialsApi:
    def __init__(self, base_url: str = DEFAULT_BASE_URL, *, condition: str = DEFAULT_CONDITION,
                 page_size: int = 200, timeout: float = 30.0, retries: int = 2,
                 sleep: Callable[[float], None] = time.sleep):
        self.base_url = base_url.rstrip("/")
        self.condition = condition
        self.page_size = max(1, min(1000, page_size))  # the API caps pageSize at 1000
        self.timeout = timeout
        self.retries = retries
        self.sleep = sleep

    def params(self) -> dict[str, str]:
        return {
            "format": "json",
            "query.cond": self.condition,
            "filter.overallStatus": STATUSES,
            "fields": FIELDS,
            "pageSize": str(self.page_size),
            "countTotal": "true",
        }

    def pages(self) -> Iterator[Page]:
        token: str | None = None
        seen: set[str] = set()
        for _ in range(MAX_PAGES):
            params = self.params()
            if token:
                params["pageToken"] = token
            page = self._page(params)
            yield page
            if not page.next_token:
                return
            if page.next_token in seen:
                raise ApiError("the API returned the same nextPageToken twice")
            seen.add(page.next_token)
            token = page.next_token
        raise ApiError(f"more than {MAX_PAGES} pages")

    def _page(self, params: dict[str, str]) -> Page:
        data = self._get_json(f"{self.base_url}/studies?{urlencode(params)}")
        if not isinstance(data, dict) or not isinstance(data.get("studies", []), list):
            raise ApiError("unexpected response shape (no studies list)")
        total = data.get("totalCount")
        token = data.get("nextPageToken") or None
        return Page(data.get("studies") or [], str(token) if token else None,
                    int(total) if isinstance(total, int) else None)

    def _get_json(self, url: str):
        request = urllib.request.Request(url, headers={"Accept": "application/json",
                                                       "User-Agent": "mbc-guide-trials-sync/1"})
        for attempt in range(self.retries + 1):
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as resp:  # the configured API URL
                    body = resp.read()
                try:
                    return json.loads(body)
                except ValueError as exc:
                    raise ApiError(f"response is not JSON: {exc}") from exc
            except urllib.error.HTTPError as exc:
                transient = exc.code == 429 or exc.code >= 500
                error = ApiError(f"HTTP {exc.code} from the trials API")
            except (urllib.error.URLError, http.client.HTTPException, TimeoutError, ConnectionError) as exc:
                transient = True
                error = ApiError(f"trials API unreachable: {getattr(exc, 'reason', exc)}")
            if not transient or attempt == self.retries:
                raise error
            log.warning("%s; retrying (%d/%d)", error, attempt + 1, self.retries)
            self.sleep(2.0 * (attempt + 1))
        raise AssertionError("unreachable")
