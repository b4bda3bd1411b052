"""SmoothSettings: every ``--smooth-*`` option resolved once per run (CLI > ini > env > default).

Each option is a ``--smooth-*`` flag with ``default=None`` and a ``smooth_*`` ini key; a few also
read an environment variable. All values arrive as text and are parsed here, so a bad value from
any source is one ``pytest.UsageError`` that names the value, where it came from and what is valid.
"""

from __future__ import annotations

import importlib.util
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any
from typing import Final
from typing import Literal

import pytest

from pytest_smooth._core.constants import DEFAULT_BASE_URL
from pytest_smooth._core.constants import DEVICES
from pytest_smooth._core.constants import ENV_API_KEY
from pytest_smooth._core.constants import ENV_BACKEND
from pytest_smooth._core.constants import ENV_BASE_URL
from pytest_smooth._core.constants import ENV_BROWSER
from pytest_smooth.plugin.local_options import LOCAL_OPTIONS
from pytest_smooth.plugin.local_options import LOCAL_PARSERS

ENV_SCREENSHOT: Final = "SMOOTH_SCREENSHOT"
ENV_TRACING: Final = "SMOOTH_TRACING"
ENV_RECORDING: Final = "SMOOTH_RECORDING"
ENV_MAX_SESSIONS: Final = "SMOOTH_MAX_SESSIONS"
ENV_MAX_CREDITS: Final = "SMOOTH_MAX_CREDITS"
ENV_PROFILES_DIR: Final = "SMOOTH_PROFILES_DIR"

BACKENDS: Final = ("auto", "cloud", "local")
LINK_POLICIES: Final = ("none", "recording", "live")
DEFAULT_OUTPUT: Final = "smooth-results"
DEFAULT_EXPECT_TIMEOUT: Final = 5.0
SERVER_EXTRA_HINT: Final = "pip install 'pytest-smooth[server]'"
SCREENSHOT_MODES: Final = ("on", "off", "only-on-failure")
RETAIN_MODES: Final = ("on", "off", "retain-on-failure")

LinkPolicy = Literal["none", "recording", "live"]
ScreenshotMode = Literal["on", "off", "only-on-failure"]
RetainMode = Literal["on", "off", "retain-on-failure"]


@dataclass(frozen=True)
class _Option:
    """One option: its flag (``--smooth-<name>``), ini key (``smooth_<name>``) and env var."""

    name: str
    help: str
    env: str | None = None
    metavar: str = "VALUE"
    const: str | None = None  # a flag that may stand alone (``--smooth-local-strict``)

    @property
    def flag(self) -> str:
        return "--smooth-" + self.name.replace("_", "-")

    @property
    def ini(self) -> str:
        return "smooth_" + self.name


OPTIONS: Final = (
    _Option("apikey", "Smooth API key (never printed).", ENV_API_KEY, "KEY"),
    _Option("base_url", f"API base URL (default {DEFAULT_BASE_URL}).", ENV_BASE_URL, "URL"),
    _Option("backend", "auto (cloud with a key, else local), cloud or local.", ENV_BACKEND),
    _Option("device", "Session device: desktop, mobile or desktop-lg."),
    _Option("timeout", "Seconds one action may take before it fails the test.", None, "SECONDS"),
    _Option("output", f"Folder for per-test artifacts (default {DEFAULT_OUTPUT}).", None, "DIR"),
    _Option("report_links", "URLs in shared reports: none, recording (default) or live."),
    _Option(
        "keep_open_on_failure",
        "Seconds to keep a failed test's session open for a person (default 0).",
        None,
        "SECONDS",
    ),
    _Option("browser", "Local backend: Chromium path or ws:// / http:// endpoint.", ENV_BROWSER),
    _Option(
        "expect_timeout",
        f"Default timeout of expect() assertions, seconds (default {DEFAULT_EXPECT_TIMEOUT:g}).",
        None,
        "SECONDS",
    ),
    _Option("prewarm", "Sessions to open ahead of time (default 0).", None, "N"),
    _Option(
        "screenshot",
        "Local backend: screenshot.png on, off or only-on-failure (default).",
        ENV_SCREENSHOT,
        "MODE",
    ),
    _Option(
        "tracing",
        "Local backend: trace.zip with DOM snapshots on, off or retain-on-failure (default).",
        ENV_TRACING,
        "MODE",
    ),
    _Option(
        "recording",
        "Local backend: recording.html on, off or retain-on-failure (default).",
        ENV_RECORDING,
        "MODE",
    ),
    _Option(
        "max_sessions", "Sessions open at once, all workers (0: no cap).", ENV_MAX_SESSIONS, "N"
    ),
    _Option("max_credits", "Credit budget: then no new session, run fails.", ENV_MAX_CREDITS, "N"),
    _Option("profiles_dir", "Folder of smooth_profile's local profiles.", ENV_PROFILES_DIR, "DIR"),
    *(_Option(*args) for args in LOCAL_OPTIONS),
)


