"""Files a local session downloads: saved, kept within budgets, served as one zip.

Each ``download`` event of the session's pages is saved (``Download.save_as``, which works
for a remote ``ws://`` browser too) into the session's folder under the executor's evidence
folder; the store hears of it (``ReplySink.note_download``) and fills ``downloads_url`` with
the archive's address (``downloads.zip``), as the cloud does. A file past the budgets is not
kept, and the next reply says so (an approximation).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import shutil
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

from pytest_smooth.server.browser.fidelity import FidelityNotes

if TYPE_CHECKING:
    from playwright.async_api import BrowserContext
    from playwright.async_api import Download
    from playwright.async_api import Page

    from pytest_smooth.server.browser.session import BrowserSession

MAX_DOWNLOADS = 50  # files kept per session
MAX_DOWNLOAD_BYTES = 100 * 1024 * 1024  # bytes kept per session
SAVE_TIMEOUT = 30.0  # longest wait for one file to be saved, or for the zip to be ready


class Downloads:
    """One session's downloaded files, in its own folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.files: list[Path] = []
        self.size = 0
        self._saving: set[asyncio.Task[None]] = set()

    def _target(self, suggested: str) -> Path:
        """Return a free path in the folder for ``suggested`` (its base name only)."""
        name = Path(suggested).name.strip() or "download"
        stem, suffix = Path(name).stem, Path(name).suffix
        path, number = self.folder / name, 1
        while path in self.files:
            number += 1
            path = self.folder / f"{stem} ({number}){suffix}"
        return path

    async def save(self, download: Download, notes: FidelityNotes) -> Path | None:
        """Save ``download``; return its path, or None when a budget refuses it."""
        name = download.suggested_filename
        if len(self.files) >= MAX_DOWNLOADS:
            notes.add_session("download", f"{name!r} not kept: {MAX_DOWNLOADS} files already")
            await download.cancel()
            return None
        path = self._target(name)
        self.files.append(path)
        self.folder.mkdir(parents=True, exist_ok=True)
        await asyncio.wait_for(download.save_as(path), SAVE_TIMEOUT)
        self.size += path.stat().st_size
        if self.size > MAX_DOWNLOAD_BYTES:
            self.size -= path.stat().st_size
            self.files.remove(path)
            path.unlink(missing_ok=True)
            budget = MAX_DOWNLOAD_BYTES // (1024 * 1024)
            notes.add_session("download", f"{name!r} not kept: over the {budget} MB budget")
            return None
        return path

    def track(self, saving: asyncio.Task[None]) -> None:
        """Keep ``saving`` until it ends, so the zip can wait for it."""
        self._saving.add(saving)
        saving.add_done_callback(self._saving.discard)

    async def zip(self) -> bytes | None:
        """Return the kept files as one zip (None: nothing was downloaded)."""
        if self._saving:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait(set(self._saving), timeout=SAVE_TIMEOUT)
        kept = [p for p in self.files if p.is_file()]
        if not kept:
            return None
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in kept:
                archive.write(path, path.name)
        return buffer.getvalue()

    def delete(self) -> None:
        """Remove the folder (the session's evidence is being dropped)."""
        shutil.rmtree(self.folder, ignore_errors=True)


def watch_downloads(context: BrowserContext, session: BrowserSession) -> None:
    """Save each file a page of ``context`` downloads into the session's ``Downloads``.

    The store hears of it as the download starts, so ``downloads_url`` is there with the
    action's reply; the archive waits (bounded) for the files still being saved.
    """
    downloads, notes = session.evidence.downloads, session.notes
    if downloads is None:
        return

    async def keep(download: Download) -> None:
        try:
            await downloads.save(download, notes)
        except Exception as exc:  # a failed or cancelled download: say so, never crash
            notes.add_session("download", f"{download.suggested_filename!r} failed: {exc}")

    def on_download(download: Download) -> None:
        session.sink.note_download(session.task_id, download.suggested_filename)
        downloads.track(asyncio.get_running_loop().create_task(keep(download)))

    def on_page(page: Page) -> None:
        page.on("download", on_download)

    for page in context.pages:
        on_page(page)
    context.on("page", on_page)
