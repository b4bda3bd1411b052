"""Evidence nobody will read is not made: ``keep_evidence=False`` at close (local backend).

A passing test under ``retain-on-failure`` keeps neither its recording nor its trace, so the
plugin tells the local backend at close, which then skips the final frame and the trace export
(as pytest-playwright stops a passing test's trace without saving it). A failed test, a test
that failed before passing on a rerun, and the ``on`` modes keep everything.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from pytest_smooth import SmoothClient
from pytest_smooth.server.local import LocalServer
from pytest_smooth.server.protocol.tasks import parse_action
from tests.fixtures_server import StaticSite
from tests.plugin_helpers import clean_env
from tests.plugin_helpers import write_ini

RUN_TIMEOUT = 300
PAGE = "<!doctype html><title>Evidence</title><h1 style='font-size:60px'>Evidence</h1>"


@pytest.mark.parametrize(
    ("payload_input", "parsed"),
    [
        (None, {}),
        ({}, {}),
        ({"keep_evidence": True}, {}),
        ({"keep_evidence": "no"}, {}),  # only a JSON false discards
        ({"keep_evidence": False}, {"keep_evidence": False}),
    ],
)
def test_the_close_input_reads_only_a_false_keep_evidence(
    payload_input: object, parsed: dict[str, object]
) -> None:
    payload = {"name": "close", "input": payload_input}
    assert parse_action("session_action", payload) == ("close", parsed)


def _artifact(server: LocalServer, task_id: str, name: str) -> httpx.Response:
    url = f"{server.url}/api/v1/task/{task_id}/artifacts/{name}"
    return httpx.get(url, headers={"apikey": server.api_key}, timeout=30)


@pytest.mark.browser
def test_a_close_without_evidence_keeps_no_recording_and_no_trace(
    local_server: LocalServer, static_site: StaticSite
) -> None:
    url = static_site.page("discard/page.html", PAGE)
    with SmoothClient(api_key=local_server.api_key, base_url=local_server.base_url) as client:
        kept, dropped = client.session(), client.session()
        for session in (kept, dropped):
            session.goto(url)
            assert session.evaluate_js("document.title") == "Evidence"
        dropped.keep_evidence = False
        kept.close()
        dropped.close()
    assert kept.status == dropped.status == "done"
    for name in ("trace.zip", "recording.html", "console.json"):
        assert _artifact(local_server, kept.id, name).status_code == 200, name
    assert _artifact(local_server, dropped.id, "console.json").status_code == 200
    for name in ("trace.zip", "recording.html"):
        reply = _artifact(local_server, dropped.id, name)
        assert reply.status_code == 409, name
        assert "closed with keep_evidence=False" in reply.json()["detail"]


CONFTEST = """
import json, os
import httpx
from pytest_smooth.plugin.shared_backend import run_backend

SEEN = []

def pytest_smooth_session_created(session, item, request):
    SEEN.append((item.nodeid, session.id))

def pytest_unconfigure(config):
    # After the run's sessions closed, before the plugin stops the backend.
    SEEN_FILE = os.environ["SEEN_FILE"]
    server = run_backend(config)
    found = {}
    for nodeid, task_id in SEEN:
        codes = {}
        for name in ("trace.zip", "recording.html"):
            url = f"{server.url}/api/v1/task/{task_id}/artifacts/{name}"
            codes[name] = httpx.get(url, headers={"apikey": server.api_key}).status_code
        found.setdefault(nodeid, []).append(codes)
    with open(SEEN_FILE, "w") as out:
        json.dump(found, out)
"""

TESTS = """
import os

def test_passes(smooth_session):
    smooth_session.goto({url!r})
    assert smooth_session.evaluate_js("document.title") == "Evidence"

def test_fails(smooth_session):
    smooth_session.goto({url!r})
    assert smooth_session.evaluate_js("document.title") == "Other"

def test_passes_on_a_rerun(smooth_session):
    smooth_session.goto({url!r})
    marker = os.environ["SEEN_FILE"] + ".rerun"
    if not os.path.exists(marker):
        open(marker, "w").close()
        raise AssertionError("first attempt fails")
"""


@pytest.mark.browser
@pytest.mark.parametrize(
    ("mode", "passed_keeps"), [("retain-on-failure", False), ("on", True)], ids=["retain", "on"]
)
def test_the_plugin_keeps_evidence_only_where_it_is_read(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    static_site: StaticSite,
    local_server: LocalServer,  # skips without a browser
    tmp_path: Path,
    mode: str,
    passed_keeps: bool,
) -> None:
    del local_server
    clean_env(monkeypatch)
    seen = tmp_path / "seen.json"
    monkeypatch.setenv("SEEN_FILE", str(seen))
    write_ini(pytester)
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_things=TESTS.format(url=static_site.page("discard/plugin.html", PAGE)))
    result = pytester.runpytest_subprocess(
        "-p", "no:flaky", "--reruns", "1", f"--smooth-recording={mode}",
        f"--smooth-tracing={mode}", timeout=RUN_TIMEOUT,
    )  # fmt: skip
    assert result.parseoutcomes() == {"passed": 2, "failed": 1, "rerun": 2}
    codes = json.loads(seen.read_text())
    kept = {"trace.zip": 200, "recording.html": 200}
    dropped = {"trace.zip": 409, "recording.html": 409}
    assert codes["test_things.py::test_passes"] == [kept if passed_keeps else dropped]
    # A failed test keeps every attempt's; a pass after a failed attempt keeps its own too.
    assert codes["test_things.py::test_fails"] == [kept, kept]
    assert codes["test_things.py::test_passes_on_a_rerun"] == [kept, kept]
