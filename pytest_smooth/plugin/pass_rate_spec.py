"""The ``smooth_pass_rate`` marker's arguments, checked at collection, and the running tally.

``@pytest.mark.smooth_pass_rate(runs=5, min_passes=4)`` (or ``min_rate=0.8``): a bad argument
is a ``pytest.UsageError`` naming the test and the valid form. The tally says when the verdict
is settled: enough passes, or too few attempts left to reach them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import pytest

MARKER: Final = "smooth_pass_rate"
VALID_FORM: Final = (
    "@pytest.mark.smooth_pass_rate(runs=N, min_passes=K) or"
    " @pytest.mark.smooth_pass_rate(runs=N, min_rate=R), with N >= 1, 1 <= K <= N, 0 < R <= 1"
)
MARKER_LINE: Final = (
    "smooth_pass_rate(runs, min_passes=None, min_rate=None): run the test `runs` times at once,"
    " each attempt on fresh Smooth sessions; it passes when at least min_passes (or"
    " ceil(min_rate * runs)) attempts pass (see the README, 'Pass rates for agent tests')"
)


@dataclass(frozen=True)
class PassRateSpec:
    """How many attempts to run and how many must pass."""

    runs: int
    min_passes: int

    def threshold(self) -> str:
        return f"{self.min_passes} of {self.runs}"


def _usage(nodeid: str, why: str) -> pytest.UsageError:
    return pytest.UsageError(f"{nodeid}: bad smooth_pass_rate marker: {why}; use {VALID_FORM}")


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def parse_marker(nodeid: str, mark: pytest.Mark) -> PassRateSpec:
    """Check the marker's arguments and return the spec (``pytest.UsageError`` when bad)."""
    kwargs = dict(mark.kwargs)
    if mark.args:
        if len(mark.args) > 1 or "runs" in kwargs:
            raise _usage(nodeid, f"positional arguments {mark.args!r}")
        kwargs["runs"] = mark.args[0]
    unknown = sorted(set(kwargs) - {"runs", "min_passes", "min_rate"})
    if unknown:
        raise _usage(nodeid, f"unknown argument(s) {', '.join(unknown)}")
    runs = kwargs.get("runs")
    if not _whole(runs) or runs < 1:  # type: ignore[operator]
        raise _usage(nodeid, f"runs={runs!r} must be a whole number >= 1")
    assert isinstance(runs, int)
    has_passes, has_rate = "min_passes" in kwargs, "min_rate" in kwargs
    if has_passes == has_rate:
        given = "both min_passes and min_rate" if has_passes else "neither min_passes nor min_rate"
        raise _usage(nodeid, f"{given} given (give one)")
    if has_passes:
        passes = kwargs["min_passes"]
        if not _whole(passes) or not 1 <= passes <= runs:
            raise _usage(nodeid, f"min_passes={passes!r} must be a whole number from 1 to {runs}")
        return PassRateSpec(runs, passes)
    rate = kwargs["min_rate"]
    if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 < rate <= 1:
        raise _usage(nodeid, f"min_rate={rate!r} must be a number above 0 and at most 1")
    # round() first: 0.8 * 5 is 4.000000000000001 in floating point, which must stay 4.
    return PassRateSpec(runs, max(1, math.ceil(round(rate * runs, 9))))


@dataclass
class Tally:
    """The attempts finished so far, and whether they settle the verdict."""

    spec: PassRateSpec
    passed: int = 0
    finished: int = 0

    def add(self, *, passed: bool) -> None:
        self.finished += 1
        self.passed += int(passed)

    @property
    def reached(self) -> bool:
        return self.passed >= self.spec.min_passes

    @property
    def hopeless(self) -> bool:
        """Too few attempts are left to reach the threshold."""
        return self.passed + (self.spec.runs - self.finished) < self.spec.min_passes

    @property
    def settled(self) -> bool:
        return self.reached or self.hopeless

    def verdict(self) -> str:
        """Return e.g. ``4/5 >= 4`` (passed) or ``3/5 < 4`` (failed): passes/finished vs K."""
        sign = ">=" if self.reached else "<"
        return f"{self.passed}/{self.finished} {sign} {self.spec.min_passes}"
