"""Profiles, files, extensions and telemetry of the local backend's store (pure, no I/O).

Upload bodies arrive as ``{"file": Upload, "file_purpose": str}`` (the ASGI layer parses the
multipart form). Bytes are kept in memory; an optional ``save_blob`` hook, injected by the
server, writes them somewhere the browser can read and returns that path. Profiles live in
memory too, unless the server injects a ``ProfileStorage`` (``server/profile_folder.py``): then
that storage is the truth, read on every use, because other processes (xdist workers, later
runs) write the same profiles.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from typing import Protocol

Reply = tuple[int, Any]
# (kind, id, name, data) -> a local path, or None to keep the bytes in memory only.
SaveBlob = Callable[[str, str, str, bytes], "str | None"]

MAX_PURPOSE_CHARS = 64
# A ZIP starts with a local file header, or with the end-of-directory record when empty.
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")


def ok(payload: Any, status: int = 200) -> Reply:
    """Build a success reply ``{"r": payload}``."""
    return status, {"r": payload}


def err(status: int, detail: Any) -> Reply:
    """Build an error reply ``{"detail": detail}``."""
    return status, {"detail": detail}


def new_id(prefix: str) -> str:
    """Make a fresh random id such as ``profile_3f2a...``."""
    return f"{prefix}_{secrets.token_hex(8)}"


@dataclass(frozen=True)
class Upload:
    """One uploaded multipart file."""

    filename: str
    data: bytes
    content_type: str = "application/octet-stream"


@dataclass
class Profile:
    id: str
    storage_state: dict[str, Any] | None = None
    last_saved_at: int | None = None

    def response(self) -> dict[str, Any]:
        """Return the ProfileResponse wire shape, with cookie figures from the storage."""
        cookies = (self.storage_state or {}).get("cookies") or []
        domains = sorted({str(c.get("domain", "")) for c in cookies if isinstance(c, dict)})
        size = len(json.dumps(self.storage_state)) if self.storage_state else 0
        return {
            "id": self.id,
            "cookie_domains": domains,
            "cookie_count": len(cookies),
            "profile_size_bytes": size,
            "last_saved_at": self.last_saved_at,
        }


class ProfileStorage(Protocol):
    """Where profiles persist beyond this store (a folder shared by processes and runs)."""

    def load(self, profile_id: str) -> Profile | None:
        """Return the stored profile, or None when there is none."""

    def save(self, profile: Profile) -> None:
        """Write ``profile`` (its id, storage state and save time)."""

    def ids(self) -> list[str]:
        """Return the ids of every stored profile."""

    def delete(self, profile_id: str) -> bool:
        """Remove the profile; tell whether it existed."""


@dataclass
class StoredBlob:
    """An uploaded file or extension."""

    id: str
    name: str
    data: bytes
    created_at: int
    purpose: str | None = None
    path: str | None = None


@dataclass
class Resources:
    """Profiles, files, extensions and telemetry; every method returns ``(status, body)``."""

    clock_ms: Callable[[], int]
    save_blob: SaveBlob | None = None
    profile_storage: ProfileStorage | None = None
    profiles: dict[str, Profile] = field(default_factory=dict)
    files: dict[str, StoredBlob] = field(default_factory=dict)
    extensions: dict[str, StoredBlob] = field(default_factory=dict)
    telemetry_events: int = 0

    # --- profiles -----------------------------------------------------------------------------

    def find_profile(self, profile_id: str) -> Profile | None:
        """Return the profile ``profile_id`` as stored now, or None when unknown."""
        if self.profile_storage is None:
            return self.profiles.get(profile_id)
        profile = self.profile_storage.load(profile_id)
        if profile is None:
            self.profiles.pop(profile_id, None)
        else:
            self.profiles[profile_id] = profile
        return profile

    def has_profile(self, profile_id: str) -> bool:
        """Tell whether ``profile_id`` exists (in memory, or in the profile storage)."""
        return self.find_profile(profile_id) is not None

    def _keep(self, profile: Profile) -> Profile:
        self.profiles[profile.id] = profile
        if self.profile_storage is not None:
            self.profile_storage.save(profile)
        return profile

    def create_profile(self, body: Any) -> Reply:
        if body is None:
            body = {}
        if not isinstance(body, dict):
            return err(422, 'profile body must be a JSON object like {"id": "name"}')
        profile_id = body.get("id")
        if profile_id is not None and (not isinstance(profile_id, str) or not profile_id):
            return err(422, "profile id must be a non-empty string or null")
        if profile_id is None:
            profile_id = new_id("profile")
        if self.has_profile(profile_id):
            return err(409, f"Profile {profile_id!r} already exists")
        return ok(self._keep(Profile(profile_id)).response())

    def list_profiles(self) -> Reply:
        if self.profile_storage is not None:
            found = (self.find_profile(i) for i in self.profile_storage.ids())
            return ok([p.response() for p in found if p is not None])
        return ok([p.response() for p in self.profiles.values()])

    def delete_profile(self, profile_id: str) -> Reply:
        stored = self.profile_storage is not None and self.profile_storage.delete(profile_id)
        if self.profiles.pop(profile_id, None) is None and not stored:
            return err(404, "Profile not found")
        return ok(True)

    def profile_for_task(self, profile_id: str) -> Profile:
        """Return the profile a task starts from, creating an empty one on first use."""
        return self.find_profile(profile_id) or self._keep(Profile(profile_id))

    def save_profile_state(self, profile_id: str, storage_state: dict[str, Any]) -> None:
        profile = self.profile_for_task(profile_id)
        profile.storage_state = storage_state
        profile.last_saved_at = self.clock_ms() // 1000
        self._keep(profile)

    # --- files and extensions -----------------------------------------------------------------

    def _read_upload(self, body: Any) -> Upload | Reply:
        upload = body.get("file") if isinstance(body, dict) else None
        if not isinstance(upload, Upload):
            return err(400, "multipart/form-data field 'file' is required")
        if not upload.filename:
            return err(400, "the uploaded file needs a file name")
        return upload

    def _store(self, kind: str, upload: Upload, purpose: str | None) -> StoredBlob:
        blob_id = new_id(kind)
        path = (
            self.save_blob(kind, blob_id, upload.filename, upload.data) if self.save_blob else None
        )
        return StoredBlob(
            blob_id, upload.filename, upload.data, self.clock_ms() // 1000, purpose, path
        )

    def upload_file(self, body: Any) -> Reply:
        upload = self._read_upload(body)
        if not isinstance(upload, Upload):
            return upload
        purpose = body.get("file_purpose")
        if purpose is not None and (
            not isinstance(purpose, str) or len(purpose) > MAX_PURPOSE_CHARS
        ):
            return err(400, f"file_purpose must be a string of at most {MAX_PURPOSE_CHARS} chars")
        blob = self._store("file", upload, purpose)
        self.files[blob.id] = blob
        return ok({"id": blob.id})

    def delete_file(self, file_id: str) -> Reply:
        if self.files.pop(file_id, None) is None:
            return err(404, "File not found")
        return ok(True)

    def upload_extension(self, body: Any) -> Reply:
        upload = self._read_upload(body)
        if not isinstance(upload, Upload):
            return upload
        if not upload.data.startswith(ZIP_MAGIC):
            return err(400, "extension must be a .zip archive (the upload is not a ZIP file)")
        blob = self._store("extension", upload, None)
        self.extensions[blob.id] = blob
        return ok({"id": blob.id})

    def list_extensions(self) -> Reply:
        return ok(
            [
                {"id": b.id, "file_name": b.name, "creation_time": b.created_at}
                for b in self.extensions.values()
            ]
        )

    def delete_extension(self, extension_id: str) -> Reply:
        if self.extensions.pop(extension_id, None) is None:
            return err(404, "Extension not found")
        return ok(True)

    # --- telemetry ----------------------------------------------------------------------------

    def telemetry(self, body: Any) -> Reply:
        events = body.get("events") if isinstance(body, dict) else None
        if isinstance(events, list):
            self.telemetry_events += len(events)
        return ok(True)
