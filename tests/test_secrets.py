"""No secret reaches anything a run produces; live URLs only under ``--smooth-report-links=live``.

A failing suite runs in a subprocess against a local backend with a known API key, uses a
run_task secret and a value registered for redaction (``smooth_client.redactor.add``), and
writes JUnit XML, a pytest-html report, DEBUG logs and the artifacts folder. Then every byte
produced (stdout, stderr, every file under the run's folder, the members of every zip) is
scanned for the three secrets.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from pytest_smooth.server.local import LocalServer
from tests.plugin_helpers import ENV_NAMES

pytestmark = pytest.mark.browser

API_KEY = "sk-apikey-6d0f3b9e2c71a4"
RUN_SECRET = "pw-runtask-8e2b7c1d9f"
REGISTERED = "reg-value-3a9c5e7b1d"
SECRETS = {"api key": API_KEY, "run_task secret": RUN_SECRET, "registered value": REGISTERED}

SUITE = """
import os

RUN_SECRET = os.environ["TEST_RUN_SECRET"]
REGISTERED = os.environ["TEST_REGISTERED"]
PAGE = (
    "data:text/html,<title>Login</title><label>Password <input id=pw type=password></label>"
    "<button>Log in</button>"
)


def test_login_then_fail(smooth_client, smooth_session):
    smooth_client.redactor.add(REGISTERED)
    smooth_session.goto(PAGE)
    smooth_session.run_task(
        "fill secret password into #pw", secrets={"password": RUN_SECRET}
    )
    # The page now holds the secret, and the output of this action is the secret itself.
    assert len(smooth_session.evaluate_js("document.querySelector('#pw').value")) > 0
    smooth_session.evaluate_js(
        "(a) => { window.__registered = a.value; return a.value; }", args={"value": REGISTERED}
    )
    assert smooth_session.evaluate_js("document.title") == "Dashboard"


def test_error_carries_a_registered_value(smooth_client, smooth_session):
    smooth_client.redactor.add(REGISTERED)
    smooth_session.evaluate_js(
        "(a) => { throw new Error('login failed for ' + a.value); }", args={"value": REGISTERED}
    )
