"""The plugin's fidelity and LLM options, and local runs that warn, fail strictly, or go remote."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pytest_smooth.server.browser.discovery import BrowserNotFoundError
from pytest_smooth.server.browser.discovery import find_browser
from tests.fixtures_server import StaticSite
from tests.plugin_helpers import clean_env
from tests.plugin_helpers import write_ini

RUN_TIMEOUT = 300  # seconds for one inner run; the machine may be busy
SHOP = """<!doctype html><html><body>
<div class="product"><h2>Lamp</h2><span class="price">$30</span></div>
<div class="product"><h2>Chair</h2><span class="price">$10</span></div>
<div class="product"><h2>Desk</h2><span class="price">$120</span></div>
</body></html>"""


@pytest.fixture(autouse=True)
def _inner(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    clean_env(monkeypatch)
    monkeypatch.delenv("SMOOTH_LOCAL_STRICT", raising=False)
    monkeypatch.delenv("SMOOTH_LLM_API_KEY", raising=False)
    cache = Path.home() / ".cache" / "ms-playwright"
    if "PLAYWRIGHT_BROWSERS_PATH" not in os.environ and cache.is_dir():
        monkeypatch.setenv("PLAYWRIGHT_BROWSERS_PATH", str(cache))
    write_ini(pytester)


# --- options (in-process, no browser) ------------------------------------------------------

SETTINGS_TEST = """
def test_settings(smooth_settings):
    print("STRICT", smooth_settings.local_strict, "LLM", smooth_settings.llm_url,
          smooth_settings.llm_model)
"""


@pytest.mark.parametrize(
    ("args", "ini", "env", "expected"),
    [
        ((), {}, {}, "STRICT False LLM None None"),
        (("--smooth-local-strict",), {}, {}, "STRICT True LLM None None"),
        (("--smooth-local-strict=false",), {"smooth_local_strict": "true"}, {}, "STRICT False"),
        ((), {"smooth_local_strict": "true"}, {}, "STRICT True"),
        ((), {}, {"SMOOTH_LOCAL_STRICT": "1"}, "STRICT True"),
        (
            ("--smooth-llm-url=http://127.0.0.1:11434/v1", "--smooth-llm-model=tiny"),
            {},
            {},
            "STRICT False LLM http://127.0.0.1:11434/v1 tiny",
        ),
        ((), {}, {"SMOOTH_LLM_URL": "http://h/v1", "SMOOTH_LLM_MODEL": "m"}, "LLM http://h/v1 m"),
    ],
)
def test_the_options_resolve_cli_ini_env(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    args: tuple[str, ...],
    ini: dict[str, str],
    env: dict[str, str],
    expected: str,
) -> None:
    write_ini(pytester, **ini)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    pytester.makepyfile(SETTINGS_TEST)
    result = pytester.runpytest("-s", *args)
    result.assert_outcomes(passed=1)
    assert expected in result.stdout.str()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--smooth-local-strict=maybe",), "invalid value 'maybe' from --smooth-local-strict"),
        (("--smooth-llm-url=ftp://x",), "invalid value 'ftp://x' from --smooth-llm-url"),
    ],
)
def test_a_bad_value_is_a_usage_error(
    pytester: pytest.Pytester, args: tuple[str, ...], message: str
) -> None:
    pytester.makepyfile(SETTINGS_TEST)
    result = pytester.runpytest(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert message in result.stderr.str()


def test_the_llm_key_is_no_option(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--help")
    assert "--smooth-llm-url" in result.stdout.str()
    assert "SMOOTH_LLM_API_KEY" not in result.stdout.str().split("--smooth-llm-url")[0]
    assert "--smooth-llm-api-key" not in result.stdout.str()


def test_the_local_server_gets_the_llm_options(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makeconftest(
        """
import pytest_smooth.plugin.shared_backend as shared

