"""Client-side tools through the fixtures: ``new_smooth_session(tools=...)``, the marker, the args.

The inner runs talk to a browserless backend through a logging proxy; the POST /task bodies show
which tools each session declared.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from pytest_smooth.server.local import LocalServer
from tests.faultproxy import FaultProxy
from tests.plugin_helpers import clean_env
from tests.plugin_helpers import instant_server
from tests.plugin_helpers import write_ini

SUITE = """
import pytest

def lookup(sku: str) -> str:
    return "in stock"

def price(sku: str) -> float:
    return 9.5

@pytest.fixture(scope="session")
def smooth_session_args():
    return {"tools": {"price": price}}

def test_factory(new_smooth_session):
    new_smooth_session(tools={"lookup": lookup})

@pytest.mark.smooth(tools={"lookup": lookup})
def test_marker(smooth_session):
    pass

def test_suite_wide(smooth_session):
    pass

def test_bad(new_smooth_session):
    new_smooth_session(tools={"lookup": "not a function"})
"""


@pytest.fixture
def backend(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[FaultProxy, LocalServer]]:
    clean_env(monkeypatch)
    write_ini(pytester)
    with instant_server() as (server, _), FaultProxy(server.url) as proxy:
        yield proxy, server


def test_tools_reach_the_session_from_every_level(
    pytester: pytest.Pytester, backend: tuple[FaultProxy, LocalServer]
) -> None:
    proxy, server = backend
    pytester.makepyfile(test_tools=SUITE)
    result = pytester.runpytest(
        "--smooth-backend=cloud",
        f"--smooth-base-url={proxy.url}/api/",
        f"--smooth-apikey={server.api_key}",
    )
    result.assert_outcomes(passed=3, failed=1)
    result.stdout.fnmatch_lines(
        ["*new_smooth_session(): tools={'lookup': 'not a function'} is not valid; expected a dict*"]
    )
    declared = [
        sorted(tool["name"] for tool in json.loads(r.body).get("custom_tools") or [])
        for r in proxy.requests("POST", r"^/api/v1/task$")
    ]
    # The factory's and the marker's tools win over the suite-wide ones, as other options do.
    assert declared == [["lookup"], ["lookup"], ["price"]]
