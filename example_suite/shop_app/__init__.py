"""Smooth Shop: a small web shop to run the example suite against.

`python -m shop_app` (from example_suite/) serves it on a free loopback port and prints its URL.
"""

from __future__ import annotations

from .app import USERS
from .app import create_app
from .server import ShopServer

__all__ = ["USERS", "ShopServer", "create_app"]
