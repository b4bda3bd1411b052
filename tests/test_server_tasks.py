"""run_task's deterministic instruction language, on real pages.

The parser; every instruction on a real form through the HTTP API; tool calls, uploads,
secrets and one-shot tasks. The optional LLM is in test_server_tasks_llm.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from pytest_smooth._core.exceptions import SmoothActionError
from pytest_smooth._core.exceptions import TaskFailedError
from pytest_smooth.client.sync_client import SmoothClient
from pytest_smooth.server.agent.language import Instruction
from pytest_smooth.server.agent.language import UnknownInstruction
from pytest_smooth.server.agent.language import parse_instruction
from pytest_smooth.server.agent.language import parse_instructions
from pytest_smooth.server.agent.language import split_instructions
from pytest_smooth.server.local import LocalServer
from tests.browser_support import form_page
from tests.fixtures_server import StaticSite

SECRET = "s3cr3t-Pa55word"


@pytest.fixture(scope="module")
def form_url(static_site: StaticSite) -> str:
    return form_page(static_site)


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
    items, unknown = parse_instructions(
        "go to https://a.test; book the cheapest flight; return url"
    )
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
