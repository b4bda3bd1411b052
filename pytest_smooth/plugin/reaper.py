"""The orphan-session reaper: close the sessions that crashed xdist workers left open.

A worker killed by the OS (SIGKILL, out of memory) never runs its teardown, so its sessions
stay open: on the cloud nothing closes them, and the controller never learns their ids. Every
session the plugin opens carries this run's id and its worker's id in ``metadata``
(``session_options.session_args``), so at the end of the run the controller lists the
account's newest tasks (``GET /task``, a few pages), takes the ones of this run that are
still waiting or running, and DELETEs them. Every step is bounded and best effort; tasks of
other runs are never touched.
"""

from __future__ import annotations

import time
from collections.abc import Collection
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from typing import TYPE_CHECKING
from typing import Any
from typing import Final

from pytest_smooth._core.exceptions import NotFoundError

if TYPE_CHECKING:
    from pytest_smooth.client.sync_client import SmoothClient

PAGE_SIZE: Final = 100  # the API allows 1..128
MAX_PAGES: Final = 5
REAP_DEADLINE: Final = 30.0  # listing and deleting together
OPEN_STATUSES: Final = frozenset({"waiting", "running"})
RUN_TAG: Final = "pytest_run_id"
WORKER_TAG: Final = "pytest_worker"
NODEID_TAG: Final = "pytest_nodeid"


@dataclass
class ReapResult:
    """What the reaper found open and what it closed; ``failed`` lines name id, test, reason."""

    found: int = 0
    reaped: int = 0
    failed: list[str] = field(default_factory=list)
    error: str | None = None  # the listing failed: nothing was reaped


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
    """List this run's open tasks, newest first, at most MAX_PAGES pages of PAGE_SIZE.

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


def reap(
    api_key: str | None, base_url: str, run: str, workers: Collection[str] | None
) -> ReapResult:
    """Find this run's open sessions and DELETE them (a 404 counts as closed), bounded."""
    from pytest_smooth.client.sync_client import SmoothClient

    result = ReapResult()
    deadline = time.monotonic() + REAP_DEADLINE
    with SmoothClient(api_key=api_key, base_url=base_url, max_retries=1) as client:
        try:
            tasks = find_open(client, run, workers, deadline)
        except Exception as err:
            result.error = _describe(err)
            return result
        result.found = len(tasks)
        for task in tasks:
            task_id = str(task.get("id"))
            nodeid = (task.get("metadata") or {}).get(NODEID_TAG, "?")
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
