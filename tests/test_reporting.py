"""Failure reports: section, JUnit properties, pytest-html extras, artifacts, links, keep-open.

The inner runs use the local-backend path with ``smooth_server`` overridden by a LocalServer
whose executor is browserless (tests/plugin_helpers.py), so artifacts are fetched for real.
"""

from __future__ import annotations

import base64
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from pytest_smooth.plugin import opening
from tests.plugin_helpers import TINY_PNG
from tests.plugin_helpers import clean_env
from tests.plugin_helpers import cloud_args
from tests.plugin_helpers import instant_server
from tests.plugin_helpers import write_ini

SERVER_KEY = "sk-local-server-key-0001"
TASK_SECRET = "hunter2-task-secret"

CONFTEST = f"""
import pytest
from pytest_smooth.plugin.lifecycle import get_tracker
from pytest_smooth.server.local import LocalServer
from tests.plugin_helpers import InstantExecutor

@pytest.fixture(scope="session")
def smooth_server(pytestconfig):
    server = LocalServer(executor=InstantExecutor(), prewarm=0, api_key={SERVER_KEY!r}).start()
    yield server
    # Stopped after the last test's teardown report, as the plugin's own smooth_server does:
    # that report fetches the closed sessions' recording.html.
    get_tracker(pytestconfig).defer(server.stop)
"""

FAILING = """
import os
import pytest

def test_passes(smooth_session):
    smooth_session.evaluate_js("'fine'")

def test_fails(smooth_session):
    smooth_session.evaluate_js("document.title")
    # from the environment, so the secret is not in the source pytest shows
    smooth_session.run_task("log in", secrets={"password": os.environ["TASK_SECRET"]})
    with pytest.raises(Exception):
        smooth_session.evaluate_js("throw new Error('boom')")
    assert False, "the page is wrong"
"""


@pytest.fixture(autouse=True)
def _setup(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    clean_env(monkeypatch)
    monkeypatch.setenv("TASK_SECRET", TASK_SECRET)
    write_ini(pytester)
    pytester.makeconftest(CONFTEST)


def section_of(text: str) -> str:
    start = text.index("- smooth -")
    return text[start : text.index("\n=", start)]


def test_section_event_log_and_artifacts(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_report=FAILING)
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, failed=1)
    section = section_of(result.stdout.str())
    lines = section.splitlines()
    assert lines[1].startswith("session task_")
    assert "(smooth_session) status=running credits=" in lines[1]
    assert any(line.startswith("  live: http://127.0.0.1:") for line in lines) is False
    result.stdout.fnmatch_lines(
        [
            "*#  action       input*outcome*duration  credits",
            "*1  evaluate_js  js=document.title args=null*ok*1",
            "*2  run_task     task=log in max_steps=32*",
            "*3  evaluate_js  js=throw new Error('boom')*error: SmoothActionError: Error: thrown*",
        ]
    )
    folder = pytester.path / "smooth-results" / "test_report.py-test_fails"
    assert sorted(p.name for p in folder.iterdir()) == [
        "console.json",
        "events.json",
        "page.html",
        "recording.html",
        "screenshot.png",
        "trace.zip",
    ]
    assert (folder / "screenshot.png").read_bytes() == TINY_PNG
    where = "smooth-results/test_report.py-test_fails"
    names = "events.json, console.json, page.html, screenshot.png, trace.zip"
    assert f"artifacts: {where} ({names})" in section
    # the page at the moment of failure, read through the session (works on the cloud too)
    assert "  page: 'Cart' at https://shop.example/cart" in section
    assert "<body>cart</body>" in (folder / "page.html").read_text()
    events = json.loads((folder / "events.json").read_text())
    assert events["test"] == "test_report.py::test_fails"
    assert events["phase"] == "call"
    [session] = events["sessions"]
    assert session["events"][1]["input"]["secrets"]["password"]["value"] == "***"
    assert [e["action"] for e in session["events"]] == ["evaluate_js", "run_task", "evaluate_js"]
    assert session["events"][2]["outcome"] == "error"
    # the passing test left nothing behind (report.json is the run's)
    assert sorted(p.name for p in (pytester.path / "smooth-results").iterdir()) == [
        "report.json",
        folder.name,
    ]
    # the end-of-run summary lists the failed test with its recording
    result.stdout.fnmatch_lines(
        [
            "*= smooth =*",
            "FAILED test_report.py::test_fails: session task_*",
            f"  recording: {where}/recording.html",
            "2 session(s) opened, 2 closed",
        ]
    )
    # the local backend's URL dies with the run: no report links it
    assert "/recording/task_" not in result.stdout.str()


