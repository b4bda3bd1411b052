"""The benchmark harness never rots: its table and JSON, and a full ``--quick`` run."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks._results import Figure
from benchmarks._results import p95
from benchmarks._results import table
from benchmarks._results import write_json
from pytest_smooth.server.browser.discovery import BrowserNotFoundError
from pytest_smooth.server.browser.discovery import find_browser

ROOT = Path(__file__).resolve().parent.parent
GROUP_FIGURES = (
    "session cycle (open, goto, close)",
    "session cycle (open, goto, close), p95 of blocks",
    "evaluate_js round trip, quiet",
    "evaluate_js round trip, quiet, recording",
    "evaluate_js round trip, CPU hog",
    "evaluate_js round trip, CPU hog, recording",
    "evaluate_js round trip",
    "goto round trip, recording",
    "4-test suite wall time",
    "4-test suite wall time, recording",
    "4-test suite wall time, -n 2",
    "4-test suite wall time, pytest-playwright -n 2",
    "RSS per extra session (1->4)",
    "PSS per extra session (1->4)",
    "3-test suite +100 ms/request +3 s/session, prewarm=2",
    "extract score (right/tried)",
)


def test_goals_ratios_table_and_json(tmp_path: Path) -> None:
    within = Figure("a", "ms", [10, 12, 11], "ref", [6, 6, 6], "ratio_max", 2.0)
    faster = Figure("b", "ms", [10, 10], "slow", [1000], "speedup_min", 50.0)
    capped = Figure("c", "MiB", [41.0], goal_kind="value_max", threshold=40.0)
    info = Figure("d", "s", [], note="nothing measured")
    floor = Figure("e", "s", [20.0], "ref", [30.0], "speedup_info")
    assert (within.ratio, within.met) == (11 / 6, True)
    assert (faster.ratio, faster.met) == (100.0, True)
    assert (floor.ratio, floor.met, floor.goal) == (1.5, None, "-")
    assert capped.met is False and math.isnan(capped.ratio)
    assert info.met is None and math.isnan(info.median)
    assert p95(list(range(1, 101))) == 95 and p95([3.0]) == 3.0
    text = table([within, faster, capped, info])
    assert "<= 2x ref" in text and ">= 50x faster" in text and "NO" in text
    assert "[d] nothing measured" in text
    out = tmp_path / "r.json"
    write_json(out, [within, info], {"quick": True})
    data = json.loads(out.read_text())
    assert data["meta"] == {"quick": True}
    assert data["figures"][0]["met"] is True and data["figures"][1]["median"] is None


@pytest.mark.browser
def test_quick_run_prints_and_writes_every_group(tmp_path: Path) -> None:
    try:
        find_browser()
    except BrowserNotFoundError as exc:
        pytest.skip(f"no browser for the local backend: {exc}")
    out = tmp_path / "results.json"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "ratio" in done.stdout and "goal" in done.stdout
    figures = {f["name"]: f for f in json.loads(out.read_text())["figures"]}
    for name in GROUP_FIGURES:
        assert name in figures, sorted(figures)
        assert figures[name]["median"] is not None
    # Where a cycle's time goes: CPU by process kind, ours and raw.
    assert "ms CPU a cycle (" in figures["session cycle (open, goto, close)"]["note"]
    # Prewarming never leaks: every session the latency runs opened was closed.
    latency = figures["3-test suite +100 ms/request +3 s/session, prewarm=2"]
    assert "still open on the backend after all runs: 0" in latency["note"]
