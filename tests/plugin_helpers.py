"""Helpers shared by the plugin's pytester tests (inner runs of pytest with pytest-smooth)."""

from __future__ import annotations

import pytest

from pytest_smooth.settings import OPTIONS

ENV_NAMES = [opt.env for opt in OPTIONS if opt.env] + ["GITHUB_ACTIONS"]

# pytest-playwright is installed in the dev venv; its soft-assertion scope does not nest, so an
# in-process inner run would trip over the outer one.
BASE_INI = [
    "[pytest]",
    "asyncio_default_fixture_loop_scope = function",
    "addopts = -p no:playwright -p no:cacheprovider",
]


def write_ini(pytester: pytest.Pytester, *extra_lines: str, **keys: str) -> None:
    """Write the inner run's pytest.ini: the base lines, ``key = value`` lines, extra lines."""
    lines = [*BASE_INI, *(f"{key} = {value}" for key, value in keys.items()), *extra_lines]
    pytester.makeini("\n".join(lines) + "\n")


def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Remove every pytest-smooth environment variable for the inner run."""
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
