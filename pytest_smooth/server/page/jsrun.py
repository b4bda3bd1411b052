"""evaluate_js: the three documented forms as one ``page.evaluate`` call, the result as JSON.

Forms (smooth-api.md 1.5): a bare expression (``document.title``), a function body with
``return`` (``const a = 1; return a + 1``), and a function taking the args
(``(args) => args.x * 2``, ``function (args) {...}``, async ones too). The form is decided here,
in Python, by a small scanner, so each call is exactly one round trip to the page: only a
body needs wrapping; Playwright itself calls a function-valued expression with the args.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from typing import Any
from typing import Literal
from urllib.parse import ParseResult

MAX_RESULT_BYTES = 1024 * 1024

Form = Literal["expression", "body", "function"]

_FUNCTION_START = re.compile(r"^(?:async\s+)?function\b")
_ARROW_IDENT = re.compile(r"^(?:async\s+)?[A-Za-z_$][\w$]*\s*=>")
_WORD = re.compile(r"[A-Za-z_$][\w$]*")


def _skip_string(src: str, i: int) -> int:
    """Index just past the string/template literal or comment starting at ``i``."""
    quote = src[i]
    if src.startswith("//", i):
        end = src.find("\n", i)
        return len(src) if end < 0 else end
    if src.startswith("/*", i):
        end = src.find("*/", i + 2)
        return len(src) if end < 0 else end + 2
    i += 1
    while i < len(src) and src[i] != quote:
        i += 2 if src[i] == "\\" else 1
    return i + 1


def _top_level(src: str) -> tuple[bool, int]:
    """Scan ``src`` for a top-level ``return`` and the ``)`` closing a leading ``(`` (or -1).

    Strings, template literals and comments are skipped.
    """
    depth = 0
    has_return = False
    close_of_first = -1
    i = 0
    n = len(src)
    while i < n:
        ch = src[i]
        if ch in "'\"`" or src.startswith(("//", "/*"), i):
            i = _skip_string(src, i)
            continue
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
            if depth == 0 and close_of_first < 0 and src[0] == "(" and ch == ")":
                close_of_first = i
        elif depth == 0 and (ch.isalpha() or ch in "_$"):
            word = _WORD.match(src, i)
            if word:
                if word.group() == "return":
                    has_return = True
                i = word.end()
                continue
        i += 1
    return has_return, close_of_first


def classify(js: str) -> Form:
    """Which of the three documented forms ``js`` is.

    Statements without ``return`` (``const a = 1; a + 1``) count as an expression: Playwright
    evaluates them with ``eval`` and returns the completion value, as a console would.
    """
    src = js.strip()
    has_return, close_of_first = _top_level(src)
    if has_return:
        return "body"
    if _FUNCTION_START.match(src) or _ARROW_IDENT.match(src):
        return "function"
    rest = src
    if rest.startswith("async"):
        rest = rest[5:].lstrip()
        _, close_of_first = _top_level(rest)
    if rest.startswith("(") and close_of_first >= 0:
        if rest[close_of_first + 1 :].lstrip().startswith("=>"):
            return "function"
    return "expression"


def prepare(js: str, args: Any) -> tuple[str, Any]:
    """Return the source and argument for ``page.evaluate``.

    A body becomes an async arrow function whose parameter is named ``args``, as in Smooth's docs.
    """
    if classify(js) == "body":
        return f"async (args) => {{\n{js}\n}}", args
    return js, args


def js_error_message(message: str) -> str:
    """Playwright's error text without its ``Page.evaluate:`` prefix and the stack lines."""
    text = re.sub(r"^\w+\.\w+: ", "", message.strip())
    lines = [ln for ln in text.splitlines() if not ln.lstrip().startswith("at ")]
    kept = "\n".join(lines).split("\nCall log:")[0].strip()
    return kept or "JavaScript error"


class ResultError(ValueError):
    """The value cannot be returned (not JSON-serializable, or too large)."""


def _to_json(value: Any, seen: set[int]) -> Any:
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        # JSON.stringify turns NaN and the infinities into null; so do we.
        return value if math.isfinite(value) else None
    if isinstance(value, dt.datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, ParseResult):
        return value.geturl()
    if isinstance(value, (list, tuple, dict)):
        if id(value) in seen:
            raise ResultError("the result is not JSON-serializable: it contains a cycle")
        seen.add(id(value))
        try:
            if isinstance(value, dict):
                return {str(k): _to_json(v, seen) for k, v in value.items()}
            return [_to_json(v, seen) for v in value]
        finally:
            seen.discard(id(value))
    raise ResultError(f"the result is not JSON-serializable: {type(value).__name__}")


def encode_result(value: Any, limit: int = MAX_RESULT_BYTES) -> Any:
    """Return the JSON form of ``value``; ResultError when impossible or over ``limit`` bytes."""
    clean = _to_json(value, set())
    if isinstance(clean, str) and len(clean) < limit // 4:
        return clean  # cheap path: a short string cannot be over the limit
    size = len(json.dumps(clean, ensure_ascii=False).encode())
    if size > limit:
        raise ResultError(
            f"the result is {size} bytes of JSON, over the local backend's limit of {limit}"
            " bytes; return less (e.g. slice it in the script)"
        )
    return clean
