"""Find the CSS selectors in an ``extract`` prompt, as the DOM reader tries them (pure)."""

from __future__ import annotations

import re
from typing import Final

__all__ = ["CLOSE_QUOTES", "OPEN_QUOTES", "looks_like_selector", "selector_tries", "whole_selector"]

# Straight and typographic quotes (written as escapes: they look alike in an editor).
OPEN_QUOTES: Final = "\"'\u201c\u2018"
CLOSE_QUOTES: Final = "\"'\u201d\u2019"
_OPEN = re.escape(OPEN_QUOTES)
_CLOSE = re.escape(CLOSE_QUOTES)


def whole_selector(text: str) -> bool:
    return bool(re.match(r"[#.\[]", text)) or (" " not in text and looks_like_selector(text))


def looks_like_selector(token: str) -> bool:
    return bool(re.match(r"[#.\[]", token) or re.match(r"(?i)[a-z][a-z0-9-]*[#.\[:]\S", token))


def selector_tries(text: str) -> list[tuple[str, bool, bool]]:
    """List the CSS selectors in ``text`` as the reader tries them: (selector, strict, firm).

    Backticked ones are strict (invalid is an error) and firm (matching nothing is worth
    waiting for); quoted and bare tokens only when they look like selectors, firm when they
    start with ``#``, ``.`` or ``[``.
    """
    tries: list[tuple[str, bool, bool]] = []
    for quoted in re.findall(r"`([^`]+)`", text):
        tries.append((quoted.strip(), True, True))
    for quoted in re.findall(rf"[{_OPEN}]([^{_CLOSE}]+)[{_CLOSE}]", text):
        if looks_like_selector(quoted.strip()):
            tries.append((quoted.strip(), False, bool(re.match(r"[#.\[]", quoted.strip()))))
    for token in text.split():
        t = re.sub(rf"[,;!?){_CLOSE}]+$", "", token)
        t = re.sub(rf"^[{_OPEN}(]+", "", t)
        t = t[:-1] if t.endswith(".") else t
        if looks_like_selector(t):
            tries.append((t, False, bool(re.match(r"[#.\[]", t))))
    return tries
