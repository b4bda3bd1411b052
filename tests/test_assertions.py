"""pytester: what a failing ``expect`` looks like in a real pytest run, pinned line by line.

The inner tests use a fake session and a fake clock (sleeps advance it), so attempts and
durations in the messages are exact.
"""

from __future__ import annotations

import pytest

from pytest_smooth.expect.attempts import default_timeout

# pytest-playwright's own soft-assertion scope cannot nest inside the outer run's.
ARGS = ("-p", "no:cacheprovider", "-p", "no:playwright")

PRELUDE = """
from __future__ import annotations

import pytest

from pytest_smooth.expect.attempts import default_timeout
from pytest_smooth.expect import attempts as _attempts
from pytest_smooth._core.models import ActionRecord
from pytest_smooth.plugin.assertions import assert_extract, assert_js, expect


class FakeClock(_attempts.Clock):
    def __init__(self):
        self.t = 0.0

    def now(self):
        return self.t

    def sleep(self, seconds):
        self.t += seconds

    async def asleep(self, seconds):
        self.t += seconds


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    fake = FakeClock()
    monkeypatch.setattr(_attempts, "CLOCK", fake)
    return fake


class FakeSession:
    id = "fake-1"

    def __init__(self, answers):
        self.answers = answers
        self.events = []

    def _answer(self, action, key):
        self.events.append(
            ActionRecord(action=action, input={"q": key}, outcome="ok", started_at=0, duration=0.02)
        )
        return self.answers[key]

    def evaluate_js(self, js, args=None, *, timeout=None):
        return self._answer("evaluate_js", js)

    def extract(self, schema, prompt=None, *, timeout=None):
        return self._answer("extract", getattr(schema, "__name__", "schema"))

    def close(self):
        pass


class AsyncFakeSession(FakeSession):
    async def evaluate_js(self, js, args=None, *, timeout=None):
        return self._answer("evaluate_js", js)

    async def extract(self, schema, prompt=None, *, timeout=None):
        return self._answer("extract", getattr(schema, "__name__", "schema"))

    async def close(self):
        pass


session = FakeSession({"document.title": "Loading", "cart()": {"items": ["a", "b"], "n": 2}})
"""


@pytest.fixture
def prelude(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    # pytest stops truncating diffs on CI (CI / BUILD_NUMBER set): pin the local behaviour.
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("BUILD_NUMBER", raising=False)
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    return pytester


def test_failure_message(prelude: pytest.Pytester) -> None:
    prelude.makepyfile(
        PRELUDE
        + """
def test_title():
    expect(session).js("document.title").to_equal("Shop", timeout=1)
"""
    )
    result = prelude.runpytest(*ARGS)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            '>       expect(session).js("document.title").to_equal("Shop", timeout=1)',
            "E       pytest_smooth.plugin.assertions.SmoothExpectationError: "
            "expect(session).js('document.title').to_equal('Shop')",
            "E       Timed out after 1.00 s (6 attempts; timeout 1 s from the matcher's timeout=).",
            "E       Expected: 'Shop'",
            "E       Received: 'Loading'",
            "E       Last 6 events of session fake-1:",
            "E         evaluate_js  ok         0.02 s  q='document.title'",
            "E       To wait longer, pass timeout=... to the matcher or to expect(...), or set "
            "smooth_expect_timeout (--smooth-expect-timeout); it was 1 s here.",
            "",
            "test_failure_message.py:*: SmoothExpectationError",
        ]
    )
    # Helper frames are hidden: the traceback ends at the test's own line.
    result.stdout.no_fnmatch_line("*_poll.py*")
    result.stdout.no_fnmatch_line("*__tracebackhide__*")
    result.stdout.no_fnmatch_line("*During handling*")


def test_diff_uses_pytest(prelude: pytest.Pytester) -> None:
    prelude.makepyfile(
        PRELUDE
        + """
def test_cart():
    expect(session, timeout=0.5).js("cart()").to_equal({"items": ["a", "c"], "n": 2})
"""
    )
    result = prelude.runpytest(*ARGS)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "E       Timed out after 0.50 s (5 attempts; "
            "timeout 0.5 s from expect(..., timeout=)).",
            "E       Expected: {'items': ['a', 'c'], 'n': 2}",
            "E       Received: {'items': ['a', 'b'], 'n': 2}",
            "E       Diff (- expected, + received):",
            "E         Omitting 1 identical items, use -vv to show",
            "E         Differing items:",
            "E         {'items': ['a', 'b']} != {'items': ['a', 'c']}",
            "E         Use -v to get more diff",
        ]
    )


