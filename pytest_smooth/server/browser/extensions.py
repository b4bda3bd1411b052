"""Chrome extensions in a local session: the uploaded .zip unpacked, a context that loads them.

``browser.new_context()`` cannot load extensions, so a session opened with ``extensions``
gets a persistent context of its own, outside the pool: a Chromium launched for it with
``--load-extension``, in a user-data folder of its own. The session uses it as any other
context (the device's viewport and user agent, tracing, the screencast, downloads, the console);
the profile's cookies and local storage are added by hand, since a persistent context takes no
``storage_state``, and saved back at teardown as usual. The folder (user data and the unpacked
extensions) is removed when the context closes.

A remote browser (a ``ws://`` Playwright server, CDP) was launched elsewhere and cannot take
extensions: there the session flags them as an approximation instead (``remote_note``).
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import zipfile
from pathlib import Path
from pathlib import PurePosixPath
from typing import TYPE_CHECKING
from typing import Any

from pytest_smooth._core.exceptions import SmoothError
from pytest_smooth.server.browser.discovery import CHROMIUM_ARGS
from pytest_smooth.server.browser.warm import Warm
from pytest_smooth.server.page.devices import context_options

if TYPE_CHECKING:
    from playwright.async_api import BrowserContext
    from playwright.async_api import Playwright

    from pytest_smooth.server.browser.discovery import BrowserTarget
    from pytest_smooth.server.protocol.executor import SessionSpec

# Bounds of one unpacked extension (a real one is a few MB and a few hundred files).
MAX_UNPACKED_BYTES = 64 * 1024 * 1024
MAX_MEMBERS = 5_000
_CHUNK = 64 * 1024
_S_IFMT, _S_IFLNK = 0o170000, 0o120000
# Browsers we did not launch: their command line is not ours to extend.
REMOTE_KINDS = frozenset({"connect", "cdp"})
_SET_STORAGE = "items => { for (const i of items) localStorage.setItem(i.name, i.value) }"


class ExtensionError(SmoothError):
    """An uploaded extension cannot be loaded (unsafe or oversized archive, no manifest.json)."""


def loads_extensions(target: BrowserTarget) -> bool:
    """Tell whether sessions on ``target`` can load extensions (we launch that browser)."""
    return target.kind not in REMOTE_KINDS


def remote_note(target: BrowserTarget) -> tuple[str, str]:
    """Return the approximation a session with extensions reports on a remote browser."""
    how = "a ws:// Playwright server" if target.kind == "connect" else "a CDP endpoint"
    return "session option extensions", f"not loaded: the browser is remote ({how})"


# --- unpacking ------------------------------------------------------------------------------


def unpack(archive: str, dest: Path) -> Path:
    """Extract the .zip ``archive`` into ``dest`` safely; return the folder with manifest.json."""
    try:
        with zipfile.ZipFile(archive) as zf:
            members = zf.infolist()
            if len(members) > MAX_MEMBERS:
                raise ExtensionError(f"the extension has over {MAX_MEMBERS} files")
            total = 0
            for info in members:
                path = _member_path(dest, info)
                if info.is_dir():
                    path.mkdir(parents=True, exist_ok=True)
                else:
                    total = _extract(zf, info, path, total)
    except (zipfile.BadZipFile, OSError, RuntimeError, EOFError) as exc:
        raise ExtensionError(f"the extension archive cannot be read: {exc}") from exc
    return _manifest_root(dest)


def _member_path(dest: Path, info: zipfile.ZipInfo) -> Path:
    name = info.filename.replace("\\", "/")
    parts = PurePosixPath(name).parts
    unsafe = (
        name.startswith("/")
        or not parts
        or any(p in ("", ".", "..") for p in parts)
        or ":" in parts[0]  # a Windows drive
        or (info.external_attr >> 16) & _S_IFMT == _S_IFLNK  # a symlink
    )
    if unsafe:
        raise ExtensionError(f"unsafe member in the extension archive: {info.filename!r}")
    return dest.joinpath(*parts)


def _extract(zf: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path, total: int) -> int:
    """Copy one member, counting what is really read (the header's sizes may lie)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zf.open(info) as source, path.open("wb") as out:
        while chunk := source.read(_CHUNK):
            total += len(chunk)
            if total > MAX_UNPACKED_BYTES:
                raise ExtensionError(
                    f"the extension unpacks to over {MAX_UNPACKED_BYTES // 2**20} MB"
                )
            out.write(chunk)
    return total


def _manifest_root(dest: Path) -> Path:
    """Return the folder with manifest.json: ``dest``, or its only folder (a zipped folder)."""
    if (dest / "manifest.json").is_file():
        return dest
    entries = list(dest.iterdir()) if dest.is_dir() else []
    if len(entries) == 1 and (entries[0] / "manifest.json").is_file():
        return entries[0]
    raise ExtensionError("the extension archive has no manifest.json at its top")


def unpack_all(spec: SessionSpec, folder: Path) -> list[str]:
    """Unpack every extension of ``spec`` under ``folder``; return their folders."""
    found = []
    for index, (extension_id, archive) in enumerate(spec.extension_paths.items()):
        if not archive:
            raise ExtensionError(f"extension {extension_id} has no file on this server")
        try:
            found.append(str(unpack(archive, folder / f"extension-{index}")))
        except ExtensionError as exc:
            raise ExtensionError(f"extension {extension_id}: {exc}") from None
    return found


# --- the persistent context -------------------------------------------------------------------


async def extension_context(
    pw: Playwright,
    target: BrowserTarget,
    spec: SessionSpec,
    storage_state: dict[str, Any] | None,
    *,
    headless: bool,
    browser_version: str,
    folder: Path,
) -> Warm:
    """Launch a persistent context loading ``spec``'s extensions in ``folder`` (gone at close)."""
    device = spec.request.device
    folder.mkdir(parents=True)
    try:
        dirs = await asyncio.to_thread(unpack_all, spec, folder)
        joined = ",".join(dirs)
        context = await pw.chromium.launch_persistent_context(
            str(folder / "user-data"),
            executable_path=target.location if target.kind == "executable" else None,
            # Playwright's headless shell has no extensions; its full Chromium has.
            channel="chromium" if target.kind == "playwright" else None,
            headless=headless,
            args=[
                *CHROMIUM_ARGS,
                f"--disable-extensions-except={joined}",
                f"--load-extension={joined}",
            ],
            **context_options(device, browser_version),
        )
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    try:
        page = context.pages[0] if context.pages else await context.new_page()
        if storage_state:
            await seed_storage(context, storage_state)
        from pytest_smooth.server.extract.reader import SETTLE_INIT_SCRIPT

        await context.add_init_script(script=SETTLE_INIT_SCRIPT)
    except BaseException:
        with contextlib.suppress(Exception):  # the context is closing anyway
            await context.close()
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return Warm(context, page, device, folder)


async def seed_storage(context: BrowserContext, state: dict[str, Any]) -> None:
    """Add a storage state's cookies and local storage to ``context`` (as ``new_context`` would).

    Local storage is written on a blank page of each origin, served by a route, so no request
    leaves the machine for it.
    """
    cookies = state.get("cookies") or []
    if cookies:
        await context.add_cookies(cookies)
    origins = [o for o in state.get("origins") or [] if o.get("localStorage")]
    if not origins:
        return
    page = await context.new_page()
    try:
        await page.route("**/*", lambda route: route.fulfill(body="", content_type="text/html"))
        for entry in origins:
            await page.goto(str(entry["origin"]).rstrip("/") + "/")
            await page.evaluate(_SET_STORAGE, entry["localStorage"])
    finally:
        await page.close()
