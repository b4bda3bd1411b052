"""Serve the shop until Ctrl-C: `python -m shop_app [--port N]` from example_suite/."""

from __future__ import annotations

import argparse
import sys
import time

from .server import ShopServer


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m shop_app", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    with ShopServer(args.host, args.port) as shop:
        sys.stdout.write(f"Smooth Shop on {shop.url} (Ctrl-C to stop)\n")
        sys.stdout.flush()
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
