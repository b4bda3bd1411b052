"""The output folder starts each run empty: no file of a previous run is mistaken for this one's.

Emptied once per run, at its start, by the process that owns the run (the xdist controller,
never a worker), as pytest-playwright does with its ``--output``. A folder that looks like
something other than ours is refused with a ``pytest.UsageError``: the filesystem root, the
home folder, the rootdir, the invocation folder or any of their parents, or one that holds a
project (``.git``, ``pyproject.toml``...).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Final

import pytest

PROJECT_MARKERS: Final = (".git", ".hg", "pyproject.toml", "setup.py", "setup.cfg", "tox.ini")


def unsafe_reason(folder: Path, protected: list[Path]) -> str | None:
    """Why emptying ``folder`` could destroy work that is not ours, or None when it is safe."""
    folder = folder.resolve()
    if folder == Path(folder.anchor):
        return "it is the filesystem root"
    for given in protected:
        path = given.resolve()
        if folder == path or folder in path.parents:
            return f"it is {path} or one of its parents"
    for marker in PROJECT_MARKERS:
        if (folder / marker).exists():
            return f"it holds {marker}, so it looks like a project"
    return None


def clean_output(config: pytest.Config, folder: Path) -> None:
    """Empty ``folder`` before the run (controller only); refuse when it looks unsafe."""
    if hasattr(config, "workerinput") or config.option.collectonly:
        return
    if not folder.exists():
        return
    protected = [Path.home(), config.rootpath, config.invocation_params.dir]
    reason = unsafe_reason(folder, protected)
    if reason is not None:
        raise pytest.UsageError(
            f"pytest-smooth: will not empty the output folder {folder}: {reason}; "
            "choose another with --smooth-output"
        )
    if not folder.is_dir():
        raise pytest.UsageError(
            f"pytest-smooth: the output folder {folder} is a file;"
            " choose another with --smooth-output"
        )
    shutil.rmtree(folder)
