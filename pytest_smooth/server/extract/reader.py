"""Deterministic, schema-guided extraction for the local backend's ``extract`` action.

``await extract(page, schema, prompt)`` reads the values a JSON schema asks for from the DOM of
a Playwright page, with no model: the property names and types guide where to look. The DOM is
read by one ``page.evaluate`` per attempt (``extract_state.js``, ``extract_dom.js``,
``extract_tables.js``, ``extract_pairs.js``, ``extract_groups.js``, ``extract_read.js``,
joined into one function);
the schema is normalised (``extract_schema.py``) and the values coerced
(``extract_coerce.py``) in Python.

Rules the reader follows
------------------------

Names. A property matches a name on the page loosely: case, ``_``, ``-``, spaces and camelCase
do not matter, nor singular/plural (``renews_on`` = "Renews on", ``priceCurrency`` =
``pricecurrency``, ``tags`` = ``tag``, ``sizes`` = ``size``). A label containing all the
property's words also matches ("Email address" for ``email``), after exact matches; so does a
label equal to the property's last words ("Email" for ``customer_email``), after those. A
property's schema ``title`` is a second name.

Where a value comes from, best first:

1. an element whose ``data-testid`` (or ``data-test``, ``data-qa``, ``data-cy``), ``itemprop``,
   ``name``, ``id``, ``aria-label``, ``placeholder`` or ``rel`` is the property name (microdata
   of the nearest ``itemscope`` first, ``<meta itemprop content>`` and ``<link itemprop>``
   included);
2. a label/value pair whose label is the property name: ``<label for>`` or a wrapping
   ``<label>`` and its form control, ``<fieldset>``/``<legend>``, ``aria-labelledby``,
   ``<dt>``/``<dd>``, a two-cell table row (``th``/``td``, footer rows too), the header and
   cells of a table with one data row, a table's ``<caption>``, "Key: value" text (also
   "Key — value", "Key:" then the value on the next line, "Order #1042" for ``order``,
   ``order_number`` or ``order_id``, "1.2k followers" for ``followers``; the deepest element
   showing it), an element made of a short label and its value (``<p>Status <b>Shipped</b>
   </p>``, ``<div><span>Total</span><span>$12</span></div>``, ``<p><b>Seat</b> 14C</p>``),
   a heading exactly named after the property followed by its content;
3. an element with the property name as a class, or as its tag (``<address>``, ``<time>``);
4. the same sources with the looser matches above;
5. for ``title``/``name``/``heading``/``headline`` properties: the headings (``h1``, then
   ``h2``...), then ``<title>`` (headings in main/article before those in
   header/nav/footer; in a repeated item: its first link, bold text, or text line); then a
   short line starting with the property name and ending in a code or number ("Terminal 2"
   for ``terminal``);
6. in a repeated item or a nested object: for ``url``/``link``/``href`` (``<a href>``) and
   ``image``/``src``/``logo``... (``<img src>``) properties its first link or image, for
   ``description``/``summary``/``snippet``/``text``... properties its first paragraph.

Values. A form control gives its value: an input's value, a checkbox its checked state, a
radio group the label of its checked radio, a select its selected option's text, a textarea its
text. Another element gives its visible text, whitespace collapsed (first without struck-out
``<del>``/``<s>`` parts: the price now, not the old one); in an element named after the
property, the value after its "Label:"; ``aria-checked``/``aria-pressed`` give booleans.
The first candidate that fits the type wins:
numbers from text with currency signs and thousands separators ("$1,299.50" -> 1299.5,
"In stock: 12" -> 12, "1 299,50 €" -> 1299.5, "1.2k" -> 1200); integers only from whole
numbers; booleans from checked state, aria-checked, or yes/no, true/false, on/off, ✓/✗; enums
by case-insensitive equality. A property the page does not show is null, never a guess.

Arrays, in document order: the container named after the property (``ul.tags``, ``#feed``,
``[data-testid=products]``, a heading "Tags" followed by a list) gives its list items, table
rows, select options, checked boxes or repeated children; elements named after the singular
(``data-testid="product"``, ``itemprop="review"``, ``class="tag"``) are the items themselves;
a ``<dt>`` with several ``<dd>``, or "Tags: a, b, c" text, gives its parts; a table column
headed by the property name gives its cells. Without a name on the page, an array of objects
comes from the repeated structure whose items show most of the item's properties (table rows,
native or ARIA ``role=table``/``row``/``cell``, with the header (``<thead>``, a first row of
``th`` or of bold cells) mapped to property names and footer rows left out; elements sharing
an ``itemtype``, ``data-testid``, or tag and class under one parent), and an array of strings
from the one list of the page outside nav/header/footer/aside when the object asks for one
such array (in an item: its list).

Pages in the wild (checked against tests/corpus: pandas, nbconvert, Sphinx, MkDocs, Django
admin, Bootstrap, DataTables). A header cell is named by its text without its sort links,
widgets and arrows; several header rows are joined per column (pandas' index name row); a
``<th>`` at the start of a body row is that row's header, read like any cell. A cell with
no text shows its icon: ``<img alt>`` (Django's ``alt="True"``), ``<svg><title>``, or the
``aria-label``/``title`` of the cell or its one child; a cell showing a lone dash is null.
An array of objects with no name on the page comes from the table whose header names at
least half of the item's properties (its rows, none when it shows only a "No matching records"
row), before other repeated structures; a name that falls on a layout box or a toolbar
(``class="row"``, ``id="user-tools"``, a heading over buttons) whose items show none of the
item's properties is passed over. Rows that are not data are left out: hidden rows (template
rows), header rows, a single cell spanning the columns (a message), and the checkboxes of a
selection column (a control's state is read only when asked for). ``#`` in a label is
"number" ("Order #" = ``order_number``). Links and text joined by ``\u203a``, ``»``, ``>``, ``/``
or ``|`` (a breadcrumb) give their parts; "Date: <input>" labels the control after it; an
element holding one form control gives that control's value, not its label; the site's name in
a header/nav (``class="md-header__title"``) ranks after the page's headings for ``title``.

A ``dict[str, X]`` field (an object schema with only ``additionalProperties``) gets every
label/value pair of its element, keyed by the labels as the page writes them.

Nested objects are read inside the element named after the property (by the attributes above,
by tag, e.g. ``<address>`` for ``address``, or by a heading or label); if there is none, from
the parent's scope, and the object is null when none of its properties is found.

Scope. A prompt that is a CSS selector (``#closed``), or contains one (``rows of
`table.open```, "... in #closed"), reads inside the first visible element it matches (for an
array schema, several matches are the items); "in the Reviews section" reads inside the part
of the page under that heading. Ordering, picking and filtering ("the cheapest", "the first 3",
"where category is Books", "in stock") apply to the items read (``prompt.py`` parses the
prompt, ``shaping.py`` applies it); words no form explains are returned as approximations by
``extract_noting``, never ignored silently. Hidden elements
(``display: none``, ``visibility: hidden``, ``hidden``, type=hidden, parked off-screen), scripts
and styles are never read.

Waiting. Extract waits until the DOM has been quiet for ``QUIET_MS`` after load, then reads.
Between reads a cheap probe checks for changes; the DOM is read again only when it changed
(nodes, text, or a class/style/hidden attribute that shows content).
While the result is incomplete (a null or an empty array) and the page loaded or changed less
than ``RECENT_MS`` ago, is still loading, shows that it is (``aria-busy``, a spinner or
"Loading…" text), or has pending timers or fetches
(``window.__smoothPending``, kept when the executor installs ``SETTLE_INIT_SCRIPT``), it reads
again, up to ``min(timeout, SETTLE_LIMIT)`` seconds. So a page that fills itself within about a
second of load is read complete, and a property that is really absent costs at most that wait.
A selector that matches nothing by then is an ``ExtractError``.
"""

