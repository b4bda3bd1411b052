"""Profiles on disk (server/profile_folder.py) and the store's resources reading through them."""

from __future__ import annotations

import stat
from pathlib import Path

from pytest_smooth.server.profile_folder import ProfileFolder
from pytest_smooth.server.profile_folder import profile_key
from pytest_smooth.server.protocol.resources import Profile
from pytest_smooth.server.protocol.resources import Resources

STATE = {"cookies": [{"name": "sid", "value": "v1", "domain": "127.0.0.1"}], "origins": []}


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _resources(root: Path) -> Resources:
    return Resources(lambda: 5_000, profile_storage=ProfileFolder(root))


def test_saved_profile_is_owner_only_and_read_back(tmp_path: Path) -> None:
    folder = ProfileFolder(tmp_path / "profiles")
    folder.save(Profile("shop-user", STATE, 5))
    assert folder.load("shop-user") == Profile("shop-user", STATE, 5)
    assert _mode(tmp_path / "profiles") == 0o700
    assert _mode(tmp_path / "profiles" / "shop-user") == 0o700
    assert _mode(tmp_path / "profiles" / "shop-user" / "profile.json") == 0o600
    assert folder.ids() == ["shop-user"]
    assert folder.delete("shop-user") is True
    assert folder.load("shop-user") is None and folder.delete("shop-user") is False


def test_odd_ids_get_a_hashed_folder(tmp_path: Path) -> None:
    folder = ProfileFolder(tmp_path)
    folder.save(Profile("../escape me", None, None))
    key = profile_key("../escape me")
    assert key.startswith("h-") and (tmp_path / key / "profile.json").is_file()
    assert folder.ids() == ["../escape me"]
    assert not (tmp_path.parent / "escape me").exists()


def test_a_second_store_sees_what_the_first_saved(tmp_path: Path) -> None:
    first, second = _resources(tmp_path), _resources(tmp_path)
    assert first.create_profile({"id": "p1"})[0] == 200
    assert second.create_profile({"id": "p1"})[0] == 409
    first.save_profile_state("p1", STATE)
    assert second.profile_for_task("p1").storage_state == STATE
    listed = second.list_profiles()[1]["r"]
    assert [(p["id"], p["cookie_count"], p["last_saved_at"]) for p in listed] == [("p1", 1, 5)]
    assert second.delete_profile("p1") == (200, {"r": True})
    assert not first.has_profile("p1")
    assert first.delete_profile("p1")[0] == 404


def test_without_storage_profiles_stay_in_memory() -> None:
    resources = Resources(lambda: 1_000)
    resources.save_profile_state("p1", STATE)
    assert resources.has_profile("p1") and resources.find_profile("p2") is None


def test_a_new_store_opens_a_session_on_a_profile_saved_by_another(tmp_path: Path) -> None:
    from pytest_smooth.server.protocol.store import Store
    from tests.server_fakes import RecordingExecutor
    from tests.server_fakes import call

    _resources(tmp_path).save_profile_state("shop-user", STATE)  # a worker or an earlier run
    store = Store(RecordingExecutor(), root_url="http://127.0.0.1:9")
    store.resources.profile_storage = ProfileFolder(tmp_path)
    status, _ = call(store, "POST", "/task", {"task": None, "profile_id": "shop-user"})
    assert status == 200
    status, body = call(store, "POST", "/task", {"task": None, "profile_id": "nobody"})
    assert status == 404 and "Profile not found" in str(body)