@dataclass(frozen=True)
class SmoothSettings:
    """The effective pytest-smooth configuration of one run. The API key is kept out of repr."""

    api_key: str | None = field(default=None, repr=False)
    base_url: str = DEFAULT_BASE_URL
    backend_option: Literal["auto", "cloud", "local"] = "auto"
    device: str | None = None
    timeout: float | None = None
    output: Path = Path(DEFAULT_OUTPUT)
    report_links: LinkPolicy = "recording"
    keep_open_on_failure: float = 0.0
    browser: str | None = None
    expect_timeout: float = DEFAULT_EXPECT_TIMEOUT
    prewarm: int = 0
    screenshot: ScreenshotMode = "only-on-failure"
    tracing: RetainMode = "retain-on-failure"
    recording: RetainMode = "retain-on-failure"
    local_strict: bool = False
    llm_url: str | None = field(default=None, repr=False)
    llm_model: str | None = None
    max_sessions: int = 0  # 0: no cap
    max_credits: float | None = None  # None: no budget
    profiles_dir: Path | None = None  # None: in the pytest cache (plugin/profile_store.py)

    def keeps(self, artifact: str, *, failed: bool) -> bool:
        """Whether ``artifact`` (screenshot, tracing, recording) is saved for this outcome."""
        mode: str = getattr(self, artifact)
        return mode == "on" or (failed and mode != "off")

    @property
    def backend(self) -> Literal["cloud", "local"]:
        """The backend in effect: ``auto`` means cloud when a key is set, else local."""
        if self.backend_option == "auto":
            return "cloud" if self.api_key else "local"
        return self.backend_option

    def __str__(self) -> str:
        return repr(self)

    def header(self) -> str:
        """Return the ``smooth:`` report-header line: effective settings, never the key."""
        base = "started on first use" if self.backend == "local" else self.base_url
        device = self.device or "desktop"
        key = "set" if self.api_key else "not set"
        return (
            f"smooth: backend={self.backend} ({self.backend_option}), base_url={base}, "
            f"device={device}, output={self.output}, report_links={self.report_links}, "
            f"screenshot={self.screenshot}, tracing={self.tracing}, "
            f"recording={self.recording}, apikey {key}"
            + (f", max_sessions={self.max_sessions}" if self.max_sessions else "")
            + ("" if self.max_credits is None else f", max_credits={self.max_credits:g}")
        )


def add_options(parser: pytest.Parser) -> None:
    """Register the ``smooth`` option group and its ini keys."""
    group = parser.getgroup("smooth", "pytest-smooth: browser tests on Smooth")
    for opt in OPTIONS:
        env = f" Env: {opt.env}." if opt.env else ""
        group.addoption(
            opt.flag, dest="smooth_" + opt.name, default=None, metavar=opt.metavar,
            help=opt.help + env, nargs="?" if opt.const else None, const=opt.const,
        )  # fmt: skip
        parser.addini(opt.ini, opt.help, type="string", default="")


