"""Trace chunks merged into one trace.zip, with the session's screencast frames as film strip."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from pytest_smooth.server.browser.traces import film_strip
from pytest_smooth.server.browser.traces import merge_chunks

WALL, MONOTONIC = 1_700_000_000_000, 500.0  # the trace clock: wall ms <-> monotonic ms


def compact(event: dict[str, Any]) -> str:
    """One trace line, written as Playwright writes them (no spaces)."""
    return json.dumps(event, separators=(",", ":"))


def header(version: int = 10, viewport: dict[str, int] | None = None) -> str:
    options = {"viewport": viewport} if viewport else {}
    return compact({
        "version": version, "type": "context-options", "wallTime": WALL,
        "monotonicTime": MONOTONIC, "options": options,
    })  # fmt: skip


def page_event(page_id: str, time: float) -> str:
    event = {"type": "event", "time": time, "class": "BrowserContext", "method": "page"}
    return compact({**event, "params": {"pageId": page_id}})


def write_chunk(path: Path, lines: list[str], files: dict[str, bytes] | None = None) -> Path:
    with zipfile.ZipFile(path, "w") as chunk:
        chunk.writestr("trace.trace", "\n".join(lines) + "\n")
        chunk.writestr("trace.network", b"")
        for name, data in (files or {}).items():
            chunk.writestr(name, data)
    return path


def read(data: bytes) -> tuple[list[dict[str, Any]], dict[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        events = [json.loads(line) for line in archive.read("trace.trace").decode().splitlines()]
        files = {n: archive.read(n) for n in archive.namelist()}
    return events, files


def test_frames_go_on_the_trace_clock_and_to_the_page_open_then() -> None:
    lines = [header(viewport={"width": 390, "height": 844}), page_event("page@a", 510.0)]
    lines.append(page_event("page@b", 900.0))  # a second tab, opened 400 ms later
    frames = [(WALL + 20, b"jpeg-1"), (WALL + 600, b"jpeg-2")]
    events, images = film_strip(lines, frames)
    parsed = [json.loads(e) for e in events]
    assert [(e["pageId"], e["timestamp"]) for e in parsed] == [
        ("page@a", MONOTONIC + 20),
        ("page@b", MONOTONIC + 600),
    ]
    assert {(e["width"], e["height"]) for e in parsed} == {(390, 844)}
    assert [images[e["file"]] for e in parsed] == [b"jpeg-1", b"jpeg-2"]
    assert all(e["file"].startswith("screencast/") for e in parsed)


def test_older_traces_name_frames_by_sha1_under_resources() -> None:
    events, images = film_strip([header(version=8), page_event("p", 0.0)], [(WALL, b"x")])
    event = json.loads(events[0])
    assert "file" not in event and images == {f"resources/{event['sha1']}": b"x"}
    assert (event["width"], event["height"]) == (1280, 720)  # no viewport: the default


@pytest.mark.parametrize(
    "lines",
    [[], [header()], [page_event("p", 0.0)]],
    ids=["empty", "no page", "no header"],
)
def test_no_film_strip_without_a_header_and_a_page(lines: list[str]) -> None:
    assert film_strip(lines, [(WALL, b"x")]) == ([], {})


def test_merge_keeps_one_header_per_context_and_page_and_adds_the_frames(tmp_path: Path) -> None:
    first = [header(), page_event("page@a", 501.0), compact({"type": "before", "callId": "1"})]
    second = [header(), page_event("page@a", 501.0), compact({"type": "after", "callId": "1"})]
    paths = [
        write_chunk(tmp_path / "c0.zip", first, {"resources/r1": b"1"}),
        write_chunk(tmp_path / "c1.zip", second, {"resources/r2": b"2"}),
        tmp_path / "gone.zip",  # deleted meanwhile: skipped
    ]
    events, files = read(merge_chunks(paths, [(WALL + 5, b"frame")]))
    kinds = [e["type"] for e in events]
    assert kinds == ["context-options", "event", "before", "after", "screencast-frame"]
    assert files["resources/r1"] == b"1" and files["resources/r2"] == b"2"
    assert files[events[-1]["file"]] == b"frame"


def test_merge_without_frames_has_no_film_strip(tmp_path: Path) -> None:
    path = write_chunk(tmp_path / "c0.zip", [header(), page_event("p", 0.0)])
    events, _ = read(merge_chunks([path]))
    assert "screencast-frame" not in {e["type"] for e in events}
