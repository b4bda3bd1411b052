"""The page at the moment of failure: its URL, title and a size-capped DOM (``page.html``).

Read with one ``evaluate_js`` through the test's own session, so it works on the cloud as on
the local backend. The action is labelled ``EVIDENCE_LABEL`` so that reports leave it out of
the test's event log. No pytest here.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from typing import Final

from pytest_smooth._core.redact import Redactor

EVIDENCE_LABEL: Final = "pytest-smooth:evidence"
MAX_DOM_CHARS: Final = 300_000
SNAPSHOT_TIMEOUT: Final = 10.0
SNAPSHOT_JS: Final = f"""
const root = document.documentElement;
const dom = root ? root.outerHTML : "";
return {{url: String(location.href), title: String(document.title || ""),
         html: dom.slice(0, {MAX_DOM_CHARS}), size: dom.length}};
"""


@dataclass(frozen=True)
class PageState:
    """What the page showed: URL, title, the DOM (capped) and its full size in characters."""

    url: str
    title: str
    html: str
    size: int

    @property
    def truncated(self) -> bool:
        return self.size > len(self.html)

    def document(self) -> str:
        """Return ``page.html``: a comment naming the page, then its DOM."""
        note = f" (first {len(self.html)} of {self.size} characters)" if self.truncated else ""
        comment = html.escape(f"{self.title} - {self.url}{note}").replace("--", "- -")
        return f"<!-- pytest-smooth: DOM at the failure: {comment} -->\n{self.html}\n"


def read_page(session: Any, redactor: Redactor) -> PageState:
    """Read the page of a sync session; every string redacted. Raises what the action raises."""
    label = getattr(session, "label", None)
    session.label = EVIDENCE_LABEL
    try:
        value = session.evaluate_js(SNAPSHOT_JS, timeout=SNAPSHOT_TIMEOUT)
    finally:
        session.label = label
    if not isinstance(value, dict):
        raise TypeError(f"the page snapshot returned {type(value).__name__}, not an object")
    size = value.get("size")
    return PageState(
        url=redactor.redact(str(value.get("url", ""))),
        title=redactor.redact(str(value.get("title", ""))),
        html=redactor.redact(str(value.get("html", ""))),
        size=size if isinstance(size, int) else 0,
    )


def write_page(folder: Path, name: str, state: PageState) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(state.document(), encoding="utf-8")
    return path
