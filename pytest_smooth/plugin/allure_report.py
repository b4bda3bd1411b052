"""Allure: a failed attempt's files attached to its test, its links and session ids added.

Only when allure-pytest is active (``--alluredir``: it registers ``allure_listener``). Called
from the teardown report of a failed attempt: allure-pytest keeps the test's result open until
``pytest_runtest_logfinish`` and attaches to it from the same hooks. The files were redacted
when written (``redaction.py``), the links follow ``smooth_report_links``, and the session id
is a parameter excluded from Allure's history id (it changes every run).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from typing import Final

import pytest

from pytest_smooth.plugin.session_record import SessionRecord

LISTENER: Final = "allure_listener"
SESSION_PARAMETER: Final = "smooth session"


def allure_active(config: pytest.Config) -> bool:
    return config.pluginmanager.has_plugin(LISTENER)


def attach_attempt(
    config: pytest.Config, files: Iterable[Path], records: Iterable[SessionRecord], attempt: int
) -> None:
    """Attach ``files`` and add the links and session ids of ``records`` to the running test."""
    if not allure_active(config):
        return
    allure: Any = importlib.import_module("allure")  # untyped; imported only when active
    kinds = {
        ".png": allure.attachment_type.PNG,
        ".zip": allure.attachment_type.ZIP,
        ".html": allure.attachment_type.HTML,
        ".json": allure.attachment_type.JSON,
    }
    suffix = "" if attempt == 1 else f" (attempt {attempt})"
    for path in files:
        if path.is_file():
            kind = kinds.get(path.suffix, allure.attachment_type.TEXT)
            allure.attach.file(str(path), name=f"smooth {path.name}{suffix}", attachment_type=kind)
    ids = []
    for record in records:
        ids.append(record.id)
        for name, url in record.links.items():
            allure.dynamic.link(url, name=f"smooth {name} {record.id}{suffix}")
    if ids:
        allure.dynamic.parameter(SESSION_PARAMETER, ", ".join(ids), excluded=True)