def test_not_and_to_match_messages(prelude: pytest.Pytester) -> None:
    prelude.makepyfile(
        PRELUDE
        + """
def test_not():
    expect(session).js("document.title").not_.to_match_regex("^Load", timeout=0.2)

def test_match():
    expect(session, timeout=0).js("cart()").to_match({"items": ["a"], "total": 2})
"""
    )
    result = prelude.runpytest(*ARGS)
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        [
            "E       *SmoothExpectationError: "
            "expect(session).js('document.title').not_.to_match_regex('^Load')",
            "E       Timed out after 0.20 s (4 attempts; "
            "timeout 0.2 s from the matcher's timeout=).",
            "E       Expected: not a string matching /^Load/",
            "E       Received: 'Loading'",
            "*",
            "E       Timed out after 0.00 s (1 attempt; timeout 0 s from expect(..., timeout=)).",
            "E       Expected: matching {'items': ['a'], 'total': 2}",
            "E       Received: {'items': ['a', 'b'], 'n': 2}",
            "E       Mismatch:",
            "E         ['items']: expected 1 items, got 2",
            "E         ['total']: missing (expected 2)",
        ]
    )


SOFT = """
def test_soft():
    expect.soft(session, timeout=0.1).js("document.title").to_equal("Shop")
    expect.soft(session, timeout=0.1).js("document.title").to_contain("Load")
    expect.soft(session, timeout=0.1).js("cart()").to_match({"n": 3})
    reached_the_end = True
"""


def test_soft_failures_are_reported_together(prelude: pytest.Pytester) -> None:
    prelude.makepyfile(test_soft=PRELUDE + SOFT)
    result = prelude.runpytest(*ARGS)
    result.assert_outcomes(failed=1)
    line = PRELUDE.count("\n") + 2
    # The traceback points at the first soft failure's line, in the test's own source.
    result.stdout.fnmatch_lines(
        [
            "    def test_soft():",
            '>       expect.soft(session, timeout=0.1).js("document.title").to_equal("Shop")',
            "E       pytest_smooth.plugin.assertions.SmoothSoftExpectationsError: "
            "2 soft expectations failed:",
            "E       ",
            f"E       [[]1] at test_soft.py:{line}",
            "E           expect.soft(session).js('document.title').to_equal('Shop')",
            "E           Timed out after 0.10 s (3 attempts; "
            "timeout 0.1 s from expect(..., timeout=)).",
            "*",
            f"E       [[]2] at test_soft.py:{line + 2}",
            "E           expect.soft(session).js('cart()').to_match({'n': 3})",
            "*",
            "E           Mismatch: ['n']: expected 3, got 2",
            "*",
            f"test_soft.py:{line}: SmoothSoftExpectationsError",
        ]
    )
    result.stdout.no_fnmatch_line("*All traceback entries are hidden*")


def test_soft_failures_next_to_a_hard_one(prelude: pytest.Pytester) -> None:
    prelude.makepyfile(test_soft=PRELUDE + SOFT + "    assert reached_the_end is False\n")
    result = prelude.runpytest(*ARGS)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "E       assert True is False",
            "*- Captured smooth soft expectations call -*",
            "2 soft expectations failed:",
        ]
    )


def test_soft_in_an_async_test(prelude: pytest.Pytester) -> None:
    prelude.makepyfile(
        PRELUDE
        + """
@pytest.mark.asyncio
async def test_async_soft():
    s = AsyncFakeSession(session.answers)
    await expect.soft(s, timeout=0.1).js("document.title").to_equal("Shop")
    await expect.soft(s, timeout=0.1).js("document.title").to_equal("Loading")
    await expect.soft(s, timeout=0.1).js("cart()").to_be_truthy()
    await expect.soft(s, timeout=0.1).js("cart()").not_.to_be_truthy()

@pytest.mark.asyncio
async def test_async_passes():
    s = AsyncFakeSession(session.answers)
    await expect.soft(s).js("document.title").to_equal("Loading")
    await expect(s).js("document.title").not_.to_equal("Shop")
"""
    )
    result = prelude.runpytest(*ARGS)
    result.assert_outcomes(failed=1, passed=1)
    line = PRELUDE.count("\n") + 4
    result.stdout.fnmatch_lines(
        [
            '>       await expect.soft(s, timeout=0.1).js("document.title").to_equal("Shop")',
            "*",
            "E       *SmoothSoftExpectationsError: 2 soft expectations failed:",
            f"E       [[]1] at test_soft_in_an_async_test.py:{line}",
            "E           expect.soft(session).js('document.title').to_equal('Shop')",
            f"E       [[]2] at test_soft_in_an_async_test.py:{line + 3}",
            "E           expect.soft(session).js('cart()').not_.to_be_truthy()",
        ]
    )


