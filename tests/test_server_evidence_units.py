"""Evidence pieces without a browser: the console log's cap, the recording page, trace redaction."""

from __future__ import annotations

import base64
import io
import json
import random
import re
import zipfile

from pytest_smooth._core.redact import Redactor
from pytest_smooth.server.browser.console import ConsoleLog
from pytest_smooth.server.browser.evidence import Evidence
from pytest_smooth.server.browser.evidence import EvidenceStore
from pytest_smooth.server.browser.recording_html import frame_uri
from pytest_smooth.server.browser.recording_html import recording_html
from pytest_smooth.server.page.secret_fields import secret_values

# Not a picture, but shaped like one: start marker, bytes that never repeat, end marker.
JPEG = b"\xff\xd8\xff\xe0" + random.Random(7).randbytes(3000) + b"\xff\xd9"


def test_console_log_keeps_the_newest_entries_and_counts_the_dropped() -> None:
    log = ConsoleLog(cap=50)
    for n in range(60):
        log.add("error", f"boom {n} with hunter2-secret", "http://x/", at_ms=n)
    entries = log.entries(Redactor(["hunter2-secret"]))
    assert len(entries) == 50 and log.dropped == 10
    first = {"type": "error", "text": "boom 10 with ***", "url": "http://x/", "time": 10}
    assert entries[0] == first
    assert entries[-1]["text"] == "boom 59 with ***"


def test_console_text_is_cut_to_its_limit() -> None:
    log = ConsoleLog()
    log.add("warning", "x" * 10_000, "")
    assert len(log.entries(Redactor())[0]["text"]) == 4000


def test_a_frame_whose_base64_holds_a_secret_is_shifted_not_broken() -> None:
    plain = base64.b64encode(JPEG).decode()
    secret = plain[40:52]  # a "secret" that the frame's base64 happens to contain
    uri = frame_uri(JPEG, Redactor([secret]))
    assert uri is not None and secret not in uri
    data = base64.b64decode(uri.split(",", 1)[1])
    assert data[:4] == b"\xff\xd8\xff\xfe"  # a comment segment after the start marker
    length = int.from_bytes(data[4:6], "big")
    assert data[4 + length :] == JPEG[2:]  # the picture itself is untouched
    assert frame_uri(JPEG, Redactor()) == "data:image/jpeg;base64," + plain


def test_recording_html_embeds_frames_with_their_times_and_redacts_its_text() -> None:
    page = recording_html("task-with-s3cret-value", [(1000, JPEG), (1250, JPEG)],
                          Redactor(["s3cret-value"]))  # fmt: skip
    assert "s3cret-value" not in page and "task-with-***" in page
    frames = json.loads(re.search(r"const FRAMES = (\[.*?\]);", page).group(1))  # type: ignore[union-attr]
    assert [f["t"] for f in frames] == [1000, 1250]
    assert all(f["src"].startswith("data:image/jpeg;base64,") for f in frames)
    assert "http" not in page.replace("http-equiv", "")  # nothing to fetch: plays offline


def test_secret_values_reads_plain_and_object_secrets() -> None:
    given = {"secrets": {"a": {"value": "one-1"}, "b": "two-2", "c": {"value": ""}, "d": 3}}
    assert secret_values(given) == ["one-1", "two-2"]
    assert secret_values({}) == [] and secret_values({"secrets": ["x"]}) == []


def test_trace_redaction_is_cached_until_a_secret_is_added() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("trace.trace", '{"value":"pw-first"}\n{"value":"pw-second"}\n')
    merged = out.getvalue()
    evidence = Evidence(secrets=Redactor(["pw-first"]))
    once = evidence.redacted_trace(merged)
    assert evidence.redacted_trace(merged) is once
    evidence.secrets.add("pw-second")
    again = evidence.redacted_trace(merged)
    with zipfile.ZipFile(io.BytesIO(again)) as archive:
        assert archive.read("trace.trace") == b'{"value":"***"}\n{"value":"***"}\n'


def test_the_store_has_no_recording_without_frames_and_a_console_while_kept() -> None:
    store = EvidenceStore()
    store.add("t1")
    assert store.recording_html("t1") is None
    assert store.console("t1") == {"task_id": "t1", "entries": [], "dropped": 0}
    assert store.console("unknown") is None and store.recording_html("unknown") is None
