"""``python -m pytest_smooth.server``: run the local backend until Ctrl-C.

Prints the base URL (for ``SMOOTH_BASE_URL`` / ``--smooth-base-url``) and the API key.
"""

from __future__ import annotations

import argparse
import sys
import threading
from collections.abc import Sequence

from pytest_smooth.server.browser.discovery import BrowserNotFoundError
from pytest_smooth.server.local import LocalServer


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m pytest_smooth.server",
        description="Run the Smooth-compatible local backend (Playwright + Chromium).",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="loopback address (default %(default)s)"
    )
    parser.add_argument(
        "--port", type=int, default=9321, help="port, 0 for any (default %(default)s)"
    )
    parser.add_argument("--api-key", default=None, help="API key to require (default: generated)")
    parser.add_argument(
        "--browser", default=None, help="Chromium path, or ws:// / http:// endpoint"
    )
    parser.add_argument(
        "--idle-timeout",
        type=float,
        default=300.0,
        help="seconds before an untouched session is closed (default %(default)s)",
    )
    parser.add_argument("--headed", action="store_true", help="show the browser window")
    parser.add_argument(
        "--no-tracing",
        action="store_true",
        help="record no Playwright trace for any session (trace.zip answers 409)",
    )
    parser.add_argument(
        "--profiles-dir",
        default=None,
        help="keep profiles (cookies, storage) in this folder, mode 0700 (default: in memory)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        server = LocalServer(
            host=args.host,
            port=args.port,
            api_key=args.api_key,
            browser=args.browser,
            headless=not args.headed,
            idle_timeout=args.idle_timeout,
            tracing=not args.no_tracing,
            profiles_dir=args.profiles_dir,
        ).start()
    except KeyboardInterrupt:  # Ctrl-C during start-up; start() already cleaned up
        return 130
    except (ValueError, OSError, RuntimeError, BrowserNotFoundError) as exc:
        # A bad option, a port in use, no browser or one that fails: one line, no traceback.
        sys.stderr.write(f"error: {exc}\n")
        return 2
    try:
        print(f"Smooth local backend listening on {server.url}")
        print(f"  base URL: {server.base_url}")
        print(f"  API key:  {server.api_key}")
        print(f"  e.g. SMOOTH_BASE_URL={server.base_url} CIRCLEMIND_API_KEY={server.api_key}")
        print("Press Ctrl-C to stop.", flush=True)
        threading.Event().wait()
    except KeyboardInterrupt:
        print("stopping", flush=True)
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
