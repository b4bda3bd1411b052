"""The local backend's deterministic extract: coercion and schemas (pure), then real pages.

The browser half serves every case folder under ``tests/extract_pages`` (``shared/``: the
team's cases; ``own/``: pages written differently) over HTTP on loopback, opens each in
Chromium, runs ``extract`` and compares with the case's ``expected``.
"""

from __future__ import annotations

import asyncio
import functools
import http.server
import json
import sys
import threading
from collections.abc import AsyncIterator
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from pydantic import BaseModel

from pytest_smooth.server.browser.discovery import CHROMIUM_ARGS
from pytest_smooth.server.browser.discovery import BrowserNotFoundError
from pytest_smooth.server.browser.discovery import find_browser
from pytest_smooth.server.extract import reader as extract_mod
from pytest_smooth.server.extract.coerce import build_value
from pytest_smooth.server.extract.coerce import coerce_scalar
from pytest_smooth.server.extract.coerce import is_complete
from pytest_smooth.server.extract.coerce import to_boolean
from pytest_smooth.server.extract.coerce import to_integer
from pytest_smooth.server.extract.coerce import to_number
from pytest_smooth.server.extract.coerce import to_string
from pytest_smooth.server.extract.reader import SETTLE_INIT_SCRIPT
from pytest_smooth.server.extract.reader import ExtractError
from pytest_smooth.server.extract.reader import extract
from pytest_smooth.server.extract.schema import normalise_schema

PAGES = Path(__file__).parent / "extract_pages"
CASES = sorted(p.parent for p in PAGES.glob("*/*/case.json"))

# --- coercion (pure) ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "number"),
    [
        ("$1,299.50", 1299.5),
        ("€24.00", 24.0),
        ("In stock: 12", 12.0),
        ("1,024", 1024.0),
        ("1 299,50 €", 1299.5),
        ("1.234.567", 1234567.0),
        ("1.299,50", 1299.5),
        ("9,50 €", 9.5),
        ("-$5.00", -5.0),
        ("Temp \u22123 °C", -3.0),
        ("T-1", 1.0),
        ("1.2k followers", 1200.0),
        ("3M", 3e6),
        ("2 \u00d7 Coffee", 2.0),
        ("12, 13", 12.0),
        ("Rated 4.6 out of 5", 4.6),
        ("1'000", 1000.0),
        (7, 7.0),
        ("free", None),
        ("", None),
        (None, None),
        (True, None),
    ],
)
def test_to_number(raw: Any, number: float | None) -> None:
    assert to_number(raw) == number


def test_integers_only_from_whole_numbers() -> None:
    assert to_integer("24.00") == 24
    assert to_integer("Seats: 25") == 25
    assert to_integer("4.5") is None
    assert to_integer("none") is None


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        *[(True, True), (False, False), ("Yes", True), ("on", True), ("✓", True)],
        *[("No.", False), ("off", False), ("maybe", None), ("", None), (None, None)],
    ],
)
def test_to_boolean(raw: Any, value: bool | None) -> None:
    assert to_boolean(raw) is value


def test_strings_trimmed_collapsed_and_never_from_booleans() -> None:
    assert to_string("  We need \n  SSO ") == "We need SSO"
    assert to_string("   ") is None
    assert to_string(True) is None
    assert to_string(12) == "12"


def test_coerce_tries_types_in_order_and_enums_by_name() -> None:
    assert coerce_scalar("12", {"types": ["integer", "string"], "enum": None}) == 12
    assert coerce_scalar("twelve", {"types": ["integer", "string"], "enum": None}) == "twelve"
    status = {"types": ["string"], "enum": ["pending", "shipped"]}
    assert coerce_scalar("Shipped", status) == "shipped"
    assert coerce_scalar("Lost", status) is None


def test_build_value_picks_the_first_candidate_that_fits() -> None:
    node = normalise_schema(
        {
            "type": "object",
            "properties": {
                "total": {"type": "number"},
                "tags": {"type": "array", "items": {"type": "integer"}},
                "seller": {"type": "object", "properties": {"name": {"type": "string"}}},
            },
        }
    )
    tree = {
        "o": {
            "total": {"c": ["Free", "$3.50"]},
            "tags": {"a": [{"c": ["1"]}, {"c": ["x"]}, {"c": ["3"]}]},
            "seller": {"o": {"name": {"c": []}}, "found": False},
        },
        "found": True,
    }
    value = build_value(tree, node)
    assert value == {"total": 3.5, "tags": [1, 3], "seller": None}
    assert not is_complete(value, node)
    assert is_complete({"total": 1.0, "tags": [1], "seller": {"name": "x"}}, node)


# --- schema normalisation (pure) ---------------------------------------------------------------


class Address(BaseModel):
    city: str
    postcode: str | None = None


class Line(BaseModel):
    sku: str
    qty: int


class Order(BaseModel):
    number: str
    total: float | None = None
    paid: bool
    ship_to: Address | None = None
    lines: list[Line]