def test_one_shot_helpers_show_pytest_diffs(prelude: pytest.Pytester) -> None:
    # A subprocess, so pytest_smooth.plugin.assertions is imported (and rewritten) afresh.
    prelude.makepyfile(
        PRELUDE
        + """
from pydantic import BaseModel

class Cart(BaseModel):
    items: list[str]
    n: int

def test_js():
    assert_js(session, "document.title", "Shop")

def test_extract():
    s = FakeSession({"Cart": Cart(items=["a", "b"], n=2)})
    assert_extract(s, Cart, {"items": ["a", "c"], "n": pytest.approx(2)})

def test_passing():
    assert_js(session, "document.title", "Loading")
    s = FakeSession({"Cart": Cart(items=["a"], n=2)})
    assert_extract(s, Cart, {"items": ["a"], "n": 2})
    assert_extract(s, Cart, Cart(items=["a"], n=2))

@pytest.mark.asyncio
async def test_async():
    await assert_js(AsyncFakeSession(session.answers), "document.title", "Shop")
"""
    )
    result = prelude.runpytest_subprocess(*ARGS)
    result.assert_outcomes(failed=3, passed=1)
    result.stdout.fnmatch_lines(
        [
            "E       AssertionError: evaluate_js('document.title') returned an unexpected value",
            "E       assert 'Loading' == 'Shop'",
            "*",
            "E       AssertionError: extract(Cart) returned an unexpected value",
            "E       assert {'items': ['a', 'b'], 'n': 2} == {'items': ['a...: 2 ± 2.0e-06}",
            "E         ",
            "E         Omitting 1 identical items, use -vv to show",
            "E         Differing items:",
            "E         {'items': ['a', 'b']} != {'items': ['a', 'c']}",
        ]
    )


def test_suite_default_timeout_from_ini_and_cli(prelude: pytest.Pytester) -> None:
    prelude.makeini(
        "[pytest]\nasyncio_default_fixture_loop_scope = function\nsmooth_expect_timeout = 0.3\n"
    )
    prelude.makepyfile(
        PRELUDE
        + """
def test_title():
    expect(session).js("document.title").to_equal("Shop")
"""
    )
    before = default_timeout()
    result = prelude.runpytest(*ARGS)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["E       Timed out after 0.30 s (4 attempts; timeout 0.3 s from smooth_expect_timeout)."]
    )
    result = prelude.runpytest(*ARGS, "--smooth-expect-timeout=0.1")
    result.stdout.fnmatch_lines(
        ["E       Timed out after 0.10 s (3 attempts; timeout 0.1 s from smooth_expect_timeout)."]
    )
    # The inner runs leave this run's default as it was.
    assert default_timeout() == before


def test_a_closed_session_stops_at_once_without_helper_frames(prelude: pytest.Pytester) -> None:
    prelude.makepyfile(
        PRELUDE
        + """
from pytest_smooth import SessionClosedError

class Closed(FakeSession):
    def evaluate_js(self, js, args=None, *, timeout=None):
        self.calls = getattr(self, "calls", 0) + 1
        raise SessionClosedError("session fake-1 is closed")

def test_closed():
    closed = Closed({})
    try:
        expect(closed).js("document.title").to_equal("Shop")
    finally:
        assert closed.calls == 1
"""
    )
    result = prelude.runpytest(*ARGS)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            '>           expect(closed).js("document.title").to_equal("Shop")',
            "*",
            '>       raise SessionClosedError("session fake-1 is closed")',
            "E       pytest_smooth._core.exceptions.SessionClosedError: session fake-1 is closed",
        ]
    )
    for helper in ("_poll.py", "_sources.py", "_expect.py", "_attempts.py"):
        result.stdout.no_fnmatch_line(f"*{helper}*")
