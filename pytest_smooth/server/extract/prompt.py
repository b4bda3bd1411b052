"""Read an ``extract`` prompt into what the DOM reader can do without a model (pure, no I/O).

``parse_prompt(text)`` returns a ``PromptPlan``: the CSS selectors to scope the read by, the
heading of a section to read inside, filters on the items' fields, an order, and which items
to pick. Words that no form explains are kept in ``unread``: the caller flags them (the
reply's ``approximations``) or hands the prompt to the LLM, and never ignores them silently.

The forms (case does not matter; clauses combine, e.g. "the 2 cheapest books in stock in the
Sale section"):

- scope: a CSS selector (``#closed``, ```table.open```, "... in #archived");
  "in the Reviews section", "under the Reviews heading", "in section Reviews";
- order and pick: "the cheapest", "the most expensive", "the highest rated", "the lowest
  rated", "the newest", "the oldest", "the most popular", "the highest|lowest|most|fewest
  <field>", "sorted by <field> [descending]"; "the first", "the last", "the first 3", "the
  top 3", "the 3 cheapest", "the second"; a singular noun after a superlative picks one;
- filters: "where|whose|with <field> is|is not|contains|<|<=|>|>=|under|over|at least|at most
  <value>", "in stock", "out of stock", "under|over|below|above $20" (a price).

Besides those, one word is taken as the items' name ("product", "reviews") and filler words
("the", "all", "list", "of", "items", "page", ...) are passed over.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from dataclasses import field

from pytest_smooth.server.extract.prompt_words import COUNT
from pytest_smooth.server.extract.prompt_words import FILLER
from pytest_smooth.server.extract.prompt_words import NUMBERS
from pytest_smooth.server.extract.prompt_words import OP_NAMES
from pytest_smooth.server.extract.prompt_words import ORDINALS
from pytest_smooth.server.extract.prompt_words import PRICE_FIELDS
from pytest_smooth.server.extract.prompt_words import PRICE_OPERATORS
from pytest_smooth.server.extract.prompt_words import STOCK_FIELDS
from pytest_smooth.server.extract.prompt_words import SUPERLATIVES
from pytest_smooth.server.extract.prompt_words import SYMBOL_OP_RE
from pytest_smooth.server.extract.prompt_words import WORD_OP_RE
from pytest_smooth.server.extract.selectors import CLOSE_QUOTES
from pytest_smooth.server.extract.selectors import OPEN_QUOTES
from pytest_smooth.server.extract.selectors import looks_like_selector
from pytest_smooth.server.extract.selectors import selector_tries
from pytest_smooth.server.extract.selectors import whole_selector

__all__ = ["Filter", "Order", "Pick", "PromptPlan", "parse_prompt"]

# Where a filter's value ends: another clause, a comma, or the end.
_VALUE_END = r"(?=\s+and\s+|\s*[,;]|\s+(?:in|under) the\b|\s+(?:sorted|ordered|where|whose)\b|$)"
_QUOTE = re.escape(OPEN_QUOTES + CLOSE_QUOTES)
_MONEY = r"[$€£¥]?\s*\d[\d,]*(?:\.\d+)?\s*[$€£¥]?"


@dataclass(frozen=True)
class Filter:
    """Keep the items whose field ``field`` (or the first of ``fields`` present) passes ``op``."""

    op: str  # eq ne contains excludes lt le gt ge in_stock out_of_stock
    value: str | float | None
    fields: tuple[str, ...]
    text: str  # the clause as written, for messages


@dataclass(frozen=True)
class Order:
    """Sort the items by the first of ``fields`` they have."""

    fields: tuple[str, ...]
    descending: bool
    text: str


@dataclass(frozen=True)
class Pick:
    """Keep ``count`` items from the start (after skipping ``offset``) or from the end."""

    end: str  # "first" or "last"
    count: int
    offset: int = 0


@dataclass
class PromptPlan:
    """What a prompt asks of the DOM reader."""

    tries: list[tuple[str, bool, bool]] = field(default_factory=list)  # (selector, strict, firm)
    section: str | None = None
    filters: list[Filter] = field(default_factory=list)
    order: Order | None = None
    pick: Pick | None = None
    unread: str | None = None  # words no form explains

    @property
    def reshapes(self) -> bool:
        """Whether the items read are filtered, sorted or picked."""
        return bool(self.filters or self.order or self.pick)


def parse_prompt(prompt: str | None) -> PromptPlan:
    """Return the plan of ``prompt`` (an empty plan for None or blank)."""
    plan = PromptPlan()
    text = " ".join((prompt or "").split())
    if not text:
        return plan
    if whole_selector(text):
        plan.tries = [(text, True, True)]
        return plan
    rest = _take_selectors(text, plan)
    rest = _take_section(rest, plan)
    rest = _take_filters(rest, plan)
    rest, singular_hint = _take_order(rest, plan)
    rest = _take_pick(rest, plan)
    words = [w for w in re.findall(r"[\w'-]+", rest.lower()) if w not in FILLER]
    if plan.order is not None and plan.pick is None and singular_hint:
        noun_plural = bool(words) and words[-1].endswith("s") and not words[-1].endswith("ss")
        if not noun_plural:
            plan.pick = Pick("first", 1)
    if len(words) > 1:
        plan.unread = " ".join(words)
    return plan


def _take_selectors(text: str, plan: PromptPlan) -> str:
    plan.tries = selector_tries(text)
    rest = re.sub(r"`[^`]+`", " ", text)
    return " ".join(t for t in rest.split() if not looks_like_selector(re.sub(r"[.,;!?]+$", "", t)))


def _take_section(text: str, plan: PromptPlan) -> str:
    patterns = (
        r"\b(?:in|from|within|inside) the (?:section|part) (?:titled|named|called|headed) "
        rf"[{_QUOTE}]?(?P<name>.+?)[{_QUOTE}]?" + _VALUE_END,
        rf"\b(?:in|from|within|inside|under) the [{_QUOTE}]?(?P<name>.+?)[{_QUOTE}]? "
        r"(?:section|heading|part|tab|panel)\b",
        rf"\b(?:in|from|under) (?:section|heading) [{_QUOTE}]?(?P<name>.+?)[{_QUOTE}]?"
        + _VALUE_END,
    )
    for pattern in patterns:
        match = re.search(pattern, text, re.IGNORECASE)
        if match:
            plan.section = match.group("name").strip()
            return (text[: match.start()] + " " + text[match.end() :]).strip()
    return text


def _number(raw: str) -> float | None:
    digits = re.sub(r"[^\d.]", "", raw.replace(",", ""))
    try:
        return float(digits) if digits else None
    except ValueError:
        return None


def _value(raw: str) -> str | float:
    raw = raw.strip().strip(OPEN_QUOTES + CLOSE_QUOTES)
    if re.fullmatch(_MONEY, raw):
        number = _number(raw)
        if number is not None:
            return number
    return raw


def _take_filters(text: str, plan: PromptPlan) -> str:
    stock = re.search(r"\b(?:that are )?(out of stock|sold out|unavailable)\b", text, re.I)
    if stock:
        plan.filters.append(Filter("out_of_stock", None, STOCK_FIELDS, stock.group(1)))
        text = text[: stock.start()] + " " + text[stock.end() :]
    stock = re.search(r"\b(?:that are )?(in stock|available)\b", text, re.I)
    if stock:
        plan.filters.append(Filter("in_stock", None, STOCK_FIELDS, stock.group(1)))
        text = text[: stock.start()] + " " + text[stock.end() :]
    clause = re.compile(
        r"\b(?:where|whose|with|having|and)\s+(?:the\s+|a\s+|an\s+)?(?P<field>[\w ]+?)"
        rf"(?:\s+(?P<word>{WORD_OP_RE})\s+|\s*(?P<sym>{SYMBOL_OP_RE})\s*)"
        rf"(?P<value>\"[^\"]*\"|'[^']*'|.+?){_VALUE_END}",
        re.IGNORECASE,
    )
    while (match := clause.search(text)) is not None:
        op = OP_NAMES[(match.group("word") or match.group("sym")).lower()]
        name = match.group("field").strip()
        value = _value(match.group("value"))
        plan.filters.append(Filter(op, value, (name,), match.group(0).strip()))
        text = _cut(text, match)
    price_ops = "|".join(re.escape(w) for w in sorted(PRICE_OPERATORS, key=len, reverse=True))
    price = re.compile(
        rf"\b(?:priced |costing )?(?P<op>{price_ops})\s+(?P<value>{_MONEY})(?=\s|$|[,;])",
        re.IGNORECASE,
    )
    while (match := price.search(text)) is not None:
        number = _number(match.group("value"))
        op = PRICE_OPERATORS[match.group("op").lower()]
        plan.filters.append(Filter(op, number, PRICE_FIELDS, match.group(0).strip()))
        text = _cut(text, match)
    return text


def _cut(text: str, match: re.Match[str]) -> str:
    """Remove ``match`` from ``text``, and an "and" or comma left dangling at its end."""
    text = (text[: match.start()] + " " + text[match.end() :]).strip()
    return re.sub(r"\s+(?:and|,)$|\s+and(?=\s+and\b)", "", text).strip()


def _count(raw: str | None) -> int | None:
    if raw is None:
        return None
    return int(raw) if raw.isdigit() else NUMBERS.get(raw.lower())


def _take_order(text: str, plan: PromptPlan) -> tuple[str, bool]:
    """Take a superlative or "sorted by"; the bool says a singular noun would pick one."""
    for words, fields, descending in SUPERLATIVES:
        match = re.search(rf"\b(?:{COUNT}\s+)?(?P<word>{words})\b", text, re.IGNORECASE)
        if match:
            plan.order = Order(fields, descending, match.group("word"))
            count = _count(match.group("n"))
            if count is not None:
                plan.pick = Pick("first", count)
            return text[: match.start()] + " " + text[match.end() :], True
    match = re.search(
        rf"\b(?:{COUNT}\s+)?(?:with the\s+)?(?P<dir>highest|largest|biggest|most|greatest|"
        r"lowest|smallest|fewest|least)\s+(?P<field>[\w-]+)",
        text,
        re.IGNORECASE,
    )
    if match:
        descending = match.group("dir").lower() in ("highest", "largest", "biggest", "most",
                                                    "greatest")  # fmt: skip
        plan.order = Order((match.group("field"),), descending, match.group(0).strip())
        count = _count(match.group("n"))
        if count is not None:
            plan.pick = Pick("first", count)
        return text[: match.start()] + " " + text[match.end() :], True
    match = re.search(
        rf"\b(?P<end>top|bottom)(?:\s+{COUNT})?(?:\s+[\w-]+)?\s+by\s+(?P<field>[\w-]+)",
        text,
        re.IGNORECASE,
    )
    if match:
        top = match.group("end").lower() == "top"
        plan.order = Order((match.group("field"),), top, match.group(0).strip())
        plan.pick = Pick("first", _count(match.group("n")) or 1)
        return text[: match.start()] + " " + text[match.end() :], False
    match = re.search(
        r"\b(?:(?:sorted|ordered|sort|order|ranked)\s+)?by\s+(?P<field>[\w-]+)"
        r"(?:\s+(?P<dir>ascending|descending|asc|desc|increasing|decreasing)\b)?",
        text,
        re.IGNORECASE,
    )
    if match:
        descending = (match.group("dir") or "").lower() in ("desc", "descending", "decreasing")
        plan.order = Order((match.group("field"),), descending, match.group(0).strip())
        return text[: match.start()] + " " + text[match.end() :], False
    return text, False


def _take_pick(text: str, plan: PromptPlan) -> str:
    match = re.search(rf"\b(?P<end>first|last|top|bottom)(?:\s+{COUNT})?\b", text, re.I)
    if match:
        end = "last" if match.group("end").lower() in ("last", "bottom") else "first"
        plan.pick = Pick(end, _count(match.group("n")) or 1)
        return text[: match.start()] + " " + text[match.end() :]
    match = re.search(r"\b(?P<ord>second|third|fourth|fifth|2nd|3rd|4th|5th)\b", text, re.I)
    if match:
        plan.pick = Pick("first", 1, ORDINALS[match.group("ord").lower()] - 1)
        return text[: match.start()] + " " + text[match.end() :]
    return text