def test_pydantic_schema_with_defs_and_optionals() -> None:
    node = normalise_schema(Order.model_json_schema())
    props = {p["name"]: p["node"] for p in node["properties"]}
    assert props["total"] == {"kind": "scalar", "types": ["number"], "enum": None, "nullable": True}
    assert props["ship_to"]["kind"] == "object"
    assert props["ship_to"]["nullable"] is True
    assert [p["name"] for p in props["ship_to"]["properties"]] == ["city", "postcode"]
    assert props["lines"]["items"]["kind"] == "object"
    assert props["paid"]["types"] == ["boolean"]


def test_refs_allof_titles_and_recursion() -> None:
    schema = {
        "$defs": {
            "Node": {
                "type": "object",
                "properties": {"label": {"type": "string"}, "kids": {"$ref": "#/$defs/Kids"}},
            },
            "Kids": {"type": "array", "items": {"$ref": "#/$defs/Node"}},
        },
        "allOf": [{"$ref": "#/$defs/Node"}],
        "properties": {"renews": {"type": "string", "title": "Renewal date"}},
    }
    node = normalise_schema(schema)
    names = {p["name"]: p["names"] for p in node["properties"]}
    assert names == {"renews": ["renews", "Renewal date"], "label": ["label"], "kids": ["kids"]}
    depth, current = 0, node
    while current["kind"] != "none":
        kids = next(p["node"] for p in current["properties"] if p["name"] == "kids")
        current = kids["items"] if kids["kind"] == "array" else kids
        depth += 1
    assert depth >= 2


class Phone(BaseModel):
    name: str
    specs: dict[str, str]
    scores: list[dict[str, float]]


def test_dict_fields_read_every_pair() -> None:
    node = normalise_schema(Phone.model_json_schema())
    props = {p["name"]: p["node"] for p in node["properties"]}
    assert props["specs"]["kind"] == "map"
    assert props["scores"]["items"]["values"]["types"] == ["number"]
    tree = {"m": [["Weight", ["172 g"]], ["Speed", ["fast"]], ["Weight", ["1 kg"]]]}
    assert build_value(tree, props["scores"]["items"]) == {"Weight": 172.0}
    assert build_value(tree, props["specs"]) == {"Weight": "172 g", "Speed": "fast"}
    assert not is_complete({}, props["specs"])


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        ({"type": "string"}, "object or an array at the top level"),
        ([], "must be a JSON schema object"),
        ({"type": "object", "properties": {"a": {"type": "text"}}}, "unknown type 'text'"),
        ({"type": "object", "properties": {"a": {"$ref": "#/$defs/No"}}}, "cannot resolve \\$ref"),
        ({"type": "object", "properties": {"a": {"$ref": "other.json#/x"}}}, "only local refs"),
        ({"type": "object", "properties": {"a": {"anyOf": []}}}, "non-empty list"),
        ({"type": "object", "additionalProperties": {"type": "array"}}, "must be a scalar"),
    ],
)
def test_unreadable_schemas_raise(schema: Any, message: str) -> None:
    with pytest.raises(ExtractError, match=message):
        normalise_schema(schema)


def test_reader_ships_as_one_function() -> None:
    source = extract_mod.reader_source()
    assert source.startswith("(args) => {")
    assert source.rstrip().endswith("return main(args);\n}")
    for name in ("function settleState", "function tableInfo", "function kvPairs", "function main"):
        assert name in source
    assert "__smoothPending" in SETTLE_INIT_SCRIPT


# --- real pages in Chromium --------------------------------------------------------------------


class _Handler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {  # noqa: RUF012 - the stdlib declares it as a class attribute
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".html": "text/html; charset=utf-8",
    }

    def log_message(self, format: str, *args: Any) -> None:
        """Keep the test output clean."""


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Handler, directory=str(PAGES))
    )
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, name="extract-pages", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    thread.join(timeout=10)
    httpd.server_close()


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def engine() -> AsyncIterator[Any]:
    try:
        target = find_browser()
    except BrowserNotFoundError as exc:
        pytest.skip(f"no browser: {exc}")
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        kind = target.kind
        location = target.location if kind == "executable" else None
        launched = await pw.chromium.launch(
            executable_path=location, args=list(CHROMIUM_ARGS), headless=True, timeout=60_000
        )
        try:
            yield launched
        finally:
            await launched.close()


async def _run_case(engine: Any, site: str, folder: Path) -> tuple[Any, Any]:
    case = json.loads((folder / "case.json").read_text(encoding="utf-8"))
    # As the executor does: the init script lets extract see timers and fetches still pending,
    # so late content is awaited however slow a loaded machine runs the page.
    context = await engine.new_context()
    await context.add_init_script(SETTLE_INIT_SCRIPT)
    try:
        page = await context.new_page()
        await page.goto(f"{site}/{folder.relative_to(PAGES).as_posix()}/page.html", timeout=30_000)
        got = await extract(page, case["schema"], case["prompt"], timeout=10.0)
    finally:
        await context.close()
    return got, case["expected"]


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def results(engine: Any, site: str) -> dict[Path, tuple[Any, Any]]:
    """Run every case once, a few pages at a time; each case's test reads its own result."""
    gate = asyncio.Semaphore(3)  # the machine may have only 2 cores

    async def run(folder: Path) -> tuple[Any, Any]:
        async with gate:
            try:
                return await _run_case(engine, site, folder)
            except Exception as exc:  # reported by the case's own test
                return f"{type(exc).__name__}: {exc}", "(no error)"

    outcomes = await asyncio.gather(*(run(f) for f in CASES))
    return dict(zip(CASES, outcomes, strict=True))