from __future__ import annotations

import asyncio
import time
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING
from typing import Any

from pytest_smooth.server.extract.coerce import build_value
from pytest_smooth.server.extract.coerce import is_complete
from pytest_smooth.server.extract.prompt import parse_prompt
from pytest_smooth.server.extract.schema import ExtractError
from pytest_smooth.server.extract.schema import Node
from pytest_smooth.server.extract.schema import normalise_schema
from pytest_smooth.server.extract.shaping import finish
from pytest_smooth.server.extract.shaping import read_target
from pytest_smooth.server.extract.shaping import unread_note

if TYPE_CHECKING:
    from playwright.async_api import Page

__all__ = ["SETTLE_INIT_SCRIPT", "ExtractError", "extract", "extract_noting", "reader_source"]

QUIET_MS = 120.0  # DOM quiet this long after load before a read counts
RECENT_MS = 1000.0  # a page loaded or changed this recently may still be filling
SETTLE_LIMIT = 3.0  # seconds spent re-reading an incomplete result, at most
POLL_INTERVAL = 0.08
_JS_FILES = (
    "extract_state.js",
    "extract_dom.js",
    "extract_tables.js",
    "extract_pairs.js",
    "extract_groups.js",
    "extract_read.js",
)


def _read_js(name: str) -> str:
    return resources.files(__package__ or "pytest_smooth.server").joinpath(name).read_text("utf-8")


@lru_cache(maxsize=1)
def reader_source() -> str:
    """Return the reader as one JavaScript function ``(args) => result`` for page.evaluate."""
    body = "\n".join(_read_js(name) for name in _JS_FILES)
    return "(args) => {\n" + body + "\nreturn main(args);\n}"


