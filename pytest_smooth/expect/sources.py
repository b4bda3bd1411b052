"""Where an expectation's value comes from, and the cross-checks of an extraction (no pytest).

A :class:`Source` is ``evaluate_js(code, args)`` or ``extract(schema, prompt)``; a
:class:`CrossCheck` reads one fact of the extraction again through ``evaluate_js`` (the DOM as
an oracle) and says whether both readings agree.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any
from typing import Literal

from pytest_smooth.expect.attempts import OracleMismatch
from pytest_smooth.expect.matchers import plain
from pytest_smooth.expect.matchers import short_repr

__all__ = ["CrossCheck", "Source", "oracle_mismatch"]


@dataclass(frozen=True)
class CrossCheck:
    """Read the same fact with ``evaluate_js`` and compare it with a field of the extraction."""

    js: str
    field: str | None
    args: Any
    compare: Callable[[Any, Any], bool] | None

    def extracted(self, value: Any) -> Any:
        """Return the field (a dotted path; list indexes as numbers) of the extracted value."""
        current = plain(value)
        for part in (self.field or "").split(".") if self.field else ():
            if isinstance(current, Mapping):
                current = current[part]
            elif isinstance(current, (list, tuple)):
                current = current[int(part)]
            else:
                current = getattr(current, part)
            current = plain(current)
        return current

    def step(self, session: Any, timeout: float) -> Callable[[], Any]:
        """Return the call that reads the fact from the DOM."""
        return partial(session.evaluate_js, self.js, self.args, timeout=timeout)

    def agree(self, extracted: Any, dom: Any) -> bool:
        """Tell whether both readings say the same (strings compare whitespace-collapsed)."""
        if self.compare is not None:
            return bool(self.compare(extracted, dom))
        return bool(_normal(extracted) == _normal(dom))


def _normal(value: Any) -> Any:
    # textContent carries layout whitespace, and the DOM gives numbers as text.
    if isinstance(value, str):
        text = " ".join(value.split())
        try:
            return float(text)
        except ValueError:
            return text
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return value


@dataclass(frozen=True)
class Source:
    """Where the value comes from: ``evaluate_js(code, args)`` or ``extract(schema, prompt)``."""

    kind: Literal["js", "extract"]
    what: Any
    extra: Any = None
    checks: tuple[CrossCheck, ...] = ()

    def label(self) -> str:
        if self.kind == "js":
            args = "" if self.extra is None else f", args={short_repr(self.extra, 60)}"
            text = f"js({short_repr(self.what, 120)}{args})"
        else:
            schema = getattr(self.what, "__name__", None) or short_repr(self.what, 60)
            prompt = "" if self.extra is None else f", prompt={short_repr(self.extra, 60)}"
            text = f"extract({schema}{prompt})"
        for check in self.checks:
            text += f".cross_check(js={short_repr(check.js, 80)}, field={check.field!r})"
        return text

    def step(self, session: Any, timeout: float) -> Callable[[], Any]:
        """Return the call that fetches the value (a partial: no frame of ours in tracebacks)."""
        if self.kind == "js":
            return partial(session.evaluate_js, self.what, self.extra, timeout=timeout)
        return partial(session.extract, self.what, self.extra, timeout=timeout)


def oracle_mismatch(check: CrossCheck, value: Any, dom: Any) -> OracleMismatch | None:
    field = check.field or "(the whole value)"
    try:
        extracted = check.extracted(value)
    except (KeyError, IndexError, AttributeError, ValueError):
        return OracleMismatch(field, "<missing>", check.js, dom)
    return None if check.agree(extracted, dom) else OracleMismatch(field, extracted, check.js, dom)
