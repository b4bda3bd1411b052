"""Artifact modes, the output folder's cleaning and a suite's own secrets (browserless)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_smooth.plugin.output_dir import unsafe_reason
from tests.plugin_helpers import clean_env
from tests.plugin_helpers import write_ini
from tests.test_reporting import CONFTEST

# test_last: this conftest's backend closes the sessions when the run's last test ends
PASSING = """
def test_ok(smooth_session):
    smooth_session.evaluate_js('1')

def test_last():
    pass
"""
TOKEN = "tok-suite-secret-5b2e"
HOOKED = "hook-secret-8c1d4a"


@pytest.fixture(autouse=True)
def _setup(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    clean_env(monkeypatch)
    write_ini(pytester)
    pytester.makeconftest(CONFTEST)


def test_on_modes_keep_a_passing_tests_files(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_modes=PASSING)
    result = pytester.runpytest(
        "--smooth-screenshot=on", "--smooth-tracing=on", "--smooth-recording=on"
    )
    result.assert_outcomes(passed=2)
    folder = pytester.path / "smooth-results" / "test_modes.py-test_ok"
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["events.json", "recording.html", "screenshot.png", "trace.zip"]
    assert json.loads((folder / "events.json").read_text())["phase"] == "passed"


def test_off_modes_keep_only_the_event_log_and_page(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_modes="def test_bad(smooth_session):\n    assert False\n")
    result = pytester.runpytest(
        "--smooth-screenshot=off", "--smooth-tracing=off", "--smooth-recording=off"
    )
    result.assert_outcomes(failed=1)
    folder = pytester.path / "smooth-results" / "test_modes.py-test_bad"
    assert sorted(p.name for p in folder.iterdir()) == ["console.json", "events.json", "page.html"]


def test_the_output_folder_is_emptied_at_the_start(pytester: pytest.Pytester) -> None:
    stale = pytester.path / "smooth-results" / "old-test" / "events.json"
    stale.parent.mkdir(parents=True)
    stale.write_text("{}")
    pytester.makepyfile(test_modes="def test_nothing(): pass")
    pytester.runpytest().assert_outcomes(passed=1)
    assert not stale.exists()
    # --collect-only leaves it alone
    stale.parent.mkdir(parents=True)
    stale.write_text("{}")
    pytester.runpytest("--collect-only")
    assert stale.exists()


@pytest.mark.parametrize("where", [".", "..", "project"])
def test_an_unsafe_output_folder_is_refused(pytester: pytest.Pytester, where: str) -> None:
    (pytester.path / "project").mkdir()
    (pytester.path / "project" / "pyproject.toml").write_text("")
    pytester.makepyfile(test_modes="def test_nothing(): pass")
    result = pytester.runpytest(f"--smooth-output={where}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*will not empty the output folder*--smooth-output*"])
    assert (pytester.path / "test_modes.py").exists()


def test_unsafe_reason(tmp_path: Path) -> None:
    assert unsafe_reason(Path("/"), []) == "it is the filesystem root"
    assert unsafe_reason(tmp_path, [tmp_path / "a" / "b"]) is not None
    assert unsafe_reason(tmp_path / "out", [tmp_path]) is None


def test_smooth_redact_and_the_hook_blank_the_suites_secrets(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_TOKEN", TOKEN)
    monkeypatch.setenv("TEST_HOOKED", HOOKED)
    hook = (
        "\nimport os\n\ndef pytest_smooth_redact(config):\n    return [os.environ['TEST_HOOKED']]\n"
    )
    pytester.makeconftest(CONFTEST + hook)
    pytester.makepyfile(
        test_secret="""
        import os

        def test_leaks(smooth_session, smooth_redact):
            token, hooked = os.environ["TEST_TOKEN"], os.environ["TEST_HOOKED"]
            smooth_redact(token)
            smooth_session.evaluate_js("(a) => a", args={"token": token, "hooked": hooked})
            print("printed:", token, hooked)
            assert token == hooked
        """
    )
    result = pytester.runpytest("-rA", "--junitxml=out.xml", "--html=report.html")
    result.assert_outcomes(failed=1)
    text = result.stdout.str()
    assert "***" in text
    outputs = [text] + [
        p.read_text(errors="replace") for p in pytester.path.rglob("*") if p.is_file()
    ]
    outputs = [o for o in outputs if "test_leaks" in o or "smooth" in o]
    for secret in (TOKEN, HOOKED):
        assert not [o[:80] for o in outputs if secret in o], secret