def _raw(config: pytest.Config, opt: _Option) -> tuple[str, str] | None:
    """Return the first given value and where it came from, or None when the option is not set."""
    cli = config.getoption("smooth_" + opt.name, default=None)
    if cli is not None and str(cli) != "":
        return str(cli), opt.flag
    ini = config.getini(opt.ini)
    if isinstance(ini, str) and ini.strip():
        return ini.strip(), f"ini {opt.ini}"
    if opt.env:
        env = os.environ.get(opt.env, "").strip()
        if env:
            return env, f"env {opt.env}"
    return None


def _bad(value: str, source: str, valid: str) -> pytest.UsageError:
    return pytest.UsageError(
        f"pytest-smooth: invalid value {value!r} from {source}; valid: {valid}"
    )


def _choice(valid: tuple[str, ...]) -> Callable[[str, str], str]:
    def parse(value: str, source: str) -> str:
        if value not in valid:
            raise _bad(value, source, ", ".join(valid))
        return value

    return parse


def _number(what: str, *, allow_zero: bool) -> Callable[[str, str], float]:
    def parse(value: str, source: str) -> float:
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not math.isfinite(number) or number < 0 or (number == 0 and not allow_zero):
            raise _bad(value, source, f"{what} " + (">= 0" if allow_zero else "> 0"))
        return number

    return parse


def _seconds(*, allow_zero: bool) -> Callable[[str, str], float]:
    return _number("a number of seconds", allow_zero=allow_zero)


def _count(value: str, source: str) -> int:
    if not value.isdigit():
        raise _bad(value, source, "a whole number >= 0")
    return int(value)


def _url(value: str, source: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise _bad(value, source, "an http:// or https:// URL such as " + DEFAULT_BASE_URL)
    return value if value.endswith("/") else value + "/"


def _text(value: str, _source: str) -> str:
    return value


PARSERS: Final[dict[str, Callable[[str, str], Any]]] = {
    "apikey": _text,
    "base_url": _url,
    "backend": _choice(BACKENDS),
    "device": _choice(DEVICES),
    "timeout": _seconds(allow_zero=False),
    "output": lambda value, _source: Path(value),
    "report_links": _choice(LINK_POLICIES),
    "keep_open_on_failure": _seconds(allow_zero=True),
    "browser": _text,
    "expect_timeout": _seconds(allow_zero=False),
    "prewarm": _count,
    "screenshot": _choice(SCREENSHOT_MODES),
    "tracing": _choice(RETAIN_MODES),
    "recording": _choice(RETAIN_MODES),
    "max_sessions": _count,
    "max_credits": _number("a number of credits", allow_zero=True),
    "profiles_dir": lambda value, _source: Path(value),
    **LOCAL_PARSERS,
}

# Option name -> SmoothSettings field name (the rest match).
_FIELDS: Final = {"apikey": "api_key", "backend": "backend_option"}


def playwright_installed() -> bool:
    """Whether the ``server`` extra (Playwright) can be imported."""
    return importlib.util.find_spec("playwright") is not None


def resolve(config: pytest.Config) -> SmoothSettings:
    """Resolve every option once; raise ``pytest.UsageError`` on a bad value."""
    values: dict[str, Any] = {}
    for opt in OPTIONS:
        given = _raw(config, opt)
        if given is not None:
            values[_FIELDS.get(opt.name, opt.name)] = PARSERS[opt.name](*given)
    output = values.get("output", Path(DEFAULT_OUTPUT))
    values["output"] = config.invocation_params.dir / output
    settings = SmoothSettings(**values)
    if settings.backend_option == "local" and not playwright_installed():
        raise pytest.UsageError(
            "pytest-smooth: --smooth-backend=local needs Playwright; install it with "
            + SERVER_EXTRA_HINT
        )
    if settings.backend_option == "cloud" and not settings.api_key:
        raise pytest.UsageError(
            "pytest-smooth: --smooth-backend=cloud needs an API key: pass --smooth-apikey, "
            f"set ini smooth_apikey or env {ENV_API_KEY}"
        )
    return settings
