"""What the shared reports carry beyond the section: pytest-html extras and JUnit ``system-out``.

pytest-html (when installed): the links, the event log, the screenshot as an image in the test's
row, and links to the other files by a path relative to the HTML report. JUnit: the event log
and one ``[[ATTACHMENT|path]]`` line per file (the Jenkins and GitLab convention) in the
testcase's ``system-out``, written from the teardown report (it travels from xdist workers as a
report attribute) whatever ``junit_logging`` says.
"""

from __future__ import annotations

import base64
import html
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from typing import Final

import pytest

from pytest_smooth.plugin.attempts import relative
from pytest_smooth.plugin.session_record import SessionRecord

REPORT_JUNIT_OUT: Final = "smooth_junit_out"
IMAGE_SUFFIXES: Final = (".png",)


def html_extras(
    config: pytest.Config,
    report: pytest.TestReport,
    records: Iterable[SessionRecord] = (),
    files: Iterable[Path] = (),
) -> None:
    """Links, event logs and files as pytest-html extras; nothing when pytest-html is absent."""
    if config.pluginmanager.getplugin("html") is None:
        return
    from pytest_html import extras as html_extras_api

    found: list[Any] = list(getattr(report, "extras", []))
    for record in records:
        for name, url in record.links.items():
            found.append(html_extras_api.url(url, name=f"smooth {name} {record.id}"))
        if record.table:
            table = html.escape("\n".join(record.table))
            found.append(html_extras_api.html(f"<pre>smooth session {record.id}\n{table}</pre>"))
    for path in files:
        if path.suffix in IMAGE_SUFFIXES:
            try:
                data = base64.b64encode(path.read_bytes()).decode("ascii")
            except OSError:
                continue
            found.append(html_extras_api.png(data, name=f"smooth {path.name}"))
        elif path.name != "events.json":
            found.append(html_extras_api.url(_from_html(config, path), name=f"smooth {path.name}"))
    report.extras = found  # type: ignore[attr-defined]  # pytest-html's attribute


def _from_html(config: pytest.Config, path: Path) -> str:
    """Return a link to ``path`` that works from where the HTML report is written."""
    target = getattr(config.option, "htmlpath", None)
    if not target:
        return str(path)
    base = (config.invocation_params.dir / Path(target)).parent
    return Path(os.path.relpath(path, base)).as_posix()


def junit_text(config: pytest.Config, sections: Iterable[str], files: Iterable[Path]) -> str:
    """Return the event log sections, then an ``[[ATTACHMENT|path]]`` line per file."""
    lines = [text for text in sections if text]
    lines += [f"[[ATTACHMENT|{relative(config, path)}]]" for path in files]
    return "\n".join(lines)


class JunitSystemOut:
    """Registered by the entry point where reports are logged (not on xdist workers)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Before junitxml closes the testcase at its teardown report: add our system-out."""
        text = getattr(report, REPORT_JUNIT_OUT, None)
        if not isinstance(text, str) or not text or report.when != "teardown":
            return
        try:
            from _pytest.junitxml import xml_key  # pytest has no public handle on the writer
        except ImportError:
            return
        xml = self.config.stash.get(xml_key, None)
        if xml is None:
            return
        element = ET.Element("system-out")
        element.text = _XML_INVALID.sub("?", text)
        xml.node_reporter(report).append(element)


_XML_INVALID: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