def recorder(spec, log):
    print("SERVICE", sorted((k, v) for k, v in spec.items() if k != "api_key"))
    raise SystemExit(0)

shared.launch_service = recorder
"""
    )
    monkeypatch.setenv("SMOOTH_LLM_API_KEY", "sk-secret")
    pytester.makepyfile("def test_server(smooth_server):\n    pass\n")
    try:
        find_browser()
    except BrowserNotFoundError as exc:
        pytest.skip(f"no browser: {exc}")
    # In a subprocess: the conftest replaces the backend's launch in the package for good.
    result = pytester.runpytest_subprocess(
        "-s", "--smooth-llm-url=http://127.0.0.1:9/v1", "--smooth-llm-model=tiny"
    )
    out = result.stdout.str()
    assert "('llm_model', 'tiny')" in out
    assert "('llm_url', 'http://127.0.0.1:9/v1')" in out
    assert "sk-secret" not in out


# --- local runs on Chromium (subprocess) ---------------------------------------------------


@pytest.fixture(scope="module")
def shop_url(static_site: StaticSite) -> str:
    try:
        find_browser()
    except BrowserNotFoundError as exc:
        pytest.skip(f"no browser for the local backend: {exc}")
    return static_site.page("fidelity/shop.html", SHOP)


def shop_module(url: str) -> str:
    return f"""
from pydantic import BaseModel

class Product(BaseModel):
    name: str
    price: float

def test_cheapest(smooth_session):
    smooth_session.goto({url!r})
    assert smooth_session.extract(Product, prompt="the cheapest product").name == "Chair"

def test_gift(smooth_session):
    smooth_session.goto({url!r})
    assert smooth_session.extract(Product, prompt="the best gift for my mum").name
"""


@pytest.mark.browser
def test_an_approximation_is_in_the_warnings_summary_naming_the_test(
    pytester: pytest.Pytester, shop_url: str
) -> None:
    pytester.makepyfile(test_shop=shop_module(shop_url))
    result = pytester.runpytest_subprocess(timeout=RUN_TIMEOUT)
    result.assert_outcomes(passed=2, warnings=1)
    result.stdout.fnmatch_lines(
        [
            "*warnings summary*",
            "test_shop.py::test_gift",
            "*SmoothFidelityWarning: test_shop.py::test_gift (session task_*): extract on the"
            " local backend is an approximation (prompt: 'the best gift for my mum'*",
        ]
    )
    assert "test_cheapest" not in result.stdout.str().split("warnings summary")[1]


@pytest.mark.browser
@pytest.mark.parametrize("how", ["--smooth-local-strict", "ini", "-W"])
def test_strict_mode_fails_the_test(pytester: pytest.Pytester, shop_url: str, how: str) -> None:
    pytester.makepyfile(test_shop=shop_module(shop_url))
    args: list[str] = []
    if how == "ini":
        write_ini(pytester, smooth_local_strict="true")
    elif how == "-W":
        args = ["-W", "error::pytest_smooth.SmoothFidelityWarning"]
    else:
        args = [how]
    result = pytester.runpytest_subprocess(*args, timeout=RUN_TIMEOUT)
    result.assert_outcomes(passed=1, failed=1)
    error = "SmoothFidelityWarning" if how == "-W" else "SmoothFidelityError"
    result.stdout.fnmatch_lines([f"E *{error}: test_shop.py::test_gift (session *): extract*"])
    result.stdout.fnmatch_lines(["FAILED test_shop.py::test_gift - *"])


@pytest.mark.browser
def test_a_plugin_run_through_ws_to_playwright_launch_server(
    pytester: pytest.Pytester, shop_url: str, launch_server: str
) -> None:
    pytester.makepyfile(test_shop=shop_module(shop_url).split("def test_gift")[0])
    result = pytester.runpytest_subprocess(
        f"--smooth-browser={launch_server}", "-v", timeout=RUN_TIMEOUT
    )
    result.assert_outcomes(passed=1)
