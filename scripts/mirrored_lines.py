"""Count the lines two twin modules share, after stripping ``async``/``await`` (issue 12).

Usage: python scripts/mirrored_lines.py SYNC.py ASYNC.py [MAX]; exits 1 above MAX.
Blank lines, comments and import lines are not counted: a shared import is no mirrored logic.
"""

from __future__ import annotations

import difflib
import re
import sys
from pathlib import Path

_ASYNC = re.compile(r"\b(async|await)\s+|\ba(?=(close|enter|exit|iter|next)\b)")


def _lines(path: Path) -> list[str]:
    out = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = _ASYNC.sub("", raw).strip()
        if line and not line.startswith(("#", "import ", "from ")):
            out.append(line)
    return out


def mirrored(sync: Path, other: Path) -> int:
    matcher = difflib.SequenceMatcher(None, _lines(sync), _lines(other), autojunk=False)
    return sum(block.size for block in matcher.get_matching_blocks())


def main(argv: list[str]) -> int:
    count = mirrored(Path(argv[0]), Path(argv[1]))
    limit = int(argv[2]) if len(argv) > 2 else None
    sys.stdout.write(f"{argv[0]} ~ {argv[1]}: {count} mirrored lines\n")
    return 1 if limit is not None and count > limit else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
