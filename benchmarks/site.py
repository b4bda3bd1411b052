"""A tiny site on loopback for the benchmarks and the benchmark suites: ``/page/<n>``.

Each page has a title ``Page <n>``, a heading and a ``#msg`` paragraph whose text is computed by
a script, so a check reads the DOM after scripts ran, as an e2e test would.
"""

from __future__ import annotations

import http.server
import threading
from types import TracebackType
from typing import Any

from typing_extensions import Self


def page_html(n: int) -> str:
    """Return the HTML of page ``n``."""
    return (
        f"<!doctype html><html><head><title>Page {n}</title></head><body>"
        f"<h1 id='head'>Heading {n}</h1><p id='msg'></p>"
        f"<ul>{''.join(f'<li>item {i}</li>' for i in range(20))}</ul>"
        f"<script>document.getElementById('msg').textContent = 'Hello ' + ({n} * 2);</script>"
        "</body></html>"
    )


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Keep benchmark output clean."""

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path.startswith("/page/") and path[6:].isdigit():
            body, code = page_html(int(path[6:])).encode(), 200
        else:
            body, code = b"not found", 404
        self.send_response(code)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class Site:
    """The site in a daemon thread on 127.0.0.1; ``url(n)`` is page ``n``."""

    def __init__(self) -> None:
        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.daemon_threads = True
        self.root = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def url(self, n: int) -> str:
        return f"{self.root}/page/{n}"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