@lru_cache(maxsize=1)
def probe_source() -> str:
    """Return the cheap check of the page's settle state, run between reads."""
    return "() => {\n" + _read_js("extract_state.js") + "\nreturn settleState();\n}"


# For the executor's ``context.add_init_script``: counts short timers and fetches in flight
# (``window.__smoothPending``), so extract knows that a page still has work pending.
SETTLE_INIT_SCRIPT = _read_js("extract_settle.js")


def _still_filling(state: dict[str, Any]) -> bool:
    pending = state.get("pending")
    return (
        bool(state.get("busy"))
        or float(state.get("quiet", 0)) < RECENT_MS
        or state.get("ready") != "complete"
        or (isinstance(pending, (int, float)) and pending > 0)
    )


def _destroyed(exc: Exception) -> bool:
    # A navigation during the read destroys the JS context: read the new document instead.
    text = str(exc)
    return "Execution context was destroyed" in text or "navigat" in text.lower()


async def extract(
    page: Page, schema: dict[str, Any], prompt: str | None, *, timeout: float = 10.0
) -> Any:
    """Read the values ``schema`` asks for from ``page``; see the module docstring for the rules.

    Raises ``ExtractError`` for a schema it cannot read, a prompt that is an invalid selector,
    a selector or a section that matches nothing, or a page that does not answer within
    ``timeout``.
    """
    value, _notes = await extract_noting(page, schema, prompt, timeout=timeout)
    return value


async def extract_noting(
    page: Page, schema: dict[str, Any], prompt: str | None, *, timeout: float = 10.0
) -> tuple[Any, list[dict[str, str]]]:
    """Return what ``extract`` returns and the approximations (``{"what", "detail"}``).

    A prompt's words that no form explains come first, as ``what="prompt"``.
    """
    node = normalise_schema(schema)
    if prompt is not None and not isinstance(prompt, str):
        raise ExtractError(f"prompt must be a string or null, got {type(prompt).__name__}")
    plan = parse_prompt(prompt)
    target = read_target(node, plan)
    args = {"schema": target.node, "tries": plan.tries, "section": plan.section}
    value = await _read(page, target.node, args, timeout)
    value, notes = finish(target, value, plan)
    if plan.unread:
        notes.insert(0, unread_note(prompt or "", plan.unread))
    return value, notes


async def _read(page: Page, node: Node, args: dict[str, Any], timeout: float) -> Any:
    start = time.monotonic()
    hard = start + timeout
    soft = start + min(timeout, SETTLE_LIMIT)
    reading = _Reading(page, args, hard, timeout)
    state = await reading.read(soft)
    while True:
        if state.get("error"):
            raise ExtractError(state["error"])
        young = time.monotonic() < soft
        absent = state.get("missing") or state.get("missing_section")
        value = None if absent else build_value(state.get("tree"), node)
        if absent:
            if not young:
                raise ExtractError(_absent_message(state))
        elif not young or (
            float(state.get("quiet", 0)) >= QUIET_MS
            and (is_complete(value, node) or not _still_filling(state))
        ):
            return value
        await asyncio.sleep(POLL_INTERVAL)
        state = await reading.refresh(state, soft)


def _absent_message(state: dict[str, Any]) -> str:
    if state.get("missing"):
        return f"prompt selector {state['missing']!r} matched no visible element"
    return f"prompt section {state['missing_section']!r}: no visible heading with that text"


class _Reading:
    """The reads of one extract: a full read only when the DOM changed since the last one."""

    def __init__(self, page: Page, args: dict[str, Any], hard: float, timeout: float) -> None:
        self.page = page
        self.args = args
        self.hard = hard
        self.timeout = timeout

    async def _evaluate(self, source: str, *args: Any) -> Any:
        remaining = self.hard - time.monotonic()
        if remaining <= 0:
            raise ExtractError(f"extract did not finish within {self.timeout:g} s")
        try:
            return await asyncio.wait_for(self.page.evaluate(source, *args), remaining)
        except asyncio.TimeoutError:
            raise ExtractError(f"extract did not finish within {self.timeout:g} s") from None

    async def read(self, soft: float) -> dict[str, Any]:
        while True:
            try:
                state: dict[str, Any] = await self._evaluate(reader_source(), self.args)
                return state
            except ExtractError:
                raise
            except Exception as exc:
                if not _destroyed(exc) or time.monotonic() >= soft:
                    raise
            await asyncio.sleep(POLL_INTERVAL)

    async def refresh(self, last: dict[str, Any], soft: float) -> dict[str, Any]:
        try:
            probe: dict[str, Any] = await self._evaluate(probe_source())
        except ExtractError:
            raise
        except Exception as exc:
            if not _destroyed(exc):
                raise
            return await self.read(soft)
        same = all(probe.get(k) == last.get(k) for k in ("changes", "url", "ready"))
        return {**last, **probe} if same else await self.read(soft)
