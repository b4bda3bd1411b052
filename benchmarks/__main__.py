"""``python -m benchmarks [--quick] [--rounds N] [--only GROUP ...]``: run them, print the table.

The same figures go to ``benchmarks/results.json`` (``--json PATH`` to change it). Run from
the repository root.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

from pytest_smooth.server.browser.discovery import find_browser

from . import actions
from . import cycle
from . import extract_score
from . import latency
from . import memory
from . import suites_bench
from ._results import Figure
from ._results import table
from ._results import write_json

Group = Callable[..., list[Figure]]
GROUPS: dict[str, Group] = {
    "cycle": cycle.run,
    "actions": actions.run,
    "suites": suites_bench.run,
    "memory": memory.run,
    "latency": latency.run,
    "extract": extract_score.run,
}
RESULTS = Path(__file__).resolve().parent / "results.json"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a short smoke run (tiny counts)")
    parser.add_argument("--only", nargs="+", choices=sorted(GROUPS), help="run only these groups")
    parser.add_argument("--json", type=Path, default=RESULTS, help="where to write the results")
    parser.add_argument(
        "--rounds", type=int, default=1, help="runs of each suite, interleaved (default 1)"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    target = find_browser(os.environ.get("SMOOTH_BROWSER"))
    browser = target.location if target.kind == "executable" else None
    if browser:
        os.environ["SMOOTH_BROWSER"] = browser  # the suites' subprocesses use the same binary
    suites_bench.ROUNDS = latency.ROUNDS = max(1, args.rounds)
    figures: list[Figure] = []
    timings: dict[str, float] = {}
    started = time.perf_counter()
    for name in args.only or list(GROUPS):
        print(f"running {name} ...", file=sys.stderr, flush=True)
        start = time.perf_counter()
        figures += GROUPS[name](quick=args.quick, browser=browser)
        timings[name] = round(time.perf_counter() - start, 1)
    print(table(figures))
    meta: dict[str, object] = {
        "command": " ".join(["python -m benchmarks", *(argv or sys.argv[1:])]),
        "quick": args.quick,
        "when": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "browser": browser or f"{target.kind}: {target.location}",
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
        "python": platform.python_version(),
        "seconds": timings,
        "total_seconds": round(time.perf_counter() - started, 1),
    }
    write_json(args.json, figures, meta)
    print(f"\n{meta['total_seconds']} s in all ({timings}); load average {meta['load_average']}")
    print(f"written to {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
