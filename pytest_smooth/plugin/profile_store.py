"""Where ``smooth_profile`` keeps what it knows: the local profiles, the cache, the run's state.

- Local profiles (cookies and storage) live in ``--smooth-profiles-dir`` (ini
  ``smooth_profiles_dir``, env ``SMOOTH_PROFILES_DIR``), by default ``smooth-profiles`` in the
  pytest cache folder, or in the run's shared folder when the cache plugin is off (then they
  last one run). The local backend reads and writes them there (``LocalServer(profiles_dir=)``).
  They never go under the output folder, whose files are artifacts.
- The profile id of each name, with when it logged in, is in the pytest cache
  (``smooth/profiles/<backend>/<name>``), so a later run reuses it.
- This run's outcome per name (the id, or the login's error) is a file in the run's shared
  folder, written under a lock: the first process logs in, the others read it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any
from typing import Final

import pytest

from pytest_smooth.plugin.lifecycle import get_settings
from pytest_smooth.plugin.run_folder import run_folder

CACHE_FOLDER: Final = "smooth-profiles"
CACHE_PREFIX: Final = "smooth/profiles"
DIR_KEY: Final = pytest.StashKey[Path]()


def profiles_dir(config: pytest.Config) -> Path:
    """Return the folder of the local backend's profiles (created, mode 0700)."""
    folder = config.stash.get(DIR_KEY, None)
    if folder is not None:
        return folder
    settings = get_settings(config)
    cache = getattr(config, "cache", None)
    if settings.profiles_dir is not None:
        folder = config.invocation_params.dir / settings.profiles_dir
        _refuse_output(folder, settings.output)
    elif cache is not None:
        folder = Path(cache.mkdir(CACHE_FOLDER))
    else:  # no cache plugin: shared by this run's workers only
        folder = run_folder(config) / CACHE_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)  # credentials: owner only
    config.stash[DIR_KEY] = folder
    return folder


def _refuse_output(folder: Path, output: Path) -> None:
    """Profiles inside the output folder would be artifacts (and emptied at the start)."""
    resolved, out = folder.resolve(), output.resolve()
    if resolved == out or out in resolved.parents:
        raise pytest.UsageError(
            f"pytest-smooth: invalid value {str(folder)!r} for --smooth-profiles-dir; valid: a"
            f" folder outside the output folder {output} (its files are shared as artifacts)"
        )


def name_key(name: str) -> str:
    """Return a file-name-safe key for the profile name ``name`` (readable, unique)."""
    plain = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-.")[:40] or "profile"
    return f"{plain}-{hashlib.sha256(name.encode()).hexdigest()[:8]}"


def backend_key(config: pytest.Config) -> str:
    """Return which backend a cached id belongs to: ``local``, or the cloud's URL in short."""
    settings = get_settings(config)
    if settings.backend == "local":
        return "local"
    return "cloud-" + hashlib.sha256(settings.base_url.encode()).hexdigest()[:8]


def cached_login(config: pytest.Config, name: str) -> dict[str, Any] | None:
    """Return ``{"id": ..., "logged_in_at": epoch seconds}`` from an earlier run, if any."""
    cache = getattr(config, "cache", None)
    if cache is None:
        return None
    record = cache.get(f"{CACHE_PREFIX}/{backend_key(config)}/{name_key(name)}", None)
    if isinstance(record, dict) and isinstance(record.get("id"), str):
        return record
    return None


def remember_login(config: pytest.Config, name: str, profile_id: str, at: float) -> None:
    """Record the profile id of ``name`` for later runs."""
    cache = getattr(config, "cache", None)
    if cache is not None:
        key = f"{CACHE_PREFIX}/{backend_key(config)}/{name_key(name)}"
        cache.set(key, {"id": profile_id, "logged_in_at": at, "name": name})


class RunOutcomes:
    """The run's outcome per profile name, in files of the run's shared folder."""

    def __init__(self, config: pytest.Config) -> None:
        self.folder = run_folder(config) / "profiles"
        self.folder.mkdir(exist_ok=True)

    def lock_path(self, name: str) -> Path:
        return self.folder / f"{name_key(name)}.lock"

    def read(self, name: str) -> dict[str, str] | None:
        """Return ``{"id": ...}`` or ``{"error": ...}`` when a process of this run decided."""
        with contextlib.suppress(OSError, ValueError):
            data = json.loads((self.folder / f"{name_key(name)}.json").read_text("utf-8"))
            if isinstance(data, dict):
                return {str(k): str(v) for k, v in data.items()}
        return None

    def write(self, name: str, **outcome: str) -> None:
        path = self.folder / f"{name_key(name)}.json"
        temp = path.with_suffix(".tmp")
        temp.write_text(json.dumps(outcome), "utf-8")
        os.replace(temp, path)
