"""A local stand-in for the ClinicalTrials.gov API v2 (`GET /api/v2/studies`), for the tests only.

It serves the fixtures in fixtures/, pages by pageToken exactly as the API does, records every
request, and can fail a chosen page. Datasets: invented studies in the API's shape ("initial",
"resync", "empty"), and "real": the real API v2 records of fixtures/real/ (see its README) with
the invented edge cases of fixtures/edge_cases.json, in one page.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

FIXTURES = Path(__file__).parent / "fixtures"
REAL = FIXTURES / "real"
DATASETS = {
    "initial": ["initial_page1.json", "initial_page2.json"],
    "resync": ["resync.json"],
    "empty": ["empty.json"],
}


def load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def real_records() -> list[dict]:
    """The real registry records (one study each), by NCT id."""
    return [json.loads(path.read_text(encoding="utf-8")) for path in sorted(REAL.glob("NCT*.json"))]


def real_page(only: set[str] | None = None) -> dict:
    studies = [s for s in real_records() + load("edge_cases.json")["studies"]
               if only is None or s["protocolSection"]["identificationModule"]["nctId"] in only]
    return {"totalCount": len(studies), "studies": studies}


class FakeCtGov:
    def __init__(self):
        self.dataset = "initial"
        self.only: set[str] | None = None  # dataset "real": serve only these NCT ids
        self.fail_page: int | None = None  # 0-based page answered with `fail_status`
        self.fail_status = 500
        self.requests: list[dict[str, str]] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        # A short poll interval: shutdown() waits for the next poll, once per test.
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                                        daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/api/v2"

    def pages(self) -> list[dict]:
        if self.dataset == "real":
            return [real_page(self.only)]
        return [load(name) for name in DATASETS[self.dataset]]

    def __enter__(self) -> "FakeCtGov":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def _answer(self, path: str, query: dict[str, str]) -> tuple[int, dict]:
        if path != "/api/v2/studies":
            return 404, {"message": "not found"}
        pages = self.pages()
        # Real tokens are opaque: here page N+1's token is whatever page N said it was.
        tokens = [None] + [p.get("nextPageToken") for p in pages[:-1]]
        token = query.get("pageToken")
        if token not in tokens:
            return 400, {"message": "bad pageToken"}
        index = tokens.index(token)
        if self.fail_page == index:
            return self.fail_status, {"message": "injected failure"}
        return 200, pages[index]

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # http.server's naming
                parts = urlsplit(self.path)
                query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
                fake.requests.append(query)
                status, body = fake._answer(parts.path, query)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):  # keep test output clean
                pass

        return Handler
