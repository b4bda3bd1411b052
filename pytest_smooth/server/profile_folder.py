"""Profiles on disk: a folder that xdist workers' backends and later runs share.

Each profile is ``<root>/<key>/profile.json``: its id, when it was last saved, and its cookies
and storage in Playwright's ``storage_state`` form. They are credentials, so the root and each
profile's folder are mode 0700 and the files 0600, and a write goes to a temporary file that
replaces the old one (a reader in another process sees the old or the new state, never half).
The key is the id itself when it is a plain file name, else a hash of it (the id is inside).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any
from typing import Final

from pytest_smooth.server.protocol.resources import Profile

PROFILE_FILE: Final = "profile.json"
FOLDER_MODE: Final = 0o700
FILE_MODE: Final = 0o600
_PLAIN_ID: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")


def profile_key(profile_id: str) -> str:
    """Return the folder name of ``profile_id`` (safe on every file system)."""
    if _PLAIN_ID.fullmatch(profile_id):
        return profile_id
    return "h-" + hashlib.sha256(profile_id.encode()).hexdigest()[:32]


def private_folder(path: Path) -> Path:
    """Create ``path`` (and its parents) and make it readable by its owner only."""
    path.mkdir(parents=True, exist_ok=True, mode=FOLDER_MODE)
    os.chmod(path, FOLDER_MODE)  # mkdir's mode is masked by the umask; an old folder keeps its own
    return path


class ProfileFolder:
    """A ``ProfileStorage`` (``server/protocol/resources.py``) in the folder ``root``."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = private_folder(Path(root))

    def _file(self, profile_id: str) -> Path:
        return self.root / profile_key(profile_id) / PROFILE_FILE

    def load(self, profile_id: str) -> Profile | None:
        """Return the stored profile, or None when it is missing or unreadable."""
        data = _read(self._file(profile_id))
        if data is None or data.get("id") != profile_id:
            return None
        state = data.get("storage_state")
        saved = data.get("last_saved_at")
        return Profile(
            profile_id,
            state if isinstance(state, dict) else None,
            saved if isinstance(saved, int) else None,
        )

    def save(self, profile: Profile) -> None:
        """Write ``profile`` atomically, owner-only."""
        folder = private_folder(self.root / profile_key(profile.id))
        data = {
            "id": profile.id,
            "last_saved_at": profile.last_saved_at,
            "storage_state": profile.storage_state,
        }
        fd, temp = tempfile.mkstemp(dir=folder, prefix=".profile-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:  # mkstemp makes it 0600
                json.dump(data, handle)
            os.replace(temp, folder / PROFILE_FILE)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise

    def ids(self) -> list[str]:
        """Return the ids of the stored profiles, sorted."""
        found: list[str] = []
        with contextlib.suppress(OSError):
            for entry in self.root.iterdir():
                data = _read(entry / PROFILE_FILE)
                if data is not None and isinstance(data.get("id"), str):
                    found.append(data["id"])
        return sorted(found)

    def delete(self, profile_id: str) -> bool:
        """Remove the profile's folder; tell whether it held the profile."""
        existed = self.load(profile_id) is not None
        shutil.rmtree(self.root / profile_key(profile_id), ignore_errors=True)
        return existed


def _read(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
