"""Settings: CLI > ini > env > default for every option, and UsageError texts (pytester)."""

from __future__ import annotations

import pytest

from pytest_smooth.plugin.settings import SmoothSettings
from tests.plugin_helpers import clean_env
from tests.plugin_helpers import write_ini


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    clean_env(monkeypatch)


def check_field(pytester: pytest.Pytester, field: str, expected: object, *args: str) -> None:
    """Run an inner test asserting ``smooth_settings.<field> == expected``."""
    check_fields(pytester, {field: expected}, *args)


def check_fields(pytester: pytest.Pytester, expected: dict[str, object], *args: str) -> None:
    """Run one inner test per field, each asserting ``smooth_settings.<field> == value``."""
    pytester.makepyfile(
        f"""
        import pytest

        @pytest.mark.parametrize(("field", "value"), {sorted(expected.items())!r})
        def test_value(smooth_settings, field, value):
            got = getattr(smooth_settings, field)
            assert (str(got) if field == "output" else got) == value
        """
    )
    result = pytester.runpytest(*args)
    result.assert_outcomes(passed=len(expected))


# option name, settings field, env var (or None), raw values for CLI / ini / env, parsed values
CASES: list[tuple[str, str, str | None, list[str], list[object] | None]] = [
    ("apikey", "api_key", "CIRCLEMIND_API_KEY", ["cli-key-1", "ini-key-2", "env-key-3"], None),
    (
        "base_url",
        "base_url",
        "SMOOTH_BASE_URL",
        ["http://cli.example/api/", "http://ini.example/api/", "http://env.example/api"],
        ["http://cli.example/api/", "http://ini.example/api/", "http://env.example/api/"],
    ),
    ("backend", "backend_option", "SMOOTH_BACKEND", ["local", "cloud", "auto"], None),
    ("device", "device", None, ["mobile", "desktop-lg", "-"], None),
    ("timeout", "timeout", None, ["7", "8.5", "-"], [7.0, 8.5]),
    ("report_links", "report_links", None, ["none", "live", "-"], None),
    ("keep_open_on_failure", "keep_open_on_failure", None, ["0", "12", "-"], [0.0, 12.0]),
    ("browser", "browser", "SMOOTH_BROWSER", ["/cli/chrome", "/ini/chrome", "/env/chrome"], None),
    ("expect_timeout", "expect_timeout", None, ["1.5", "2", "-"], [1.5, 2.0]),
    ("prewarm", "prewarm", None, ["3", "4", "-"], [3, 4]),
    ("screenshot", "screenshot", "SMOOTH_SCREENSHOT", ["on", "off", "only-on-failure"], None),
    ("tracing", "tracing", "SMOOTH_TRACING", ["off", "on", "retain-on-failure"], None),
    ("recording", "recording", "SMOOTH_RECORDING", ["on", "retain-on-failure", "off"], None),
    ("max_sessions", "max_sessions", "SMOOTH_MAX_SESSIONS", ["2", "5", "50"], [2, 5, 50]),
    ("max_credits", "max_credits", "SMOOTH_MAX_CREDITS", ["10", "0", "2.5"], [10.0, 0.0, 2.5]),
]
DEFAULTS: dict[str, object] = {
    "api_key": None,
    "base_url": "https://api.smooth.sh/api/",
    "backend_option": "auto",
    "device": None,
    "timeout": None,
    "report_links": "recording",
    "keep_open_on_failure": 0.0,
    "browser": None,
    "expect_timeout": 5.0,
    "prewarm": 0,
    "screenshot": "only-on-failure",
    "tracing": "retain-on-failure",
    "recording": "retain-on-failure",
    "max_sessions": 0,
    "max_credits": None,
}
LEVELS = ["cli", "ini", "env", "default"]


@pytest.mark.parametrize("level", LEVELS)
def test_precedence(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, level: str) -> None:
    """Set every option on ``level`` and on every level below it; ``level`` must win."""
    rank = LEVELS.index(level)
    args: list[str] = []
    ini: dict[str, str] = {}
    expected: dict[str, object] = {}
    for name, field, env, raw, parsed in CASES:
        values = parsed or raw
        if rank <= 0:
            args.append("--smooth-" + name.replace("_", "-") + "=" + raw[0])
        if rank <= 1:
            ini["smooth_" + name] = raw[1]
        if rank <= 2 and env:
            monkeypatch.setenv(env, raw[2])
        if rank < 2 or (rank == 2 and env):
            expected[field] = values[rank]
        else:
            expected[field] = DEFAULTS[field]
    write_ini(pytester, **ini)
    check_fields(pytester, expected, *args)


def test_output_is_resolved_against_the_invocation_dir(pytester: pytest.Pytester) -> None:
    write_ini(pytester, smooth_output="from-ini")
    check_field(pytester, "output", str(pytester.path / "cli-out"), "--smooth-output=cli-out")
    check_field(pytester, "output", str(pytester.path / "from-ini"))
    write_ini(pytester)
    check_field(pytester, "output", str(pytester.path / "smooth-results"))


