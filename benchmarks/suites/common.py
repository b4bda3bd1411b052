"""What both suites share: the number of tests, the site fixture and the expected texts."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from benchmarks.site import Site

# BENCH_TESTS sets the suite's size (40 by default; the quick run and the latency run use less).
COUNT = int(os.environ.get("BENCH_TESTS", "40"))
PAGES = list(range(COUNT))
MSG_JS = "document.querySelector('#msg').textContent"


@pytest.fixture(scope="session")
def site() -> Iterator[Site]:
    """Serve the benchmark pages on loopback for the whole run (one per xdist worker)."""
    with Site() as served:
        yield served


def title(n: int) -> str:
    return f"Page {n}"


def message(n: int) -> str:
    return f"Hello {n * 2}"
