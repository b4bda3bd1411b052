"""run_task's optional LLM, against a real tiny OpenAI-compatible server on loopback.

Unknown instructions are translated into the instruction language (never run free-form), and
an extract whose DOM reading is empty asks the model with the page text.
"""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import AsyncIterator
from collections.abc import Iterator
from typing import Any

import pytest
import pytest_asyncio

from pytest_smooth.server.browser.discovery import find_browser
from pytest_smooth.server.browser.executor import PlaywrightExecutor
from tests.browser_support import RecordingSink
from tests.browser_support import form_page
from tests.browser_support import open_session
from tests.fixtures_server import StaticSite


@pytest.fixture(scope="module")
def form_url(static_site: StaticSite) -> str:
    return form_page(static_site)


class FakeLLM:
    """A tiny chat-completions server: canned translations and extract answers, all recorded."""

    def __init__(self, translations: dict[str, list[str]], extract: Any) -> None:
        self.requests: list[dict[str, Any]] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.requests.append(
                    {"path": self.path, "auth": self.headers.get("Authorization"), **body}
                )
                system, user = body["messages"][0]["content"], body["messages"][1]["content"]
                if "translate" in system:
                    answer: Any = {"instructions": translations.get(user, [user])}
                else:
                    answer = {"result": extract}
                reply = {
                    "choices": [{"message": {"role": "assistant", "content": json.dumps(answer)}}]
                }
                data = json.dumps(reply).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


@pytest.fixture(scope="module")
def fake_llm() -> Iterator[FakeLLM]:
    llm = FakeLLM(
        {"sign Grace up": ['type "Grace Hopper" into "Full name"', 'click "Send"', "return #out"]},
        extract={"plan": "gold"},
    )
    try:
        yield llm
    finally:
        llm.close()


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def llm_executor(
    fake_llm: FakeLLM, monkeypatch_module: pytest.MonkeyPatch
) -> AsyncIterator[PlaywrightExecutor]:
    monkeypatch_module.setenv("SMOOTH_LLM_API_KEY", "llm-key")
    ex = PlaywrightExecutor(find_browser(), prewarm=0, llm_url=fake_llm.url, llm_model="tiny-1")
    await ex.start()
    try:
        yield ex
    finally:
        await ex.stop()


@pytest.fixture(scope="module")
def monkeypatch_module() -> Iterator[pytest.MonkeyPatch]:
    with pytest.MonkeyPatch.context() as mp:
        yield mp


@pytest.mark.browser
@pytest.mark.asyncio(loop_scope="module")
async def test_the_llm_translates_what_the_parser_does_not_know(
    llm_executor: PlaywrightExecutor, fake_llm: FakeLLM, form_url: str
) -> None:
    sink = RecordingSink()
    s = open_session(llm_executor, sink)
    await s.ok("goto", {"url": form_url})
    out = await s.ok("run_task", {"task": "sign Grace up", "max_steps": 8})
    assert json.loads(out)["name"] == "Grace Hopper"
    request = fake_llm.requests[-1]
    assert request["path"] == "/v1/chat/completions"
    assert request["model"] == "tiny-1"
    assert request["auth"] == "Bearer llm-key"
    assert request["messages"][1]["content"] == "sign Grace up"
    assert "type <text> into <target>" in request["messages"][0]["content"]

    schema = {"type": "object", "properties": {"plan": {"type": "string"}}}
    assert await s.ok("extract", {"schema": schema, "prompt": "the chosen plan"}) == {
        "plan": "gold"
    }
    asked = json.loads(fake_llm.requests[-1]["messages"][1]["content"])
    assert asked["schema"] == schema
    assert "Full name" in asked["page_text"]
    await s.close()
