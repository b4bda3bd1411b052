"""Cloud latency hiding: the smooth suite through a loopback proxy that adds cloud-like latency.

The proxy (``tests/faultproxy.py``) adds ``REQUEST_MS`` to every request and ``CREATE_MS`` to
session creation (``POST /task``). The suite runs with ``--smooth-prewarm=N`` and without it,
and once through the same proxy with nothing added (the reference). Both proxies drop the
``wait_ms`` hint from action POSTs, as the cloud ignores it.
"""

from __future__ import annotations

from pytest_smooth.server import LocalServer
from tests.faultproxy import Fault
from tests.faultproxy import FaultProxy

from ._results import Figure
from ._results import median
from .runner import run_suite

REQUEST_MS = 100
CREATE_MS = 3000
PREWARM = 6
ROUNDS = 1  # runs of the prewarmed and the reference suite (``--rounds``)
CREATE_PATH = r"/api/v1/task$"


def _args(proxy: FaultProxy, server: LocalServer, *extra: str) -> list[str]:
    return [
        "--smooth-backend=cloud",
        f"--smooth-base-url={proxy.url}/api/",
        f"--smooth-apikey={server.api_key}",
        *extra,
    ]


def run(*, quick: bool, browser: str | None) -> list[Figure]:
    tests, rounds, prewarm = (3, 1, 2) if quick else (20, ROUNDS, PREWARM)
    base: list[float] = []
    warm: list[float] = []
    cold: list[float] = []
    per_test: list[float] = []  # requests a test makes besides session creation
    with LocalServer(browser=browser) as server:
        plain = FaultProxy(server.url).start()
        slow = FaultProxy(server.url).start()
        try:
            for proxy in (plain, slow):
                # As the cloud does: no held action POSTs (our wait_ms extension), so an action
                # costs a POST and a poll there; both runs go the same way.
                proxy.drop_params("POST", r"/event$", "wait_ms")
            # The first rule that matches wins: session creation gets both delays.
            slow.add("POST", CREATE_PATH, Fault.slow(CREATE_MS + REQUEST_MS), count=None)
            slow.add("*", r"", Fault.slow(REQUEST_MS), count=None)
            for i in range(rounds):
                base.append(run_suite("smooth_suite", tests=tests, args=_args(plain, server)))
                seen = (slow.count(), slow.count("POST", CREATE_PATH))
                warm.append(
                    run_suite(
                        "smooth_suite",
                        tests=tests,
                        args=_args(slow, server, f"--smooth-prewarm={prewarm}"),
                    )
                )
                others = (slow.count() - seen[0]) - (slow.count("POST", CREATE_PATH) - seen[1])
                per_test.append(others / tests)
                if i == 0:  # the slow one: about CREATE_MS per test
                    cold.append(run_suite("smooth_suite", tests=tests, args=_args(slow, server)))
            leaked = server.stats()["open_sessions"]
        finally:
            plain.close()
            slow.close()
    name = f"{tests}-test suite +{REQUEST_MS} ms/request +{CREATE_MS / 1000:g} s/session"
    ref = "same suite, no added latency"
    # Prewarming hides session creation only: a test's other requests still pay REQUEST_MS.
    requests = sum(per_test) / len(per_test)
    hidden_not = requests * REQUEST_MS / 1000
    return [
        Figure(f"{name}, prewarm={prewarm}", "s", warm, ref, base, "ratio_max", 1.3,
               note=f"sessions still open on the backend after all runs: {leaked}; besides "
                    f"creating its session a test makes about {requests:.1f} requests (an "
                    f"action is a POST and a poll, as on the cloud), up to {hidden_not:.1f} s a "
                    f"test that prewarming cannot hide; a reference test takes "
                    f"{median(base) / tests:.1f} s"),
        Figure(f"{name}, no prewarm", "s", cold, ref, base),
    ]  # fmt: skip
