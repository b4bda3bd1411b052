"""The orphan-session reaper: close the sessions that crashed xdist workers left open.

A worker killed by the OS (SIGKILL, out of memory) never runs its teardown, so its sessions
stay open: on the cloud nothing closes them. So each process writes down the ids of the
sessions it opens, as soon as it has them and before a test uses them (a file per worker in
the run's shared folder, ``run_folder``), and strikes each off once done with it. At the end
of the run the controller DELETEs, by id, every session still written down for a crashed
worker (or, without xdist, for the run): this needs nothing from the server but DELETE, so it
works on any Smooth-compatible one. A clean run has nothing written down and sends nothing.

Only for crashed workers, and only as a best-effort second pass, the account's newest tasks
(``GET /task``) are also searched for this run's ``metadata`` tags (our extension), to catch a
session whose POST /task answered in the instant before the kill. That pass never prints a
thing when it fails or finds nothing. Every step is bounded; other runs' tasks are never
touched.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Collection
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any
from typing import Final

import pytest

from pytest_smooth._core.exceptions import NotFoundError
from pytest_smooth.plugin.run_folder import folder_of_run
from pytest_smooth.plugin.run_folder import run_folder
from pytest_smooth.plugin.session_options import worker_id

if TYPE_CHECKING:
    from pytest_smooth.client.sync_client import SmoothClient

log = logging.getLogger("pytest_smooth.plugin.reaper")

PAGE_SIZE: Final = 100  # the API allows 1..128
MAX_PAGES: Final = 5
REAP_DEADLINE: Final = 30.0  # listing and deleting together
OPEN_STATUSES: Final = frozenset({"waiting", "running"})
RUN_TAG: Final = "pytest_run_id"
WORKER_TAG: Final = "pytest_worker"
NODEID_TAG: Final = "pytest_nodeid"
_WRITE_LOCK: Final = threading.Lock()


@dataclass
class ReapResult:
    """What the reaper found open and what it closed; ``failed`` lines name id, test, reason."""

    found: int = 0
    reaped: int = 0
    failed: list[str] = field(default_factory=list)
    error: str | None = None  # looking failed: nothing was reaped


# --- the record of each process's sessions ---------------------------------------------------


def _record_file(folder: Path, worker: str) -> Path:
    return folder / f"sessions-{worker}.log"


def _append(config: pytest.Config, line: str) -> None:
    path = _record_file(run_folder(config), worker_id(config))
    data = (line.replace("\n", " ") + "\n").encode("utf-8")
    with _WRITE_LOCK:  # one process writes its own file; threads take turns
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, data)  # straight to the OS: it survives a SIGKILL of this process
        finally:
            os.close(fd)


def record_opened(config: pytest.Config, session_id: str, nodeid: str) -> None:
    """Write down that this process opened ``session_id`` (for ``nodeid``)."""
    _append(config, f"open\t{session_id}\t{nodeid}")


def record_done(config: pytest.Config, session_id: str) -> None:
    """Strike ``session_id`` off: this process closed it, or tried and reported it."""
    _append(config, f"done\t{session_id}")


def recorded_open(folder: Path, workers: Collection[str] | None) -> dict[str, str]:
    """Return ``{session id: node id}`` written down as opened and never struck off."""
    left: dict[str, str] = {}
    for path in sorted(folder.glob("sessions-*.log")):
        worker = path.name.removeprefix("sessions-").removesuffix(".log")
        if workers is not None and worker not in workers:
            continue
        try:
            lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            continue
        for line in lines:
            kind, _, rest = line.partition("\t")
            session_id, _, nodeid = rest.partition("\t")
            if kind == "open" and session_id:
                left[session_id] = nodeid or "?"
            elif kind == "done":
                left.pop(session_id, None)
    return left


# --- the end of the run ---------------------------------------------------------------------


def _ours(task: Any, run: str, workers: Collection[str] | None) -> bool:
    if not isinstance(task, Mapping) or task.get("status") not in OPEN_STATUSES:
        return False
    metadata = task.get("metadata")
    if not isinstance(metadata, Mapping) or metadata.get(RUN_TAG) != run:
        return False
    return workers is None or metadata.get(WORKER_TAG) in workers


def find_open(
    client: SmoothClient, run: str, workers: Collection[str] | None, deadline: float
) -> list[Mapping[str, Any]]:
    """List this run's open tasks by their metadata tags, newest first, a few pages at most.

    ``workers``: only tasks tagged with one of these worker ids (None: any worker). A backend
    whose task list carries no ``metadata`` yields nothing: no task is ever taken on a guess.
    """
    found: list[Mapping[str, Any]] = []
    cursor: int | None = None
    for _ in range(MAX_PAGES):
        params: dict[str, int] = {"l": PAGE_SIZE}
        if cursor is not None:
            params["t"] = cursor  # tasks created before it
        page = client._drive(client._request_flow("GET", "task", params=params, deadline=deadline))
        if not isinstance(page, list):
            break
        found += [task for task in page if _ours(task, run, workers)]
        stamps = [t.get("created_at") for t in page if isinstance(t, Mapping)]
        oldest = min((s for s in stamps if isinstance(s, int)), default=None)
        if len(page) < PAGE_SIZE or oldest is None or oldest == cursor:
            break
        if time.monotonic() > deadline:
            break
        cursor = oldest
    return found


def _tagged(
    client: SmoothClient, run: str, workers: Collection[str], deadline: float
) -> dict[str, str]:
    """Find, in a second pass, this run's open tasks by their tags; nothing when that fails."""
    try:
        tasks = find_open(client, run, workers, deadline)
    except Exception as err:
        log.info("pytest-smooth: the task list could not be searched for this run: %s", err)
        return {}
    return {str(t.get("id")): str((t.get("metadata") or {}).get(NODEID_TAG, "?")) for t in tasks}


def reap(
    api_key: str | None, base_url: str, run: str, workers: Collection[str] | None
) -> ReapResult:
    """DELETE this run's sessions left open (``workers``: of those; None: all), bounded.

    A 404 counts as closed. Only when ``workers`` names crashed ones is the task list read.
    """
    left = recorded_open(folder_of_run(run), workers)
    if not left and not workers:
        return ReapResult()  # a clean run: nothing to close, nothing sent
    from pytest_smooth.client.sync_client import SmoothClient

    result = ReapResult()
    deadline = time.monotonic() + REAP_DEADLINE
    with SmoothClient(api_key=api_key, base_url=base_url, max_retries=1) as client:
        if workers:
            left = {**_tagged(client, run, workers, deadline), **left}
        result.found = len(left)
        for task_id, nodeid in left.items():
            if time.monotonic() > deadline:
                result.failed.append(f"{task_id} ({nodeid}): the reaper's deadline passed")
                continue
            try:
                client._drive(client._delete_task_flow(task_id, deadline))
            except NotFoundError:
                pass  # "not found or already completed": closed all the same
            except Exception as err:
                result.failed.append(f"{task_id} ({nodeid}): {_describe(err)}")
                continue
            result.reaped += 1
    return result


def _describe(err: BaseException) -> str:
    return f"{type(err).__name__}: {err}"
