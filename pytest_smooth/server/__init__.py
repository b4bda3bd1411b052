"""The embedded Smooth-compatible local backend: ``from pytest_smooth.server import LocalServer``.

``LocalServer`` needs the ``server`` extra (Playwright, Starlette, uvicorn); asking for it
without them raises an ImportError that names ``pip install 'pytest-smooth[server]'``. The pure
parts (``protocol/``, ``browser/discovery``) import without the extra, so the client's test
fake (``pytest_smooth.testing``) works with the core dependencies only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from typing import Any

if TYPE_CHECKING:
    from pytest_smooth.server.local import LocalServer

__all__ = ["LocalServer"]

INSTALL_HINT = "pip install 'pytest-smooth[server]'"


def __getattr__(name: str) -> Any:
    if name != "LocalServer":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        import playwright  # noqa: F401
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as exc:
        raise ImportError(
            f"the local backend needs Playwright, Starlette and uvicorn: {INSTALL_HINT}"
            f" ({exc.name} is missing)"
        ) from exc
    from pytest_smooth.server.local import LocalServer

    return LocalServer