@pytest.mark.browser
@pytest.mark.parametrize("folder", CASES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_case(results: dict[Path, tuple[Any, Any]], folder: Path) -> None:
    got, expected = results[folder]
    assert got == expected


@pytest.mark.browser
def test_score(results: dict[Path, tuple[Any, Any]], capsys: pytest.CaptureFixture[str]) -> None:
    assert len(CASES) >= 66
    wrong = [f"{f.parent.name}/{f.name}" for f, (got, exp) in results.items() if got != exp]
    parts = []
    for group in ("shared", "own"):
        tried = [f for f in CASES if f.parent.name == group]
        right = [f for f in tried if f"{group}/{f.name}" not in wrong]
        parts.append(f"{group} {len(right)}/{len(tried)}")
    with capsys.disabled():
        sys.stdout.write(
            f"\nextract score: {len(CASES) - len(wrong)}/{len(CASES)} cases right"
            f" ({', '.join(parts)})\n"
        )
    assert not wrong, f"wrong: {', '.join(wrong)}"


async def _content(engine: Any, html: str) -> Any:
    page = await engine.new_page()
    await page.set_content(html)
    return page


@pytest.mark.browser
@pytest.mark.asyncio(loop_scope="module")
async def test_prompt_errors(engine: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(extract_mod, "SETTLE_LIMIT", 0.2)
    page = await _content(engine, "<h1>Hi</h1><p id='a'>Name: x</p>")
    schema = {"type": "object", "properties": {"name": {"type": "string"}}}
    try:
        with pytest.raises(ExtractError, match="not a valid CSS selector"):
            await extract(page, schema, "#a[", timeout=5)
        with pytest.raises(ExtractError, match="'#missing' matched no visible element"):
            await extract(page, schema, "#missing", timeout=5)
        with pytest.raises(ExtractError, match="unknown type"):
            await extract(page, {"type": "object", "properties": {"n": {"type": "int"}}}, None)
        assert await extract(page, schema, "the name in `#a` please", timeout=5) == {"name": "x"}
        assert await extract(page, schema, "What is the name?", timeout=5) == {"name": "x"}
        said = 'the "name", e.g. in example.com or i.e. "Title"'
        assert await extract(page, schema, said, timeout=5) == {"name": "x"}
        price = {"type": "object", "properties": {"a": {"type": "string"}}}
        assert await extract(page, price, "#a", timeout=5) == {"a": "Name: x"}
    finally:
        await page.close()


@pytest.mark.browser
@pytest.mark.asyncio(loop_scope="module")
async def test_array_schema_with_selector_matching_several(engine: Any) -> None:
    page = await _content(
        engine,
        "<div class=r><b>Ann</b> <i>Age: 30</i></div><div class=r><b>Bo</b> <i>Age: 4</i></div>"
        "<div class=x><b>Decoy</b> <i>Age: 99</i></div>",
    )
    schema = {
        "type": "array",
        "items": {"type": "object", "properties": {"name": {"type": "string"}, "age": {}}},
    }
    try:
        got = await extract(page, schema, ".r", timeout=5)
    finally:
        await page.close()
    assert got == [{"name": "Ann", "age": "30"}, {"name": "Bo", "age": "4"}]


@pytest.mark.browser
@pytest.mark.asyncio(loop_scope="module")
async def test_settle_init_script_counts_pending_timers(engine: Any) -> None:
    context = await engine.new_context()
    await context.add_init_script(SETTLE_INIT_SCRIPT)
    page = await context.new_page()
    try:
        await page.set_content("<p>x</p>")
        counts = await page.evaluate(
            """() => {
              const before = window.__smoothPending;
              const id = setTimeout(() => {}, 1000);
              const during = window.__smoothPending;
              setTimeout(() => {}, 60000);
              const long = window.__smoothPending;
              clearTimeout(id);
              return [before, during, long, window.__smoothPending];
            }"""
        )
        assert counts == [counts[0], counts[0] + 1, counts[0] + 1, counts[0]]
        await page.evaluate("() => new Promise((ok) => setTimeout(ok, 10))")
        await page.wait_for_function("window.__smoothPending === 0", timeout=5_000)
        during_xhr = await page.evaluate(
            """() => new Promise((ok) => {
              const x = new XMLHttpRequest();
              x.open("GET", "data:text/plain,hi");
              x.send();
              ok(window.__smoothPending);
            })"""
        )
        assert during_xhr == 1
        await page.wait_for_function("window.__smoothPending === 0", timeout=5_000)
    finally:
        await context.close()
