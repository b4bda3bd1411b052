"""The pure core of ``expect``: polling, timeouts, errors, matchers, soft mode, cross-checks.

A fake clock replaces real time (sleeps advance it), and small fake sessions answer from the
fake time, so every test is deterministic. Each polling test runs on a sync and an async
session, which must behave alike.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import pickle
import re
from collections.abc import Callable
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from pydantic import BaseModel

from pytest_smooth._core.exceptions import AuthenticationError
from pytest_smooth._core.exceptions import SessionClosedError
from pytest_smooth._core.exceptions import SmoothActionError
from pytest_smooth._core.exceptions import SmoothTimeoutError
from pytest_smooth._core.models import ActionRecord
from pytest_smooth.expect import attempts as _attempts
from pytest_smooth.expect import matchers as m
from pytest_smooth.expect import messages as _messages
from pytest_smooth.expect.attempts import SmoothExpectationError
from pytest_smooth.expect.attempts import SmoothSoftExpectationsError
from pytest_smooth.expect.attempts import collect_soft_failures
from pytest_smooth.expect.attempts import configure_expect
from pytest_smooth.expect.attempts import default_timeout
from pytest_smooth.expect.entry import AsyncExpect
from pytest_smooth.expect.entry import Expect
from pytest_smooth.expect.entry import expect

Answer = Callable[[Any, float], Any]


class FakeClock(_attempts.Clock):
    """Time that moves only when the code under test sleeps."""

    def __init__(self) -> None:
        self.t = 0.0
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += seconds

    async def asleep(self, seconds: float) -> None:
        self.sleep(seconds)


class FakeSession:
    """A sync session whose answers are functions of (input, fake time)."""

    def __init__(self, clock: FakeClock, js: Answer | None, extract: Answer | None) -> None:
        self.id = "fake-1"
        self.clock = clock
        self.answers = {"evaluate_js": js, "extract": extract}
        self.calls: list[tuple[str, Any, float]] = []
        self.events: list[ActionRecord] = []

    def _answer(self, action: str, what: Any, timeout: float) -> Any:
        self.calls.append((action, what, timeout))
        record = ActionRecord(action=action, input={"q": str(what)}, started_at=self.clock.t)
        self.events.append(record)
        answer = self.answers[action]
        assert answer is not None, f"unexpected {action}"
        try:
            value = answer(what, self.clock.t)
        except Exception as exc:
            record.outcome, record.error, record.duration = "error", str(exc), 0.01
            raise
        record.outcome, record.duration = "ok", 0.01
        return value

    def evaluate_js(self, js: str, args: Any = None, *, timeout: float = 60.0) -> Any:
        del args  # the answers ignore it
        return self._answer("evaluate_js", js, timeout)

    def extract(self, schema: Any, prompt: str | None = None, *, timeout: float = 60.0) -> Any:
        del prompt
        return self._answer("extract", schema, timeout)

    def close(self) -> None:
        pass


class AsyncFakeSession(FakeSession):
    """The async twin: the same answers, awaited."""

    async def evaluate_js(self, js: str, args: Any = None, *, timeout: float = 60.0) -> Any:
        del args
        return self._answer("evaluate_js", js, timeout)

    async def extract(
        self, schema: Any, prompt: str | None = None, *, timeout: float = 60.0
    ) -> Any:
        del prompt
        return self._answer("extract", schema, timeout)

    async def close(self) -> None:  # type: ignore[override]
        pass


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(_attempts, "CLOCK", fake)
    return fake


@pytest.fixture(autouse=True)
def _default_timeout() -> Iterator[None]:
    before = default_timeout()
    yield
    configure_expect(default_timeout=before)


@pytest.fixture(params=["sync", "async"])
def make(request: pytest.FixtureRequest, clock: FakeClock) -> Callable[..., FakeSession]:
    cls = FakeSession if request.param == "sync" else AsyncFakeSession

    def factory(js: Answer | None = None, extract: Answer | None = None) -> FakeSession:
        return cls(clock, js, extract)

    return factory


def run(result: Any) -> None:
    """Wait for a matcher: sync ones are done already, async ones run on a fresh loop."""
    __tracebackhide__ = True
    if inspect.iscoroutine(result):
        asyncio.run(result)
    else:
        assert result is None


def title_after(delay: float, before: str = "Loading", after: str = "Shop") -> Answer:
    return lambda _js, t: after if t >= delay else before


def fail(**kwargs: Any) -> Answer:
    def answer(_what: Any, _t: float) -> Any:
        raise SmoothActionError("TypeError: Cannot read properties of null", action="x", **kwargs)

    return answer


# --- polling -------------------------------------------------------------------------------------


def test_passes_once_the_value_arrives(make: Callable[..., FakeSession], clock: FakeClock) -> None:
    session = make(js=title_after(0.5))
    run(expect(session).js("document.title").to_equal("Shop"))
    assert clock.sleeps == [0.05, 0.1, 0.2, 0.4]
    assert len(session.calls) == 5


def test_backoff_is_capped_and_the_last_wait_ends_at_the_deadline(
    make: Callable[..., FakeSession], clock: FakeClock
) -> None:
    session = make(js=title_after(99))
    with pytest.raises(SmoothExpectationError) as info:
        run(expect(session).js("document.title").to_equal("Shop", timeout=4.0))
    assert clock.sleeps == pytest.approx([0.05, 0.1, 0.2, 0.4, 0.8, 1.0, 1.0, 0.45])
    assert clock.t == pytest.approx(4.0)
    assert info.value.attempts == 9
    assert info.value.received == "Loading"


def test_each_attempt_gets_the_time_left_with_a_floor(
    make: Callable[..., FakeSession], clock: FakeClock
) -> None:
    session = make(js=title_after(99))
    with pytest.raises(SmoothExpectationError):
        run(expect(session).js("document.title").to_equal("Shop", timeout=4.0))
    timeouts = [timeout for _, _, timeout in session.calls]
    assert timeouts == pytest.approx([4.0, 3.95, 3.85, 3.65, 3.25, 2.45, 2.0, 2.0, 2.0])
    assert clock.t == pytest.approx(4.0)


def test_timeout_zero_makes_one_attempt(make: Callable[..., FakeSession]) -> None:
    session = make(js=title_after(99))
    with pytest.raises(SmoothExpectationError, match=r"\(1 attempt; timeout 0 s"):
        run(expect(session).js("document.title").to_equal("Shop", timeout=0))
    assert len(session.calls) == 1


def test_timeout_precedence(make: Callable[..., FakeSession], clock: FakeClock) -> None:
    session = make(js=title_after(99))
    configure_expect(default_timeout=0.3)
    with pytest.raises(SmoothExpectationError, match=r"timeout 0\.3 s from smooth_expect_timeout"):
        run(expect(session).js("1").to_equal("Shop"))
    assert clock.t == pytest.approx(0.3)
    with pytest.raises(
        SmoothExpectationError, match=r"timeout 0.2 s from expect\(\.\.\., timeout=\)"
    ):
        run(expect(session, timeout=0.2).js("1").to_equal("Shop"))
    with pytest.raises(SmoothExpectationError, match=r"timeout 0\.1 s from the matcher's timeout="):
        run(expect(session, timeout=0.2).js("1").to_equal("Shop", timeout=0.1))


def test_bad_timeouts_are_rejected(make: Callable[..., FakeSession]) -> None:
    with pytest.raises(ValueError, match="default_timeout must be >= 0, got -1"):
        configure_expect(default_timeout=-1)
    with pytest.raises(ValueError, match="timeout must be >= 0 seconds, got -2"):
        expect(make(), timeout=-2)


def test_action_errors_are_failed_attempts(make: Callable[..., FakeSession]) -> None:
    def late_element(_js: Any, t: float) -> Any:
        if t < 0.3:
            raise SmoothActionError("TypeError: document.querySelector(...) is null", action="js")
        return "ok"

    session = make(js=late_element)
    run(expect(session).js("document.querySelector('h1').textContent").to_equal("ok"))
    assert len(session.calls) == 4


@pytest.mark.parametrize(
    "error", [SmoothTimeoutError("evaluate_js did not finish within 0.5 s"), fail()]
)
def test_last_error_is_shown(make: Callable[..., FakeSession], error: Any) -> None:
    def answer(_js: Any, _t: float) -> Any:
        if isinstance(error, Exception):
            raise error
        return error(_js, _t)

    session = make(js=answer)
    with pytest.raises(SmoothExpectationError) as info:
        run(expect(session, timeout=0.2).js("x").to_equal(1))
    text = str(info.value)
    assert "Received: nothing (every attempt raised an error)" in text
    assert re.search(r"Last error \(last attempt\): Smooth\w+Error: ", text)
    assert isinstance(info.value.last_error, (SmoothActionError, SmoothTimeoutError))


def test_an_old_error_names_its_attempt(make: Callable[..., FakeSession]) -> None:
    def answer(_js: Any, t: float) -> Any:
        if t == 0:
            raise SmoothActionError("ReferenceError: app is not defined", action="evaluate_js")
        return "Loading"

    with pytest.raises(SmoothExpectationError) as info:
        run(expect(make(js=answer), timeout=0.2).js("app.title").to_equal("Shop"))
    assert "Last error (attempt 1): SmoothActionError: ReferenceError: app is not defined" in str(
        info.value
    )
    assert "Received: 'Loading'" in str(info.value)


@pytest.mark.parametrize(
    "error",
    [SessionClosedError("the session is closed"), AuthenticationError("bad key", status_code=401)],
)
def test_fatal_errors_stop_at_once(make: Callable[..., FakeSession], error: Exception) -> None:
    def answer(_js: Any, _t: float) -> Any:
        raise error

    session = make(js=answer)
    with pytest.raises(type(error)):
        run(expect(session).js("x").to_equal(1))
    assert len(session.calls) == 1


def test_not_(make: Callable[..., FakeSession]) -> None:
    session = make(js=title_after(0.2, before="Shop", after="Checkout"))
    run(expect(session).js("document.title").not_.to_equal("Shop"))
    with pytest.raises(SmoothExpectationError) as info:
        run(expect(session, timeout=0.1).js("document.title").not_.to_contain("Check"))
    text = str(info.value)
    assert text.startswith("expect(session).js('document.title').not_.to_contain('Check')\n")
    assert "Expected: not containing 'Check'\nReceived: 'Checkout'" in text


def test_not_not_cancels_out(make: Callable[..., FakeSession]) -> None:
    run(expect(make(js=title_after(0))).js("t").not_.not_.to_equal("Shop"))


@pytest.fixture
def plain_diff() -> Iterator[None]:
    """Use the core's difflib diff, whether or not the pytest layer installed pytest's."""
    before = _messages.current_differ()
    _messages.set_differ(None)
    yield
    _messages.set_differ(before)


@pytest.mark.usefixtures("plain_diff")
def test_the_message_names_everything(make: Callable[..., FakeSession]) -> None:
    session = make(js=lambda _js, _t: {"items": ["a", "b"], "total": 3})
    with pytest.raises(SmoothExpectationError) as info:
        run(
            expect(session, message="the cart lists both")
            .js("cart()")
            .to_equal({"items": ["a", "c"], "total": 3}, timeout=1.0)
        )
    lines = str(info.value).splitlines()
    assert lines[:5] == [
        "the cart lists both",
        "expect(session).js('cart()').to_equal({'items': ['a', 'c'], 'total': 3})",
        "Timed out after 1.00 s (6 attempts; timeout 1 s from the matcher's timeout=).",
        "Expected: {'items': ['a', 'c'], 'total': 3}",
        "Received: {'items': ['a', 'b'], 'total': 3}",
    ]
    assert lines[5] == "Diff (- expected, + received):"
    assert "  - {'items': ['a', 'c'], 'total': 3}" in lines
    assert "  + {'items': ['a', 'b'], 'total': 3}" in lines
    assert "Last 6 events of session fake-1:" in lines
    assert lines[-1] == (
        "To wait longer, pass timeout=... to the matcher or to expect(...), or set "
        "smooth_expect_timeout (--smooth-expect-timeout); it was 1 s here."
    )


def test_events_are_the_last_eight(make: Callable[..., FakeSession]) -> None:
    session = make(js=fail())
    with pytest.raises(SmoothExpectationError) as info:
        run(expect(session, timeout=3).js("x").to_equal(1))
    text = str(info.value)
    assert "Last 8 events of session fake-1:" in text
    assert text.count("evaluate_js  error") == 8
    assert "0.01 s  q='x'  'TypeError: Cannot read properties of null'" in text


def test_extract_model_compares_as_a_dict(make: Callable[..., FakeSession]) -> None:
    class Product(BaseModel):
        name: str
        price: float

    session = make(extract=lambda _s, _t: Product(name="Mug", price=9.990001))
    run(expect(session).extract(Product).to_match({"price": pytest.approx(9.99)}))
    run(expect(session).extract(Product).to_equal({"name": "Mug", "price": pytest.approx(9.99)}))
    run(expect(session).extract(Product).to_equal(Product(name="Mug", price=9.990001)))
    run(expect(session).extract(Product).to_validate(Product))


def test_expect_picks_the_twin(clock: FakeClock) -> None:
    assert type(expect(FakeSession(clock, None, None))) is Expect
    assert type(expect(AsyncFakeSession(clock, None, None))) is AsyncExpect
    assert type(expect.soft(AsyncFakeSession(clock, None, None))) is AsyncExpect
    assert repr(expect) == "<pytest_smooth.expect>"


# --- soft ----------------------------------------------------------------------------------------


def test_soft_failures_are_collected(make: Callable[..., FakeSession]) -> None:
    session = make(js=title_after(99))
    with collect_soft_failures() as failures:
        run(expect.soft(session, timeout=0.1).js("document.title").to_equal("Shop"))
        run(expect.soft(session, timeout=0.1).js("document.title").to_match_regex("^Check"))
        run(expect.soft(session, timeout=0.1).js("document.title").to_equal("Loading"))
    assert len(failures) == 2
    assert {os.path.abspath((f.where or "").rsplit(":", 1)[0]) for f in failures} == {__file__}
    report = str(SmoothSoftExpectationsError(failures))
    assert report.startswith("2 soft expectations failed:\n\n[1] at ")
    assert "    expect.soft(session).js('document.title').to_equal('Shop')" in report
    assert "\n[2] at " in report
    assert "    Expected: a string matching /^Check/" in report


def test_soft_raises_without_a_collector(
    make: Callable[..., FakeSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_attempts, "soft_collectors", [])  # hide the plugin's, if loaded
    with pytest.raises(SmoothExpectationError):
        run(expect.soft(make(js=title_after(99)), timeout=0).js("t").to_equal("Shop"))


def test_soft_collectors_nest() -> None:
    with collect_soft_failures() as outer:
        with collect_soft_failures() as inner:
            assert _attempts.soft_collectors[-1] is inner
        assert _attempts.soft_collectors[-1] is outer


# --- cross_check ---------------------------------------------------------------------------------


class Page(BaseModel):
    title: str
    items: list[dict[str, Any]]


def page_session(make: Callable[..., FakeSession], dom_title: Answer) -> FakeSession:
    page = Page(title="Smooth  Shop", items=[{"name": "Mug", "price": 9.5}])
    return make(extract=lambda _s, _t: page, js=dom_title)


def test_cross_check_agrees(make: Callable[..., FakeSession]) -> None:
    def dom(js: Any, _t: float) -> Any:
        return "\n  Smooth Shop  " if "h1" in js else "9.50"

    session = page_session(make, dom)
    run(
        expect(session)
        .extract(Page)
        .cross_check(js="document.querySelector('h1').textContent", field="title")
        .cross_check(js="document.querySelector('.price').textContent", field="items.0.price")
        .to_match({"items": [{"name": "Mug"}]})
    )


def test_cross_check_mismatch_is_an_oracle_mismatch(make: Callable[..., FakeSession]) -> None:
    session = page_session(make, lambda _js, _t: "Smooth Shoes")
    with pytest.raises(SmoothExpectationError) as info:
        run(
            expect(session, timeout=0.2)
            .extract(Page)
            .cross_check(js="document.querySelector('h1').textContent", field="title")
            .to_be_truthy()
        )
    text = str(info.value)
    assert text.startswith(
        "expect(session).extract(Page).cross_check(js=\"document.querySelector('h1')"
        ".textContent\", field='title').to_be_truthy()\n"
    )
    assert (
        "Oracle mismatch: the extraction and the DOM disagree on 'title'\n"
        "  extract: 'Smooth  Shop'\n"
        "  js:      'Smooth Shoes'   (document.querySelector('h1').textContent)"
    ) in text


def test_cross_check_with_compare_and_a_missing_field(make: Callable[..., FakeSession]) -> None:
    session = page_session(make, lambda _js, _t: "SMOOTH  SHOP")
    poll = expect(session, timeout=0).extract(Page)
    run(
        poll.cross_check(
            js="h1", field="title", compare=lambda a, b: a.lower() == b.lower()
        ).to_be_truthy()
    )
    with pytest.raises(SmoothExpectationError, match="  extract: '<missing>'"):
        run(poll.cross_check(js="h1", field="items.3.name").to_be_truthy())


def test_cross_check_runs_only_after_the_matcher_passes(make: Callable[..., FakeSession]) -> None:
    session = page_session(make, lambda _js, _t: "Smooth Shop")
    with pytest.raises(SmoothExpectationError) as info:
        run(
            expect(session, timeout=0)
            .extract(Page)
            .cross_check(js="h1", field="title")
            .to_match({"title": "Other"})
        )
    assert [action for action, _, _ in session.calls] == ["extract"]
    assert "Oracle mismatch" not in str(info.value)
    assert "Mismatch: ['title']: expected 'Other', got 'Smooth  Shop'" in str(info.value)


# --- the matchers, one value at a time -----------------------------------------------------------


def passes(matcher: m.Matcher, value: Any, *, negate: bool = False) -> bool:
    return matcher.verdict(value, negate=negate).passed


@pytest.mark.parametrize(
    ("expected", "received", "ok"),
    [
        ({"a": 1}, {"a": 1, "extra": 2}, True),
        ({"a": {"b": [1, {"c": 2}]}}, {"a": {"b": [1, {"c": 2, "d": 3}], "e": 0}}, True),
        ({"a": 1}, {"b": 1}, False),
        ({"a": 1}, [("a", 1)], False),
        ([1, 2], [1, 2, 3], False),
        ([{"n": "x"}], [{"n": "x", "p": 1}], True),
        ((1, 2), [1, 2], True),
        ({"price": pytest.approx(9.99)}, {"price": 9.990001}, True),
        ({"title": re.compile(r"^Smooth")}, {"title": "Smooth Shop"}, True),
        ({"title": re.compile(r"^Smooth")}, {"title": 3}, False),
        ("abc", "abc", True),
        ({"n": None}, {}, False),
    ],
)
def test_to_match_rule(expected: Any, received: Any, ok: bool) -> None:
    assert passes(m.match(expected), received) is ok


def test_to_match_partial_lists_is_an_ordered_subsequence() -> None:
    matcher = m.match({"items": [{"n": "a"}, {"n": "c"}]}, partial_lists=True)
    assert passes(matcher, {"items": [{"n": "a"}, {"n": "b"}, {"n": "c", "p": 1}]})
    assert not passes(matcher, {"items": [{"n": "c"}, {"n": "a"}]})
    assert m.match([1, 1], partial_lists=True).test([1, 2]).details == (
        "value[1]: no item matching 1 in order (searched the received items from index 1 on)",
    )


def test_to_match_details_name_every_path() -> None:
    outcome = m.match({"a": {"b": 1, "c": [1, 2]}, "d": 0}).test({"a": {"b": 2, "c": [1]}})
    assert outcome.details == (
        "['a']['b']: expected 1, got 2",
        "['a']['c']: expected 2 items, got 1",
        "['d']: missing (expected 0)",
    )


@pytest.mark.parametrize(
    ("item", "received", "ok"),
    [
        ("Shop", "Smooth Shop", True),
        ("shop", "Smooth Shop", False),
        ("items", {"items": []}, True),
        ({"name": "Mug"}, [{"name": "Cup"}, {"name": "Mug", "price": 3}], True),
        (3, [1, 2], False),
    ],
)
def test_to_contain(item: Any, received: Any, ok: bool) -> None:
    assert passes(m.contain(item), received) is ok


def test_type_errors_fail_even_when_negated() -> None:
    assert not passes(m.contain(1), "text", negate=True)
    assert not passes(m.contain("x"), 5, negate=True)
    assert not passes(m.contain(["k"]), {"k": 1}, negate=True)
    assert not passes(m.match_regex("x"), None, negate=True)
    assert not passes(m.satisfy(lambda v: v.missing), 1, negate=True)
    assert passes(m.match_regex("x"), "y", negate=True)


def test_regex_truthy_satisfy() -> None:
    assert passes(m.match_regex(r"^\d+ items$"), "3 items")
    assert passes(m.match_regex("SHOP", re.IGNORECASE), "the shop")
    assert passes(m.truthy(), [0]) and not passes(m.truthy(), [])
    assert passes(m.satisfy(lambda v: v > 2), 3)
    assert m.satisfy(lambda v: v > 2, "more than two").expected_text == "satisfying more than two"
    assert m.satisfy(int).test("x").details == (
        "the predicate raised ValueError: invalid literal for int() with base 10: 'x'",
    )


def test_to_validate() -> None:
    class Item(BaseModel):
        name: str
        price: float

    assert passes(m.validate(Item), {"name": "Mug", "price": "3.5"})
    assert passes(m.validate(list[Item]), [{"name": "Mug", "price": 1}])
    assert m.validate(Item).test({"name": "Mug"}).details == ("price: Field required",)
    assert m.validate(Item).expected_text == "valid as Item"


def test_errors_pickle() -> None:
    one = SmoothExpectationError("expect(session).js('x').to_equal(1)")
    both = pickle.loads(pickle.dumps(SmoothSoftExpectationsError([one, one])))
    assert str(both).startswith("2 soft expectations failed:")
    assert isinstance(both, AssertionError)


# --- properties of the to_match rule -------------------------------------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=3), inner, max_size=4)
    ),
    max_leaves=12,
)
PROPERTIES = settings(max_examples=60, deadline=None)


@PROPERTIES
@given(JSON)
def test_every_value_matches_itself(value: Any) -> None:
    assert m.mismatches(value, value) == []
    assert m.mismatches(value, value, partial=True) == []


@PROPERTIES
@given(
    st.dictionaries(st.text(max_size=3), JSON, max_size=4),
    st.dictionaries(st.text(max_size=3), JSON, max_size=4),
)
def test_a_dict_matches_any_superset(expected: dict[str, Any], extra: dict[str, Any]) -> None:
    assert m.mismatches(expected, {**extra, **expected}) == []


@PROPERTIES
@given(st.lists(JSON, max_size=6), st.data())
def test_partial_lists_match_any_ordered_subsequence(
    received: list[Any], data: st.DataObject
) -> None:
    keep = data.draw(st.lists(st.booleans(), min_size=len(received), max_size=len(received)))
    subsequence = [item for item, kept in zip(received, keep, strict=True) if kept]
    assert m.mismatches(subsequence, received, partial=True) == []
