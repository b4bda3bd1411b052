"""run_task's deterministic instruction language, on real pages.

The parser; every instruction on a real form through the HTTP API; tool calls, secrets and
one-shot tasks; the optional LLM, against a real tiny OpenAI-compatible server on loopback.
"""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import AsyncIterator
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import pytest_asyncio

from pytest_smooth._client import SmoothClient
from pytest_smooth._exceptions import SmoothActionError
from pytest_smooth._exceptions import TaskFailedError
from pytest_smooth.server.browser import PlaywrightExecutor
from pytest_smooth.server.discovery import find_browser
from pytest_smooth.server.local import LocalServer
from pytest_smooth.server.tasks import Instruction
from pytest_smooth.server.tasks import UnknownInstruction
from pytest_smooth.server.tasks import parse_instruction
from pytest_smooth.server.tasks import parse_task
from pytest_smooth.server.tasks import split_instructions
from tests.browser_support import RecordingSink
from tests.browser_support import open_session
from tests.fixtures_server import StaticSite

FORM = """<!doctype html><title>Signup</title>
<form id="f">
  <label for="name">Full name</label><input id="name">
  <input id="email" placeholder="Email address">
  <label>Password <input id="pw" type="password"></label>
  <label>Country <select id="country"><option value="fr">France</option>
    <option value="de">Germany</option></select></label>
  <label><input id="news" type="checkbox" checked> Newsletter</label>
  <label><input id="terms" type="checkbox"> I agree</label>
  <input id="q" aria-label="Search">
  <label>Attachment <input id="file" type="file"></label>
  <button type="button" id="more">Load more</button>
  <button type="submit">Send</button>
</form>
<p id="pressed"></p><pre id="out"></pre><p id="fname"></p>
<script>
  const $ = (id) => document.getElementById(id);
  $("q").addEventListener("keydown", (e) => {
    if (e.key === "Enter") $("pressed").textContent = "enter:" + $("q").value;
  });
  $("file").onchange = () => { $("fname").textContent = $("file").files[0].name; };
  $("more").onclick = () => setTimeout(() => {
    const p = document.createElement("p"); p.textContent = "Loaded later"; document.body.append(p);
  }, 150);
  $("f").onsubmit = (e) => {
    e.preventDefault();
    $("out").textContent = JSON.stringify({name: $("name").value, email: $("email").value,
      pwlen: $("pw").value.length, country: $("country").value, news: $("news").checked,
      terms: $("terms").checked});
  };
</script>"""

SECRET = "s3cr3t-Pa55word"


@pytest.fixture(scope="module")
def form_url(static_site: StaticSite) -> str:
    static_site.page("t/next.html", "<title>Next</title><h1>Next page</h1>")
    return static_site.page("t/form.html", FORM)


@pytest.fixture(scope="module")
def client(local_server: LocalServer) -> Iterator[SmoothClient]:
    with SmoothClient(
        api_key=local_server.api_key, base_url=local_server.base_url, timeout=60
    ) as c:
        yield c


# --- the parser -----------------------------------------------------------------------------


def test_instructions_split_on_lines_semicolons_and_then_but_not_inside_quotes() -> None:
    task = (
        '1. go to https://x.io/a;b\n- type "a; b then c" into #q then press Enter\n'
        'and call tool t with {"k": "x; y then z"}; wait 2 s.'
    )
    assert split_instructions(task) == [
        "go to https://x.io/a",
        "b",
        'type "a; b then c" into #q',
        "press Enter",
        'call tool t with {"k": "x; y then z"}',
        "wait 2 s",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Go to https://shop.test/", Instruction("goto", text="https://shop.test/")),
        ('click "Add to cart"', Instruction("click", '"Add to cart"')),
        ("click on the Buy button", Instruction("click", "Buy", role="button")),
        ('type "Ada" into "Full name"', Instruction("type", '"Full name"', "Ada")),
        ("fill #email with a@b.c", Instruction("type", "#email", "a@b.c")),
        ("press Enter", Instruction("press", None, "Enter")),
        ("press Tab in #q", Instruction("press", "#q", "Tab")),
        ('select "Germany" in "Country"', Instruction("select", '"Country"', "Germany")),
        ('check "I agree"', Instruction("check", '"I agree"')),
        ("untick #news", Instruction("uncheck", "#news")),
        ('wait for "Thank you"', Instruction("wait_for", '"Thank you"')),
        ("wait 250 ms", Instruction("wait", value=0.25)),
        ("wait 2 seconds", Instruction("wait", value=2.0)),
        ("extract", Instruction("extract")),
        ("return the title", Instruction("extract", "the title")),
        (
            'call tool lookup with {"sku": 1}',
            Instruction("call_tool", text="lookup", value={"sku": 1}),
        ),
        ("call tool ping", Instruction("call_tool", text="ping", value={})),
        ('fill secret pw into "Password"', Instruction("fill_secret", '"Password"', "pw")),
        ('upload "cv.pdf" into "Attachment"', Instruction("upload", '"Attachment"', "cv.pdf")),
    ],
)
def test_each_instruction_parses(text: str, expected: Instruction) -> None:
    parsed = parse_instruction(text)
    got = (parsed.verb, parsed.target, parsed.text, parsed.value, parsed.role)
    assert got == (expected.verb, expected.target, expected.text, expected.value, expected.role)


def test_unknown_instructions_are_reported_not_guessed() -> None:
    items, unknown = parse_task("go to https://a.test; book the cheapest flight; return url")
    assert unknown == ["book the cheapest flight"]
    assert items[1] == "book the cheapest flight"
    with pytest.raises(UnknownInstruction):
        parse_instruction('call tool t with ["not", "an object"]')


# --- every instruction on a real page, through the HTTP API -----------------------------------


