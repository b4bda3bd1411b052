"""Unpacking an uploaded extension: safe paths only, bounded size, manifest.json at its top."""

from __future__ import annotations

import io
import json
import stat
import zipfile
from pathlib import Path

import httpx
import pytest

from pytest_smooth import SmoothClient
from pytest_smooth.server.browser import extensions
from pytest_smooth.server.browser.discovery import BrowserTarget
from pytest_smooth.server.browser.extensions import ExtensionError
from pytest_smooth.server.browser.extensions import loads_extensions
from pytest_smooth.server.browser.extensions import unpack
from pytest_smooth.testing import FakeSmooth

MANIFEST = json.dumps({"manifest_version": 3, "name": "x", "version": "1"}).encode()


def write_zip(path: Path, members: dict[str, bytes], *, symlink: str | None = None) -> str:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
        if symlink is not None:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, "/etc/passwd")
    return str(path)


def test_an_extension_unpacks_at_its_top_or_in_its_only_folder(tmp_path: Path) -> None:
    flat = write_zip(tmp_path / "flat.zip", {"manifest.json": MANIFEST, "js/a.js": b"1"})
    root = unpack(flat, tmp_path / "flat")
    assert root == tmp_path / "flat"
    assert (root / "js" / "a.js").read_bytes() == b"1"
    nested = write_zip(tmp_path / "nested.zip", {"ext/manifest.json": MANIFEST, "ext/b.js": b"2"})
    assert unpack(nested, tmp_path / "nested") == tmp_path / "nested" / "ext"


@pytest.mark.parametrize(
    "name", ["../evil.js", "/abs/evil.js", "a/../../evil.js", "C:/evil.js", "a\\..\\..\\evil.js"]
)
def test_a_member_outside_the_folder_is_refused(tmp_path: Path, name: str) -> None:
    archive = write_zip(tmp_path / "bad.zip", {"manifest.json": MANIFEST, name: b"x"})
    with pytest.raises(ExtensionError, match="unsafe member"):
        unpack(archive, tmp_path / "out" / "ext")
    assert not (tmp_path / "evil.js").exists()
    assert not (tmp_path / "out" / "evil.js").exists()


def test_a_symlink_member_is_refused(tmp_path: Path) -> None:
    archive = write_zip(tmp_path / "link.zip", {"manifest.json": MANIFEST}, symlink="link.js")
    with pytest.raises(ExtensionError, match="unsafe member"):
        unpack(archive, tmp_path / "out")
    assert not (tmp_path / "out" / "link.js").exists()


def test_the_unpacked_size_and_count_are_bounded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(extensions, "MAX_UNPACKED_BYTES", 1000)
    big = write_zip(tmp_path / "big.zip", {"manifest.json": MANIFEST, "big.bin": b"\0" * 5000})
    with pytest.raises(ExtensionError, match="unpacks to over"):
        unpack(big, tmp_path / "big")
    monkeypatch.setattr(extensions, "MAX_MEMBERS", 3)
    many = write_zip(tmp_path / "many.zip", {f"f{i}.js": b"" for i in range(4)})
    with pytest.raises(ExtensionError, match="over 3 files"):
        unpack(many, tmp_path / "many")


def test_an_archive_without_a_manifest_or_not_a_zip_is_refused(tmp_path: Path) -> None:
    bare = write_zip(tmp_path / "bare.zip", {"a.js": b"1", "b/c.js": b"2"})
    with pytest.raises(ExtensionError, match=r"no manifest\.json"):
        unpack(bare, tmp_path / "bare")
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(ExtensionError, match="cannot be read"):
        unpack(str(broken), tmp_path / "broken")


def test_only_browsers_we_launch_load_extensions() -> None:
    assert loads_extensions(BrowserTarget("executable", "/usr/bin/chromium"))
    assert loads_extensions(BrowserTarget("playwright", ""))
    assert not loads_extensions(BrowserTarget("connect", "ws://127.0.0.1:1/x"))
    assert not loads_extensions(BrowserTarget("cdp", "http://127.0.0.1:9222"))


def test_the_client_uploads_lists_and_deletes_extensions() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("manifest.json", MANIFEST)
    fake = FakeSmooth()
    http = httpx.Client(transport=fake.transport())
    with SmoothClient("any-key", fake.base_url, http_client=http) as client:
        uploaded = client.upload_extension(buffer.getvalue(), name="x.zip")
        assert [(e.id, e.file_name) for e in client.list_extensions()] == [(uploaded.id, "x.zip")]
        assert client.delete_extension(uploaded.id) is True
        assert client.list_extensions() == []
