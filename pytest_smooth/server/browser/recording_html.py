"""``recording.html``: one self-contained page that replays a session's screencast frames.

It needs no server: the frames are embedded as ``data:`` URIs with their timestamps, and the
page plays them at their own pace (a pause is cut to ``MAX_STEP_MS``), with play/pause, a
slider and a frame counter; it starts playing on load.

The text holds no secret of the session: the title is redacted, and a frame whose base64 form
happened to contain a secret's text is re-encoded with a comment segment that shifts it.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pytest_smooth._core.redact import Redactor

Frame = tuple[int, bytes]  # (wall-clock ms, JPEG), as screencast.FrameBuffer keeps them
MAX_STEP_MS = 1000
MIN_STEP_MS = 40

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="referrer" content="no-referrer">
<title>Recording: {{TITLE}}</title>
<style>
  body { font: 14px system-ui, sans-serif; margin: 0; background: #1e1f22; color: #ddd; }
  header { padding: 8px 12px; background: #2b2d31; display: flex; gap: 12px;
           align-items: center; flex-wrap: wrap; }
  header b { color: #fff; }
  #seek { flex: 1; min-width: 160px; }
  main { padding: 12px; }
  img#screen { max-width: 100%; border: 1px solid #444; background: #000; }
</style></head><body>
<header><b>Recording</b><span>{{TITLE}}</span>
<button id="play" type="button">pause</button>
<input id="seek" type="range" min="0" value="0" aria-label="frame">
<span id="counter"></span><span id="stamp"></span></header>
<main><img id="screen" alt="a frame of the recording"></main>
<script>
const FRAMES = {{FRAMES_JSON}};
const MAX_STEP = {{MAX_STEP}}, MIN_STEP = {{MIN_STEP}};
const img = document.getElementById("screen"), seek = document.getElementById("seek");
const button = document.getElementById("play");
let at = 0, timer = null;
seek.max = Math.max(0, FRAMES.length - 1);
function show(n) {
  if (!FRAMES.length) return;
  at = Math.max(0, Math.min(n, FRAMES.length - 1));
  const f = FRAMES[at];
  img.src = f.src; seek.value = at; document.body.dataset.frame = at;
  document.getElementById("counter").textContent = "frame " + (at + 1) + " / " + FRAMES.length;
  document.getElementById("stamp").textContent = "+" + ((f.t - FRAMES[0].t) / 1000).toFixed(2)
    + " s, " + new Date(f.t).toISOString();
}
function stop() { clearTimeout(timer); timer = null; button.textContent = "play"; }
function step() {
  if (at >= FRAMES.length - 1) { stop(); return; }
  const wait = Math.max(MIN_STEP, Math.min(MAX_STEP, FRAMES[at + 1].t - FRAMES[at].t));
  timer = setTimeout(() => { show(at + 1); step(); }, wait);
}
function play() {
  if (at >= FRAMES.length - 1) show(0);
  button.textContent = "pause"; step();
}
button.onclick = () => { if (timer) stop(); else play(); };
seek.oninput = () => { stop(); show(Number(seek.value)); };
show(0); play();
</script></body></html>
"""


def _shifted(jpeg: bytes, pad: int) -> bytes:
    """``jpeg`` with a ``pad``-byte comment segment after its start marker (same picture)."""
    if pad == 0 or jpeg[:2] != b"\xff\xd8":
        return jpeg
    return jpeg[:2] + b"\xff\xfe" + (pad + 2).to_bytes(2, "big") + b" " * pad + jpeg[2:]


def frame_uri(jpeg: bytes, redactor: Redactor) -> str | None:
    """Return a ``data:`` URI of the frame whose text holds no secret (None if none could)."""
    for pad in range(4):  # each pad moves the base64 alignment of everything after it
        uri = "data:image/jpeg;base64," + base64.b64encode(_shifted(jpeg, pad)).decode()
        if redactor.redact(uri) == uri:
            return uri
    return None


def recording_html(task_id: str, frames: Sequence[Frame], redactor: Redactor) -> str:
    """Build the replay page of ``frames`` (at least one) for the task ``task_id``."""
    embedded = []
    for stamp, jpeg in frames:
        uri = frame_uri(jpeg, redactor)
        if uri is not None:
            embedded.append({"t": stamp, "src": uri})
    # "</" cannot occur in base64 or digits; escaping it keeps the JSON inside the script.
    frames_json = json.dumps(embedded, separators=(",", ":")).replace("</", "<\\/")
    title = html.escape(redactor.redact(task_id))
    return (
        _PAGE.replace("{{TITLE}}", title)
        .replace("{{MAX_STEP}}", str(MAX_STEP_MS))
        .replace("{{MIN_STEP}}", str(MIN_STEP_MS))
        .replace("{{FRAMES_JSON}}", frames_json)
    )
