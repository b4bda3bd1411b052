"""The official SDK (smooth-py 0.4.5), unchanged, against the local backend with real Chromium.

test_server_sdk.py checks the wire protocol with a scripted executor; this module drives the
real Playwright executor: pages served on loopback, the deterministic run_task language
(pytest_smooth/server/tasks.py), client tools, profiles and files. Every SDK call that has no
timeout of its own runs through ``bounded`` so a hang fails the test instead of the run.
"""

from __future__ import annotations

import io
import os
import threading
import uuid
from collections.abc import Callable
from typing import Any
from typing import TypeVar

import httpx
import pytest

from pytest_smooth.server.local import LocalServer
from tests.fixtures_server import StaticSite

os.environ.setdefault("SMOOTH_TELEMETRY", "off")  # before smooth is imported
smooth: Any = pytest.importorskip("smooth")

# smooth-py itself warns on every task it submits (its deprecated session_id field).
pytestmark = [
    pytest.mark.browser,
    pytest.mark.filterwarnings("ignore:'session_id' is deprecated:DeprecationWarning"),
]

T = TypeVar("T")

CALL_TIMEOUT = 60.0  # seconds for one SDK call (the machine may be loaded)

FORM_PAGE = """<!doctype html>
<html><head><title>SDK form</title></head>
<body>
  <h1>Hello SDK</h1>
  <label for="name">Name</label> <input id="name" name="name">
  <button id="go" onclick="document.getElementById('greeting').textContent =
    'Hi ' + document.getElementById('name').value">Greet</button>
  <p id="greeting"></p>
</body></html>
"""

TITLE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"title": {"type": "string"}},
}


def bounded(call: Callable[[], T], timeout: float = CALL_TIMEOUT) -> T:
    """Run ``call`` in a daemon thread; fail the test if it takes longer than ``timeout``."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = call()
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=target, name="sdk-call", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        pytest.fail(f"SDK call did not return within {timeout:g} s")
    if "error" in box:
        raise box["error"]
    value: T = box["value"]
    return value


def make_client(server: LocalServer) -> Any:
    return smooth.SmoothClient(api_key=server.api_key, base_url=server.base_url)


def task_status(server: LocalServer, task_id: str) -> str:
    response = httpx.get(
        f"{server.base_url}v1/task/{task_id}", headers={"apikey": server.api_key}, timeout=10
    )
    response.raise_for_status()
    status: str = response.json()["r"]["status"]  # the API wraps every body in "r"
    return status


def test_session_goto_js_extract_run_task_and_graceful_close(
    local_server: LocalServer, static_site: StaticSite
) -> None:
    url = static_site.page("sdk-form.html", FORM_PAGE)
    client = make_client(local_server)
    session = bounded(client.session)
    try:
        bounded(lambda: session.goto(url))
        assert bounded(lambda: session.evaluate_js("document.title")).output == "SDK form"
        added = bounded(lambda: session.evaluate_js("(args) => args.x + 1", {"x": 41}))
        assert added.output == 42
        extracted = bounded(lambda: session.extract(TITLE_SCHEMA))
        assert extracted.output == {"title": "Hello SDK"}
        model: dict[str, Any] = {
            "type": "object",
            "properties": {"greeting": {"type": "string"}},
        }
        ran = bounded(
            lambda: session.run_task(
                'type "Ada" into #name\nclick "Greet" button\nextract', response_model=model
            )
        )
        assert ran.output == {"greeting": "Hi Ada"}
    finally:
        closed = bounded(lambda: session.close(force=False))
    assert closed is True
    assert bounded(lambda: session.result(timeout=30)).status == "done"


def test_session_with_block_exit_deletes_the_task(
    local_server: LocalServer, static_site: StaticSite
) -> None:
    url = static_site.page("sdk-with.html", FORM_PAGE)
    client = make_client(local_server)

    def use() -> str:
        with client.session() as session:
            session.goto(url)
            task_id: str = session.id()
        return task_id

    task_id = bounded(use)
    assert task_status(local_server, task_id) == "cancelled"


def test_one_shot_run_with_response_model(
    local_server: LocalServer, static_site: StaticSite
) -> None:
    url = static_site.page("sdk-run.html", FORM_PAGE)
    client = make_client(local_server)
    handle = bounded(
        lambda: client.run(f"go to {url}\nextract", url=url, response_model=TITLE_SCHEMA)
    )
    result = bounded(lambda: handle.result(timeout=60), timeout=CALL_TIMEOUT + 10)
    assert (result.status, result.output) == ("done", {"title": "Hello SDK"})


def test_custom_tool_called_from_run_task(
    local_server: LocalServer, static_site: StaticSite
) -> None:
    url = static_site.page("sdk-tool.html", FORM_PAGE)
    client = make_client(local_server)
    calls: list[str] = []

    @client.tool(  # type: ignore[untyped-decorator]  # the SDK's decorator is untyped
        name="lookup",
        description="Look a word up.",
        inputs={"q": {"type": "string", "description": "the word"}},
        output="a string",
    )
    def lookup(q: str) -> str:
        calls.append(q)
        return f"found {q}"

    session = bounded(lambda: client.session(custom_tools=[lookup]))
    try:
        bounded(lambda: session.goto(url))
        ran = bounded(lambda: session.run_task('call tool lookup with {"q": "x"}'))
    finally:
        bounded(lambda: session.close(force=True))
    assert calls == ["x"]
    assert ran.output == "found x"


def test_profiles_files_and_not_found(local_server: LocalServer) -> None:
    client = make_client(local_server)
    profile_id = f"sdk-browser-{uuid.uuid4().hex[:8]}"
    assert bounded(lambda: client.create_profile(profile_id)).id == profile_id
    assert profile_id in [p.id for p in bounded(client.list_profiles)]
    with pytest.raises(smooth.ApiError) as conflict:
        bounded(lambda: client.create_profile(profile_id))
    assert conflict.value.status_code == 409
    bounded(lambda: client.delete_profile(profile_id))
    assert profile_id not in [p.id for p in bounded(client.list_profiles)]

    uploaded = bounded(lambda: client.upload_file(io.BytesIO(b"hello file"), name="a.txt"))
    assert isinstance(uploaded.id, str)
    assert uploaded.id
    bounded(lambda: client.delete_file(uploaded.id))

    # No public call GETs an arbitrary task id (a TaskHandle's poller swallows the error), but
    # SessionHandle(id).close() DELETEs /v1/task/{id}.
    with pytest.raises(smooth.ApiError) as missing:
        bounded(lambda: smooth.SessionHandle("no-such-task", client).close(force=True))
    assert missing.value.status_code == 404
    with pytest.raises(smooth.ApiError) as missing_profile:
        bounded(lambda: client.delete_profile("no-such-profile"))
    assert missing_profile.value.status_code == 404