"""


def _variants(secret: str) -> set[bytes]:
    return {secret.encode(), quote(secret).encode(), secret.encode("utf-16-le")}


def _blobs(root: Path) -> Iterator[tuple[str, bytes]]:
    """Yield (name, bytes) of every file under ``root`` and every member of every zip."""
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        data = path.read_bytes()
        name = str(path.relative_to(root))
        yield name, data
        if zipfile.is_zipfile(io.BytesIO(data)):
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                for member in archive.namelist():
                    yield f"{name}!{member}", archive.read(member)


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with LocalServer(api_key=API_KEY, prewarm=0) as local:
        yield local


def _run(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, server: LocalServer, *args: str
) -> pytest.RunResult:
    monkeypatch.setenv("TEST_RUN_SECRET", RUN_SECRET)
    monkeypatch.setenv("TEST_REGISTERED", REGISTERED)
    monkeypatch.setenv("SMOOTH_LOG_LEVEL", "DEBUG")
    monkeypatch.delenv("CIRCLEMIND_API_KEY", raising=False)
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(test_login=SUITE)
    result = pytester.runpytest_subprocess(
        "-p",
        "no:cacheprovider",
        "--smooth-backend=cloud",
        f"--smooth-base-url={server.base_url}",
        f"--smooth-apikey={API_KEY}",
        "--smooth-output=artifacts",
        "--junitxml=junit.xml",
        "--html=report.html",
        "--self-contained-html",
        "--log-level=DEBUG",
        "--log-file=run.log",
        "--log-file-level=DEBUG",
        "-rA",
        "-v",
        *args,
        timeout=180,
    )
    result.assert_outcomes(failed=2)
    (pytester.path / "stdout.txt").write_text(result.stdout.str())
    (pytester.path / "stderr.txt").write_text(result.stderr.str())
    return result


@pytest.mark.parametrize("what", SECRETS)
def test_no_secret_in_anything_the_run_produces(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, server: LocalServer, what: str
) -> None:
    _run(pytester, monkeypatch, server)
    names = {name for name, _ in _blobs(pytester.path)}
    # The run produced what we mean to scan.
    assert {"junit.xml", "report.html", "run.log", "stdout.txt"} <= names
    assert any(name.endswith("events.json") for name in names), sorted(names)
    variants = _variants(SECRETS[what])
    found = [name for name, data in _blobs(pytester.path) if any(v in data for v in variants)]
    assert not found, f"the {what} was found in: {', '.join(found)}"


LIVE = re.compile(rb"/live/[A-Za-z0-9_-]+\?token=[A-Za-z0-9_-]+")


@pytest.mark.parametrize("policy", ["none", "recording", "live"])
def test_live_urls_only_under_the_live_policy(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, server: LocalServer, policy: str
) -> None:
    _run(pytester, monkeypatch, server, f"--smooth-report-links={policy}")
    with_live = sorted({name for name, data in _blobs(pytester.path) if LIVE.search(data)})
    if policy == "live":
        assert "stdout.txt" in with_live
        assert "junit.xml" in with_live or "report.html" in with_live
    else:
        assert not with_live, f"live URLs under --smooth-report-links={policy} in {with_live}"
    recording = re.compile(rb"/recording/[A-Za-z0-9_-]+\?token=")
    with_recording = sorted({n for n, data in _blobs(pytester.path) if recording.search(data)})
    if policy == "none":
        assert with_recording == []
    else:
        assert "stdout.txt" in with_recording


LOCAL_SUITE = SUITE.replace(
    "smooth_client, smooth_session", "smooth_redact, smooth_session"
).replace("smooth_client.redactor.add(REGISTERED)", "smooth_redact(REGISTERED)")
LOCAL_SECRETS = {"run_task secret": RUN_SECRET, "registered value": REGISTERED}


def _found(root: Path, secrets: dict[str, str]) -> list[str]:
    return [
        f"the {what} in {name}"
        for name, data in _blobs(root)
        for what, secret in secrets.items()
        if any(v in data for v in _variants(secret) | {json.dumps(secret)[1:-1].encode()})
    ]


def _browser_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    cache = Path.home() / ".cache" / "ms-playwright"
    if "PLAYWRIGHT_BROWSERS_PATH" not in os.environ and cache.is_dir():
        monkeypatch.setenv("PLAYWRIGHT_BROWSERS_PATH", str(cache))


def test_no_secret_in_anything_a_local_run_produces(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On the local backend: trace.zip (every member), recording.html, page.html, console.json."""
    _browser_env(monkeypatch)
    monkeypatch.setenv("TEST_RUN_SECRET", RUN_SECRET)
    monkeypatch.setenv("TEST_REGISTERED", REGISTERED)
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(test_login=LOCAL_SUITE)
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--smooth-output=artifacts", "--junitxml=junit.xml",
        "--html=report.html", "--self-contained-html", "-rA", "-v", timeout=300,
    )  # fmt: skip
    result.assert_outcomes(failed=2)
    (pytester.path / "stdout.txt").write_text(result.stdout.str() + result.stderr.str())
    names = {name for name, _ in _blobs(pytester.path / "artifacts")}
    folder = "test_login.py-test_login_then_fail"
    for file in ("events.json", "page.html", "console.json", "trace.zip", "recording.html"):
        assert f"{folder}/{file}" in names, sorted(names)
    assert any(name.startswith(f"{folder}/trace.zip!") for name in names)
    assert not _found(pytester.path, LOCAL_SECRETS)


def test_no_secret_in_the_example_suites_failure_report(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The example suite's failing test types a password and registers a token: scan its run."""
    _browser_env(monkeypatch)
    example = Path(__file__).parent.parent / "example_suite"
    shutil.copytree(example, pytester.path, dirs_exist_ok=True, ignore=_IGNORED)
    result = pytester.runpytest_subprocess(
        "test_failure_report.py::test_broken_page_report", "--runxfail", "-p", "no:cacheprovider",
        "--junitxml=junit.xml", "--html=report.html", "--self-contained-html", "-rA",
        timeout=300,
    )  # fmt: skip
    result.assert_outcomes(failed=1)
    (pytester.path / "stdout.txt").write_text(result.stdout.str() + result.stderr.str())
    secrets = {"password": "analytical-engine", "support token": "support-7f3a9c21e4"}
    scanned = [p for p in pytester.path.iterdir() if p.name not in SOURCES]
    assert (pytester.path / "smooth-results").is_dir()
    found = [hit for path in scanned for hit in _found_in(path, secrets)]
    assert not found


_IGNORED = shutil.ignore_patterns("smooth-results", "__pycache__", ".pytest_cache")
# The suite's own sources name the example's default secrets; everything else is output.
SOURCES = {"shop_app", "conftest.py", "pytest.ini", "README.md"} | {
    p.name for p in (Path(__file__).parent.parent / "example_suite").glob("test_*.py")
}


def _found_in(path: Path, secrets: dict[str, str]) -> list[str]:
    if path.is_dir():
        return _found(path, secrets)
    data = path.read_bytes()
    return [
        f"the {what} in {path.name}"
        for what, secret in secrets.items()
        if any(v in data for v in _variants(secret))
    ]