@pytest.mark.browser
def test_every_instruction_on_a_real_form(client: SmoothClient, form_url: str) -> None:
    with client.session() as session:
        result = session.run_task(
            "\n".join(
                [
                    f"go to {form_url}",
                    'type "Ada Lovelace" into "Full name"',
                    'type ada@example.com into "Email address"',
                    'fill secret pw into "Password"',
                    'select "Germany" in "Country"',
                    'uncheck "Newsletter"',
                    'check "I agree"',
                    "type hello into #q then press Enter in #q",
                    'click "Load more"; wait for "Loaded later"; wait 20 ms',
                    'click "Send" button',
                    "return #out",
                ]
            ),
            secrets={"pw": SECRET},
        )
        assert json.loads(result) == {
            "name": "Ada Lovelace",
            "email": "ada@example.com",
            "pwlen": len(SECRET),
            "country": "de",
            "news": False,
            "terms": True,
        }
        assert session.evaluate_js("document.getElementById('pressed').textContent") == (
            "enter:hello"
        )
        assert session.run_task("return title") == "Signup"
        assert (
            session.run_task(
                'press Tab; type {{pw}} into "Password"; return url', secrets={"pw": SECRET}
            )
            == form_url
        )
        assert session.evaluate_js("document.getElementById('pw').value") == SECRET
        summary = session.run_task(f"go to {form_url.replace('form', 'next')}")
        assert summary == {"url": form_url.replace("form", "next"), "title": "Next", "steps": 1}


@pytest.mark.browser
def test_url_input_navigates_first_and_max_steps_bounds_the_task(
    client: SmoothClient, form_url: str
) -> None:
    with client.session() as session:
        assert session.run_task("return title", url=form_url) == "Signup"
        with pytest.raises(SmoothActionError, match="3 instructions, over max_steps=2"):
            session.run_task("wait 1 ms; wait 1 ms; wait 1 ms", max_steps=2)
        with pytest.raises(SmoothActionError, match=r"step 1 \('click \"Nowhere\"'\) failed"):
            session.run_task('click "Nowhere"; return title')


@pytest.mark.browser
def test_upload_sets_a_file_input_from_the_task_files(client: SmoothClient, form_url: str) -> None:
    file_id = client.upload_file(b"hello", name="notes.txt").id
    with client.session(files=[file_id]) as session:
        session.goto(form_url)
        assert session.run_task('upload notes.txt into "Attachment"; return #fname') == "notes.txt"
        assert session.run_task(f"upload {file_id} into #file; return #fname") == "notes.txt"
        with pytest.raises(SmoothActionError, match=r"no task file 'other\.txt'"):
            session.run_task("upload other.txt into #file")


@pytest.mark.browser
def test_tool_calls_round_trip_through_the_http_api(client: SmoothClient, form_url: str) -> None:
    seen: list[dict[str, Any]] = []

    def lookup(sku: str) -> dict[str, Any]:
        seen.append({"sku": sku})
        return {"sku": sku, "price": 12.5}

    with client.session(tools={"lookup": lookup}) as session:
        out = session.run_task(f'go to {form_url}; call tool lookup with {{"sku": "A-1"}}')
        assert out == {"sku": "A-1", "price": 12.5}
        assert seen == [{"sku": "A-1"}]
        with pytest.raises(SmoothActionError, match="tool 'missing' failed"):
            session.run_task("call tool missing")


@pytest.mark.browser
def test_secrets_are_never_echoed(
    client: SmoothClient, local_server: LocalServer, form_url: str
) -> None:
    with client.session() as session:
        session.goto(form_url)
        guarded = {"pw": {"value": SECRET, "allowed_urls": ["https://bank.example/**"]}}
        with pytest.raises(SmoothActionError, match="secret 'pw' may not be used on") as info:
            session.run_task('fill secret pw into "Password"', secrets=guarded)
        assert SECRET not in str(info.value)
        for task in (
            "go to https://x.test/?q={{pw}}",
            'type {{pw}}{{nope}} into "Password"',
            f'call tool nosuch with {{"v": "{SECRET}"}}',
        ):
            with pytest.raises(SmoothActionError):
                session.run_task(task, secrets={"pw": SECRET})
        raw = httpx.get(
            f"{local_server.base_url}v1/task/{session.id}",
            headers={"apikey": local_server.api_key},
            timeout=30,
        ).text
        assert "cannot be used in a URL" in raw
        assert "tool 'nosuch' failed" in raw
        assert SECRET not in raw


@pytest.mark.browser
def test_an_unsupported_task_gets_a_400_saying_what_works(client: SmoothClient) -> None:
    with client.session() as session:
        with pytest.raises(SmoothActionError) as info:
            session.run_task("find the cheapest flight to Lisbon and book it")
    message = str(info.value)
    assert "'find the cheapest flight to Lisbon and book it'" in message
    assert "type <text> into <target>" in message
    assert "SMOOTH_LLM_URL" in message


@pytest.mark.browser
def test_one_shot_tasks_finish_done_or_failed(client: SmoothClient, form_url: str) -> None:
    done = client.run(f"go to {form_url} then return title", timeout=60)
    assert (done.status, done.output) == ("done", "Signup")
    with_model = client.run(
        'type "Grace" into "Full name"; extract',
        url=form_url,
        response_model={"type": "object", "properties": {"title": {"type": "string"}}},
        timeout=60,
    )
    assert with_model.status == "done"
    assert isinstance(with_model.output, dict)
    with pytest.raises(TaskFailedError) as info:
        client.run("sing a song", timeout=60)
    assert info.value.status == "failed"
    assert "deterministic instruction language" in str(info.value.output)


# --- the LLM path, against a real OpenAI-compatible server on loopback -------------------------


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
