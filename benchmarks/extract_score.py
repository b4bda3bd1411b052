"""The extract scores: the shared cases and the corpus of pages made by real generators.

Both run through a session of the local backend: the shared cases from tests/extract_pages/shared,
the corpus from tests/corpus.

A shared case folder has ``page.html`` and ``case.json`` (``schema``, ``prompt``, ``expected``);
a corpus page folder has ``page.html`` and ``cases.json`` (a list of such cases, each with a
``name``), and ``tests/corpus/manifest.json`` names the generator of each page. A case is right
when ``extract(schema, prompt)`` equals ``expected``.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pytest_smooth import SmoothClient
from pytest_smooth import SmoothError
from pytest_smooth.server import LocalServer

from ._results import Figure

# The repository keeps a copy of the shared cases, so the score needs nothing outside it.
TESTS = Path(__file__).resolve().parent.parent / "tests"
DEFAULT_CASES = TESTS / "extract_pages" / "shared"
CASES = Path(os.environ.get("SMOOTH_EXTRACT_CASES", str(DEFAULT_CASES)))
CORPUS = TESTS / "corpus"

# (name, page path under the served folder, case)
Case = tuple[str, str, dict[str, Any]]


class _Quiet(http.server.SimpleHTTPRequestHandler):
    extensions_map = {  # noqa: RUF012 - the stdlib declares it as a class attribute
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".html": "text/html; charset=utf-8",
    }

    def log_message(self, format: str, *args: Any) -> None:
        """Keep benchmark output clean."""


@contextmanager
def _served(folder: Path) -> Iterator[str]:
    handler = functools.partial(_Quiet, directory=str(folder))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def run_cases(browser: str | None, folder: Path, cases: list[Case]) -> list[str]:
    """Run ``cases`` (pages under ``folder``) in one session; return the names of the wrong ones."""
    wrong = []
    with (
        _served(folder) as root,
        LocalServer(browser=browser) as server,
        SmoothClient(api_key=server.api_key, base_url=server.base_url) as client,
        client.session() as session,
    ):
        for name, path, case in cases:
            try:
                session.goto(f"{root}/{path}")
                got = session.extract(case["schema"], case.get("prompt"))
            except SmoothError as err:
                got = f"error: {err}"
            if got != case["expected"]:
                wrong.append(f"{name} (got {str(got)[:80]})")
    return wrong


def score(browser: str | None, cases: Path = CASES) -> tuple[int, int, list[str]]:
    """Return (right, tried, names of the wrong ones) for the shared cases."""
    folders = sorted(p.parent for p in cases.glob("*/case.json"))
    listed: list[Case] = [
        (f.name, f"{f.name}/page.html", json.loads((f / "case.json").read_text(encoding="utf-8")))
        for f in folders
    ]
    wrong = run_cases(browser, cases, listed)
    return len(listed) - len(wrong), len(listed), wrong


def corpus_cases(corpus: Path = CORPUS) -> dict[str, list[Case]]:
    """Return the corpus's cases by generator (the manifest's generator name, e.g. ``django``)."""
    manifest = json.loads((corpus / "manifest.json").read_text(encoding="utf-8"))
    out: dict[str, list[Case]] = {}
    for page, info in sorted(manifest.items()):
        generator = info["generator"].split()[0]
        for case in json.loads((corpus / page / "cases.json").read_text(encoding="utf-8")):
            out.setdefault(generator, []).append(
                (f"{page}/{case['name']}", f"{page}/page.html", case)
            )
    return out


def corpus_score(
    browser: str | None, corpus: Path = CORPUS
) -> tuple[int, int, dict[str, str], list[str]]:
    """Return (right, tried, {generator: "right/tried"}, names of the wrong ones)."""
    by_generator = corpus_cases(corpus)
    everything = [case for cases in by_generator.values() for case in cases]
    wrong = run_cases(browser, corpus, everything)
    names = {w.split(" (got ")[0] for w in wrong}
    per = {
        gen: f"{sum(name not in names for name, _, _ in cases)}/{len(cases)}"
        for gen, cases in by_generator.items()
    }
    return len(everything) - len(wrong), len(everything), per, wrong


def _ratio(right: int, tried: int) -> list[float]:
    return [right / tried if tried else 0.0]


def run(*, quick: bool, browser: str | None) -> list[Figure]:  # noqa: ARG001
    figures = []
    if not CASES.is_dir():
        figures.append(
            Figure("extract score (right/tried)", "cases", [], note=f"no cases at {CASES}")
        )
    else:
        right, tried, wrong = score(browser)
        note = f"{right}/{tried} right" + (f"; wrong: {', '.join(wrong)}" if wrong else "")
        figures.append(
            Figure("extract score (right/tried)", "ratio", _ratio(right, tried), note=note)
        )
    if (CORPUS / "manifest.json").is_file():
        right, tried, per, wrong = corpus_score(browser)
        parts = ", ".join(f"{gen} {frac}" for gen, frac in per.items())
        note = f"{right}/{tried} right ({parts})" + (
            f"; wrong: {', '.join(wrong)}" if wrong else ""
        )
        figures.append(
            Figure("extract corpus score (right/tried)", "ratio", _ratio(right, tried), note=note)
        )
    return figures