def test_only_the_run_report_when_nothing_fails(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_ok(smooth_session): smooth_session.evaluate_js('1')")
    pytester.runpytest().assert_outcomes(passed=1)
    assert [p.name for p in (pytester.path / "smooth-results").iterdir()] == ["report.json"]


def test_an_expected_failure_keeps_its_evidence(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.xfail(strict=True, reason="shows the report")
        def test_known_bug(smooth_session):
            smooth_session.evaluate_js("1 + 1")
            assert False
        """
    )
    pytester.runpytest().assert_outcomes(xfailed=1)
    folders = [p for p in (pytester.path / "smooth-results").iterdir() if p.is_dir()]
    assert [f.name for f in folders] == [
        "test_an_expected_failure_keeps_its_evidence.py-test_known_bug"
    ]
    events = json.loads((folders[0] / "events.json").read_text())
    assert "evaluate_js" in json.dumps(events)


def junit_properties(path: Path) -> dict[str, dict[str, str]]:
    out = {}
    for case in ET.parse(path).getroot().iter("testcase"):
        out[case.get("name", "")] = {
            p.get("name", ""): p.get("value", "") for p in case.iter("property")
        }
    return out


@pytest.mark.parametrize("policy", ["none", "recording", "live"])
def test_junit_properties_follow_the_link_policy(pytester: pytest.Pytester, policy: str) -> None:
    pytester.makepyfile(test_report=FAILING)
    result = pytester.runpytest("--junitxml=out.xml", f"--smooth-report-links={policy}")
    result.assert_outcomes(passed=1, failed=1)
    props = junit_properties(pytester.path / "out.xml")
    assert props["test_passes"] == {"smooth_credits": "1.0"}  # credits only: no session, no link
    failed = props["test_fails"]
    assert failed["smooth_session_id"].startswith("task_")
    assert failed["smooth_credits"] == "2.0"  # two successful actions at one credit each
    assert failed["smooth_actions"] == "3"
    text = result.stdout.str()
    section = section_of(text)
    if policy == "none":
        assert "smooth_recording_url" not in failed
        assert "http://" not in section
        assert "/live/" not in text
    # the local backend's recording URL dies with the run: the file is linked instead
    assert "smooth_recording_url" not in failed
    assert failed["smooth_recording"] == "smooth-results/test_report.py-test_fails/recording.html"
    if policy == "live":
        assert "/live/task_" in failed["smooth_live_url"]
        assert "  live: http://127.0.0.1:" in section
        # live policy: each session's live view is printed when it opens
        result.stdout.fnmatch_lines(["smooth: live view of test_report.py::test_passes *"])
    else:
        assert "smooth_live_url" not in failed
        assert "/live/" not in section


def test_live_link_printed_with_verbose_and_as_github_notice(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile("def test_ok(smooth_session): pass")
    # Piped output (a CI log) never gets a live URL under the default policy, even with -v.
    result = pytester.runpytest("-v")
    assert "live view" not in result.stdout.str()
    # A person at a terminal asking for -v sees it.
    monkeypatch.setattr(opening, "terminal_is_interactive", lambda _config: True)
    result = pytester.runpytest("-v")
    result.stdout.fnmatch_lines(
        ["smooth: live view of test_*.py::test_ok (session task_*): http://127.0.0.1:*/live/*"]
    )
    assert "::notice" not in result.stdout.str()  # the default policy keeps it off CI logs
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    result = pytester.runpytest("--smooth-report-links=live")
    result.stdout.fnmatch_lines(["::notice title=Smooth live view::test_*.py::test_ok: http://*"])
    result = pytester.runpytest()
    assert "live view" not in result.stdout.str()


def test_sections_and_properties_via_hook_recorder(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_report=FAILING)
    reprec = pytester.inline_run()
    call = reprec.matchreport("test_fails", when="call")
    assert call.failed
    [section] = [text for name, text in call.sections if name == "smooth"]
    assert "the page is wrong" not in section  # the test's own message stays in longrepr
    names = [name for name, _ in call.user_properties]
    assert names == ["smooth_session_id", "smooth_credits", "smooth_actions"]
    teardown = reprec.matchreport("test_fails", when="teardown")
    assert [n for n, _ in teardown.user_properties][-1] == "smooth_recording", teardown.sections
    passed = reprec.matchreport("test_passes", when="call")
    assert passed.user_properties == []
    assert [n for n, _ in passed.sections if n == "smooth"] == []


def test_setup_and_teardown_failures_are_captured(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_phases="""
        import pytest

        @pytest.fixture
        def broken_setup(smooth_session):
            smooth_session.evaluate_js("'during-setup'")
            raise RuntimeError("setup broke")

        @pytest.fixture
        def broken_teardown(smooth_session):
            yield smooth_session
            smooth_session.evaluate_js("'during-teardown'")
            raise RuntimeError("teardown broke")

        def test_setup(broken_setup):
            pass

        def test_teardown(broken_teardown):
            pass

        def test_last():
            pass  # the run's last teardown stops the backend, so the teardown test is not last
        """
    )
    reprec = pytester.inline_run()
    setup = reprec.matchreport("test_setup", when="setup")
    teardown = reprec.matchreport("test_teardown", when="teardown")
    assert setup.failed
    assert teardown.failed
    assert "during-setup" in dict(setup.sections)["smooth"]
    assert "during-teardown" in dict(teardown.sections)["smooth"]
    base = pytester.path / "smooth-results"
    for name, phase in (("test_setup", "setup"), ("test_teardown", "teardown")):
        folder = base / f"test_phases.py-{name}"
        assert json.loads((folder / "events.json").read_text())["phase"] == phase
        assert (folder / "screenshot.png").read_bytes() == TINY_PNG


def test_evidence_failure_is_a_warning_not_internalerror(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        CONFTEST.replace("InstantExecutor()", "Broken()")
        + """
class Broken(InstantExecutor):
    async def screenshot(self, task_id):
        raise KeyError(task_id)
"""
    )
    pytester.makepyfile("def test_fails(smooth_session): assert False")
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["warning: no screenshot.png for session task_*: no screenshot: the session is closed"]
    )
    result.stdout.no_fnmatch_line("*INTERNALERROR*")
    folder = (
        pytester.path
        / "smooth-results"
        / "test_evidence_failure_is_a_warning_not_internalerror.py-test_fails"
    )
    assert sorted(p.name for p in folder.iterdir()) == [
        "console.json",
        "events.json",
        "page.html",
        "recording.html",
        "trace.zip",
    ]


def test_html_extras_only_with_pytest_html(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_report=FAILING)
    result = pytester.runpytest("--html=report.html", "--self-contained-html")
    result.assert_outcomes(passed=1, failed=1)
    html = (pytester.path / "report.html").read_text()
    assert "smooth session task_" in html
    assert "evaluate_js" in html
    # the screenshot is an image in the row; the other files are linked by relative path
    assert "data:image/png;base64," + base64.b64encode(TINY_PNG).decode() in html
    for name in ("trace.zip", "recording.html", "page.html"):
        assert f"smooth-results/test_report.py-test_fails/{name}" in html, name
    result = pytester.runpytest("-p", "no:html")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.no_fnmatch_line("*warning: could not gather*")


def test_no_secret_in_any_output(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_report=FAILING)
    result = pytester.runpytest(
        "-v", "--junitxml=out.xml", "--html=report.html", "--self-contained-html",
        "--smooth-report-links=live",
    )  # fmt: skip
    result.assert_outcomes(passed=1, failed=1)
    texts = [result.stdout.str(), result.stderr.str()]
    for path in pytester.path.rglob("*"):
        if path.is_file() and path.suffix != ".py":
            texts.append(path.read_bytes().decode("utf-8", "replace"))
    assert any("run_task" in text for text in texts)
    for text in texts:
        assert SERVER_KEY not in text
        assert TASK_SECRET not in text


def test_keep_open_on_failure(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_keep="""
        IDS = []

        def test_fails(smooth_session):
            IDS.append(smooth_session.id)
            assert False

        def test_still_open(smooth_client):
            # the failed test's session is still open for a person to look at
            assert smooth_client.get_task(IDS[0]).status == "running"
        """
    )
    result = pytester.runpytest("--smooth-keep-open-on-failure=600")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["1 session(s) opened, 1 closed, 1 kept open after a failure"])


def test_no_api_key_in_any_output_on_the_cloud_path(pytester: pytest.Pytester) -> None:
    """The key given on the command line reaches no output, report or artifact."""
    pytester.makeconftest("")  # no local backend: the plugin talks to the server as a cloud
    pytester.makepyfile(test_report=FAILING)
    with instant_server() as (server, _):
        result = pytester.runpytest(
            *cloud_args(server), "-v", "--junitxml=out.xml", "--html=report.html",
            "--self-contained-html", "--smooth-report-links=live",
        )  # fmt: skip
    result.assert_outcomes(passed=1, failed=1)
    texts = [result.stdout.str(), result.stderr.str()]
    texts += [p.read_text("utf-8", "replace") for p in pytester.path.rglob("*") if p.is_file()]
    assert len(texts) > 4  # output, junit, html, events.json at least
    for text in texts:
        assert server.api_key not in text
        assert TASK_SECRET not in text


def test_live_links_from_xdist_workers_reach_the_terminal(pytester: pytest.Pytester) -> None:
    pytester.makeconftest("")
    pytester.makepyfile(
        test_live="""
        def test_one(smooth_session):
            pass

        def test_two(smooth_session):
            pass
        """
    )
    with instant_server() as (server, _):
        result = pytester.runpytest_subprocess(
            *cloud_args(server), "-n", "2", "--smooth-report-links=live", timeout=180
        )
    result.assert_outcomes(passed=2)
    for name in ("test_one", "test_two"):
        result.stdout.fnmatch_lines(
            [
                f"smooth: live view of test_live.py::{name} (session task_*): http://127.0.0.1:*/live/*"
            ]
        )
    result.stdout.fnmatch_lines(["2 session(s) opened, 2 closed"])
