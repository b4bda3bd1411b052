"""HTML of the live view and the recording replay (self-contained: no external assets).

Placeholders filled by ``live.py``: ``{{TITLE}}`` (HTML-escaped), ``{{TASK_JSON}}``,
``{{BASE_JSON}}`` and ``{{TOKEN_JSON}}`` (JSON literals, safe inside a script).
"""

from __future__ import annotations

_STYLE = """
<style>
  body { font: 14px system-ui, sans-serif; margin: 0; background: #1e1f22; color: #ddd; }
  header { padding: 8px 12px; background: #2b2d31; display: flex; gap: 16px; align-items: center; }
  header b { color: #fff; }
  #status { padding: 2px 8px; border-radius: 4px; background: #444; }
  main { padding: 12px; }
  img#screen { max-width: 100%; border: 1px solid #444; background: #000; min-height: 120px; }
  a { color: #8ab4f8; }
  ol { max-height: 240px; overflow: auto; font-family: monospace; }
  li.current { color: #fff; font-weight: bold; }
</style>
"""

LIVE_PAGE = (
    """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="referrer" content="no-referrer">
<title>Live: {{TITLE}}</title>"""
    + _STYLE
    + """</head><body>
<header><b>Smooth local backend, live view</b><span>{{TITLE}}</span>
<span id="status">connecting</span><span id="stamp"></span>
<a id="recording" hidden>recording</a></header>
<main><img id="screen" alt="the session's browser page"></main>
<script>
const TASK = {{TASK_JSON}}, TOKEN = {{TOKEN_JSON}};
const BASE = "/live" + {{BASE_JSON}}, q = "?token=" + encodeURIComponent(TOKEN);
const img = document.getElementById("screen");
let last = null, busy = false, finished = false;
// One frame request at a time, about 5 per second.
async function tick() {
  if (busy || finished) return;
  busy = true;
  try {
    const since = last === null ? "" : "&since=" + last;
    const r = await fetch(BASE + "/frame.jpg" + q + since, {cache: "no-store"});
    const stamp = r.headers.get("X-Frame-Timestamp");
    if (r.status === 200 && stamp !== last) {
      last = stamp;
      const url = URL.createObjectURL(await r.blob());
      img.onload = () => URL.revokeObjectURL(url);
      img.src = url;
      document.getElementById("stamp").textContent = new Date(Number(stamp)).toISOString();
    }
  } catch (e) {} finally { busy = false; }
}
async function status() {
  try {
    const s = await (await fetch(BASE + "/status.json" + q, {cache: "no-store"})).json();
    document.getElementById("status").textContent = s.status + (s.open ? "" : " (closed)");
    if (s.status && ["done", "failed", "cancelled"].includes(s.status)) {
      finished = true;
      const a = document.getElementById("recording");
      a.href = "/recording" + {{BASE_JSON}} + q; a.hidden = false;
    }
  } catch (e) {}
}
setInterval(tick, 200); setInterval(status, 1000); tick(); status();
</script></body></html>
"""
)

RECORDING_PAGE = (
    """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="referrer" content="no-referrer">
<title>Recording: {{TITLE}}</title>"""
    + _STYLE
    + """</head><body>
<header><b>Smooth local backend, recording</b><span>{{TITLE}}</span>
<span id="status"></span><button id="play">play</button>
<input id="seek" type="range" min="0" value="0"><span id="stamp"></span>
<a id="trace">trace.zip</a></header>
<main><img id="screen" alt="a frame of the recording"><ol id="list"></ol></main>
<script>
const TOKEN = {{TOKEN_JSON}}, q = "?token=" + encodeURIComponent(TOKEN);
const BASE = "/recording" + {{BASE_JSON}};
document.getElementById("trace").href = BASE + "/trace.zip" + q;
const img = document.getElementById("screen"), seek = document.getElementById("seek");
let frames = [], at = 0, timer = null;
function show(n) {
  if (!frames.length) return;
  at = Math.max(0, Math.min(n, frames.length - 1));
  const f = frames[at];
  img.src = f.url; seek.value = at;
  document.getElementById("stamp").textContent =
    "frame " + at + " at +" + (f.offset_ms / 1000).toFixed(2) + " s, "
    + new Date(f.timestamp).toISOString();
  document.querySelectorAll("#list li")
    .forEach((li, i) => li.className = i === at ? "current" : "");
}
function play() {
  if (at >= frames.length - 1) { stop(); return; }
  const wait = Math.min(1000, frames[at + 1].timestamp - frames[at].timestamp);
  timer = setTimeout(() => { show(at + 1); play(); }, wait);
}
function stop() {
  clearTimeout(timer); timer = null; document.getElementById("play").textContent = "play";
}
document.getElementById("play").onclick = (e) => {
  if (timer) { stop(); return; }
  if (at >= frames.length - 1) show(0);
  e.target.textContent = "pause"; play();
};
seek.oninput = () => { stop(); show(Number(seek.value)); };
fetch(BASE + "/frames.json" + q, {cache: "no-store"}).then(r => r.json()).then(data => {
  frames = data.frames; seek.max = Math.max(0, frames.length - 1);
  document.getElementById("status").textContent = data.status + ", " + frames.length + " frames";
  const list = document.getElementById("list");
  frames.forEach((f, i) => {
    const li = document.createElement("li");
    li.textContent = "+" + (f.offset_ms / 1000).toFixed(2) + " s  "
      + new Date(f.timestamp).toISOString();
    li.onclick = () => { stop(); show(i); };
    list.appendChild(li);
  });
  show(0);
});
</script></body></html>
"""
)
