"""The extract score: the shared extract cases (tests/extract_pages/shared) through a session.

Each case folder has ``page.html`` and ``case.json`` (``schema``, ``prompt``, ``expected``); a
case is right when ``extract(schema, prompt)`` equals ``expected``.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import threading
from pathlib import Path
from typing import Any

from pytest_smooth import SmoothClient
from pytest_smooth import SmoothError
from pytest_smooth.server import LocalServer

from ._results import Figure

# The repository keeps a copy of the shared cases, so the score needs nothing outside it.
DEFAULT_CASES = Path(__file__).resolve().parent.parent / "tests" / "extract_pages" / "shared"
CASES = Path(os.environ.get("SMOOTH_EXTRACT_CASES", str(DEFAULT_CASES)))


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Keep benchmark output clean."""


def score(browser: str | None, cases: Path = CASES) -> tuple[int, int, list[str]]:
    """Return (right, tried, names of the wrong ones)."""
    folders = sorted(p.parent for p in cases.glob("*/case.json"))
    handler = functools.partial(_Quiet, directory=str(cases))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    root = f"http://127.0.0.1:{httpd.server_address[1]}"
    right, wrong = 0, []
    try:
        with (
            LocalServer(browser=browser) as server,
            SmoothClient(api_key=server.api_key, base_url=server.base_url) as client,
            client.session() as session,
        ):
            for folder in folders:
                case = json.loads((folder / "case.json").read_text(encoding="utf-8"))
                try:
                    session.goto(f"{root}/{folder.name}/page.html")
                    got = session.extract(case["schema"], case.get("prompt"))
                except SmoothError as err:
                    got = f"error: {err}"
                if got == case["expected"]:
                    right += 1
                else:
                    wrong.append(f"{folder.name} (got {str(got)[:80]})")
    finally:
        httpd.shutdown()
        httpd.server_close()
    return right, len(folders), wrong


def run(*, quick: bool, browser: str | None) -> list[Figure]:  # noqa: ARG001
    if not CASES.is_dir():
        return [Figure("extract score (right/tried)", "cases", [], note=f"no cases at {CASES}")]
    right, tried, wrong = score(browser)
    note = f"{right}/{tried} right" + (f"; wrong: {', '.join(wrong)}" if wrong else "")
    return [Figure("extract score (right/tried)", "ratio", [right / tried if tried else 0.0],
                   note=note)]  # fmt: skip
