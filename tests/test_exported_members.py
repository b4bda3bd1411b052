"""The public surface: ``__all__`` is sorted, complete, and every name resolves."""

from __future__ import annotations

import inspect
import subprocess
import sys

import pytest_smooth


def test_all_is_sorted() -> None:
    assert pytest_smooth.__all__ == sorted(
        pytest_smooth.__all__, key=lambda n: (not n.isupper(), n)
    )


def test_every_exported_name_resolves() -> None:
    for name in pytest_smooth.__all__:
        assert getattr(pytest_smooth, name) is not None, name


def test_public_names_are_exported() -> None:
    # Submodules (plugin, fixtures, ...) become attributes once pytest loads them: not API.
    public = {
        name
        for name, value in vars(pytest_smooth).items()
        if not name.startswith("_") and not inspect.ismodule(value)
    }
    typing_helpers = {"annotations", "TYPE_CHECKING", "Any"}
    assert public - typing_helpers <= set(pytest_smooth.__all__)


def test_client_core_imports_without_pytest() -> None:
    code = (
        "import sys; import pytest_smooth; "
        "from pytest_smooth import SmoothClient, AsyncSmoothClient, expect; "
        "assert 'pytest' not in sys.modules, 'client core imported pytest'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_unknown_attribute_raises() -> None:
    try:
        pytest_smooth.no_such_name  # noqa: B018
    except AttributeError as exc:
        assert "no_such_name" in str(exc)
    else:
        raise AssertionError("expected AttributeError")
