"""The run's shared folder: one place that the controller and every xdist worker see.

It is named after the run id (which the controller hands its workers, ``session_options``),
under the system's temp folder, so every process of the run finds it without being told.
It holds the session cap's slot files (``concurrency``), the credit ledger (``budget``) and
the ids of the sessions each worker opened (``reaper``). The controller, or the only process,
removes it when the run ends; folders that a killed run left behind go after a day.

Locks are ``flock`` locks (``msvcrt`` on Windows): the OS drops them when their process dies,
so a SIGKILLed worker never holds one.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Final

import pytest

from pytest_smooth.plugin.session_options import run_id

STALE_AFTER: Final = 24 * 3600.0  # seconds: a folder this old belongs to a run long gone
FOLDER_KEY: Final = pytest.StashKey[Path]()


def runs_root() -> Path:
    """Return the folder that holds every run's folder (one per user)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no user name (some containers)
        user = str(os.getuid()) if hasattr(os, "getuid") else "user"
    return Path(tempfile.gettempdir()) / f"pytest-smooth-runs-{user}"


def folder_of_run(run: str) -> Path:
    """Return the shared folder of run ``run`` (not created)."""
    return runs_root() / run


def run_folder(config: pytest.Config) -> Path:
    """Return this run's shared folder, created on first use."""
    folder = config.stash.get(FOLDER_KEY, None)
    if folder is None:
        folder = folder_of_run(run_id(config))
        folder.mkdir(parents=True, exist_ok=True)
        config.stash[FOLDER_KEY] = folder
    return folder


def is_controller(config: pytest.Config) -> bool:
    """Whether this process is the xdist controller or the only process of the run."""
    return not hasattr(config, "workerinput")


def try_lock(fd: int) -> bool:
    """Take an exclusive lock on the open file ``fd`` without waiting; tell whether it was free."""
    if sys.platform == "win32":  # pragma: no cover - not run in CI
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


@contextlib.contextmanager
def locked(path: Path, timeout: float = 10.0) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (created if needed) for a short read-modify-write."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + timeout
        while not try_lock(fd):
            if time.monotonic() > deadline:
                raise TimeoutError(f"could not lock {path} within {timeout:g} s")
            time.sleep(0.005)
        yield
    finally:
        os.close(fd)  # closing the file drops its lock


def prune_stale(root: Path, now: float | None = None) -> None:
    """Remove run folders older than STALE_AFTER (runs that ended without cleaning up)."""
    now = time.time() if now is None else now
    try:
        entries = list(root.iterdir())
    except OSError:
        return
    for entry in entries:
        with contextlib.suppress(OSError):
            if now - entry.stat().st_mtime > STALE_AFTER:
                shutil.rmtree(entry, ignore_errors=True)


def pytest_configure(config: pytest.Config) -> None:
    if is_controller(config):
        prune_stale(runs_root())


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """Remove the run's folder at the very end (the controller, or the only process)."""
    folder = config.stash.get(FOLDER_KEY, None)
    if folder is None and is_controller(config):
        folder = folder_of_run(run_id(config))
    if folder is not None and is_controller(config):
        shutil.rmtree(folder, ignore_errors=True)