@pytest.mark.parametrize(
    ("arg", "shown", "valid"),
    [
        ("--smooth-device=tablet", "'tablet' from --smooth-device", "desktop, mobile, desktop-lg"),
        ("--smooth-backend=cluod", "'cluod' from --smooth-backend", "auto, cloud, local"),
        ("--smooth-report-links=all", "'all' from --smooth-report-links", "none, recording, live"),
        ("--smooth-timeout=0", "'0' from --smooth-timeout", "a number of seconds > 0"),
        ("--smooth-timeout=soon", "'soon' from --smooth-timeout", "a number of seconds > 0"),
        ("--smooth-keep-open-on-failure=-1", "'-1'", "a number of seconds >= 0"),
        ("--smooth-expect-timeout=inf", "'inf' from --smooth-expect-timeout", "seconds > 0"),
        ("--smooth-prewarm=two", "'two' from --smooth-prewarm", "a whole number >= 0"),
        ("--smooth-base-url=api.smooth.sh", "'api.smooth.sh'", "an http:// or https:// URL"),
        ("--smooth-screenshot=always", "'always'", "on, off, only-on-failure"),
        ("--smooth-tracing=retain", "'retain' from --smooth-tracing", "on, off, retain-on-failure"),
        ("--smooth-recording=yes", "'yes' from --smooth-recording", "on, off, retain-on-failure"),
        ("--smooth-max-sessions=-1", "'-1' from --smooth-max-sessions", "a whole number >= 0"),
        ("--smooth-max-credits=lots", "'lots' from --smooth-max-credits", "credits >= 0"),
    ],
)
def test_bad_cli_value_is_a_usage_error(
    pytester: pytest.Pytester, arg: str, shown: str, valid: str
) -> None:
    write_ini(pytester)
    pytester.makepyfile("def test_nothing(): pass")
    result = pytester.runpytest(arg)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: pytest-smooth: invalid value {shown}*valid: *{valid}*"])


def test_bad_ini_and_env_values_name_their_source(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_ini(pytester, smooth_device="watch")
    pytester.makepyfile("def test_nothing(): pass")
    result = pytester.runpytest()
    result.stderr.fnmatch_lines(["*invalid value 'watch' from ini smooth_device; valid: desktop*"])
    write_ini(pytester)
    monkeypatch.setenv("SMOOTH_BACKEND", "remote")
    result = pytester.runpytest()
    result.stderr.fnmatch_lines(["*invalid value 'remote' from env SMOOTH_BACKEND; valid: auto*"])
    monkeypatch.delenv("SMOOTH_BACKEND")
    monkeypatch.setenv("SMOOTH_TRACING", "sometimes")
    result = pytester.runpytest()
    result.stderr.fnmatch_lines(
        ["*invalid value 'sometimes' from env SMOOTH_TRACING; valid: on, off, retain-on-failure"]
    )


def test_cloud_without_a_key_is_a_usage_error(pytester: pytest.Pytester) -> None:
    write_ini(pytester)
    pytester.makepyfile("def test_nothing(): pass")
    result = pytester.runpytest("--smooth-backend=cloud")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--smooth-backend=cloud needs an API key*CIRCLEMIND_API_KEY*"])


def test_local_without_playwright_names_the_extra(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("pytest_smooth.plugin.settings.playwright_installed", lambda: False)
    write_ini(pytester)
    pytester.makepyfile("def test_nothing(): pass")
    result = pytester.runpytest("--smooth-backend=local")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "needs Playwright; install it with pip install 'pytest-smooth[server]'" in str(
        result.stderr
    )


def test_auto_backend_follows_the_key() -> None:
    assert SmoothSettings().backend == "local"
    assert SmoothSettings(api_key="k-123456").backend == "cloud"
    assert SmoothSettings(api_key="k-123456", backend_option="local").backend == "local"


def test_api_key_never_in_repr_str_or_header(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = SmoothSettings(api_key="sk-very-secret-123")
    for text in (repr(settings), str(settings), settings.header()):
        assert "sk-very-secret-123" not in text
    monkeypatch.setenv("CIRCLEMIND_API_KEY", "sk-very-secret-123")
    write_ini(pytester)
    pytester.makepyfile("def test_nothing(smooth_settings): print(smooth_settings)")
    result = pytester.runpytest("-s", "-v")
    result.assert_outcomes(passed=1)
    assert "sk-very-secret-123" not in result.stdout.str() + result.stderr.str()


def test_report_header_line(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIRCLEMIND_API_KEY", "sk-header-secret")
    write_ini(pytester, smooth_device="mobile")
    pytester.makepyfile("def test_nothing(): pass")
    result = pytester.runpytest("--smooth-base-url=http://h.example/api/", "--smooth-output=out")
    result.stdout.fnmatch_lines(
        [
            "smooth: backend=cloud (auto), base_url=http://h.example/api/, device=mobile, "
            f"output={pytester.path / 'out'}, report_links=recording, "
            "screenshot=only-on-failure, tracing=retain-on-failure, recording=retain-on-failure, "
            "apikey set"
        ]
    )
    assert "sk-header-secret" not in result.stdout.str()
    assert len([ln for ln in result.outlines if ln.startswith("smooth:")]) == 1


def test_help_works_with_a_bad_value_in_the_environment(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMOOTH_BACKEND", "bogus")
    write_ini(pytester)
    result = pytester.runpytest("--help")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*--smooth-backend=VALUE*"])
