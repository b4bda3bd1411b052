"""Downloads on the local backend with real Chromium: saved, listed, fetched at downloads_url."""

from __future__ import annotations

import io
import warnings
import zipfile

import httpx
import pytest

from pytest_smooth import ConflictError
from pytest_smooth import SmoothClient
from pytest_smooth._core.constants import API_KEY_HEADER
from pytest_smooth._core.exceptions import SmoothFidelityWarning
from pytest_smooth.server.local import LocalServer
from tests.fixtures_server import StaticSite

pytestmark = pytest.mark.browser

REPORT = "quarterly figures: 42\n"
PAGE = """<!doctype html><title>Reports</title>
<a href="report.csv" download>Download</a> <a href="other.html">Elsewhere</a>"""


def _task(server: LocalServer, task_id: str) -> dict[str, object]:
    reply = httpx.get(
        f"{server.url}/api/v1/task/{task_id}",
        params={"downloads": "true"},
        headers={API_KEY_HEADER: server.api_key},
        timeout=30,
    )
    body: dict[str, object] = reply.json()["r"]
    return body


def test_a_file_downloaded_by_a_click_is_fetched_from_downloads_url(
    local_server: LocalServer, static_site: StaticSite
) -> None:
    static_site.page("downloads/report.csv", REPORT)
    url = static_site.page("downloads/reports.html", PAGE)
    with SmoothClient(local_server.api_key, local_server.base_url) as client:
        with client.session() as session:
            session.goto(url)
            with warnings.catch_warnings():
                warnings.simplefilter("error", SmoothFidelityWarning)  # served, not flagged
                session.run_task('click "Download"')
            running = _task(local_server, session.id)
            session.evaluate_js("1")  # a later reply carries no "download" approximation either
        finished = _task(local_server, session.id)
    assert not [a for r in session.events for a in r.approximations]
    downloads_url = finished["downloads_url"]
    assert isinstance(downloads_url, str) and downloads_url.startswith(local_server.url)
    assert running["downloads_url"] == downloads_url  # there as soon as the file is
    archive = httpx.get(downloads_url, timeout=30)  # the URL carries the task's token
    assert archive.status_code == 200, archive.text
    assert archive.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(archive.content)) as files:
        assert files.namelist() == ["report.csv"]
        assert files.read("report.csv").decode() == REPORT


def test_the_archive_needs_the_token_or_the_api_key(
    local_server: LocalServer, static_site: StaticSite
) -> None:
    static_site.page("downloads/report.csv", REPORT)
    url = static_site.page("downloads/reports.html", PAGE)
    with SmoothClient(local_server.api_key, local_server.base_url) as client:
        with client.session() as session:
            session.goto(url)
            session.run_task('click "Download"')
            archive = f"{local_server.url}/api/v1/task/{session.id}/artifacts/downloads.zip"
            assert httpx.get(archive, timeout=30).status_code == 401
            assert httpx.get(archive, params={"token": "wrong"}, timeout=30).status_code == 401
            assert client.artifact(session.id, "downloads.zip")[:2] == b"PK"


def test_a_session_without_downloads_has_an_empty_downloads_url(
    local_server: LocalServer, static_site: StaticSite
) -> None:
    url = static_site.page("downloads/nothing.html", "<p>nothing to download</p>")
    with SmoothClient(local_server.api_key, local_server.base_url) as client:
        with client.session() as session:
            session.goto(url)
            assert _task(local_server, session.id)["downloads_url"] is None  # not finished yet
        assert _task(local_server, session.id)["downloads_url"] == ""
        with pytest.raises(ConflictError, match="no downloads"):
            client.artifact(session.id, "downloads.zip")
