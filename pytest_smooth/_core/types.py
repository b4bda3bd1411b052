"""Type aliases and the NOT_GIVEN sentinel ("use the client default", which differs from None)."""

from __future__ import annotations

import enum
from typing import Any
from typing import Final
from typing import Literal
from typing import TypeAlias

JSON: TypeAlias = Any
JSONSchema: TypeAlias = dict[str, Any]
Device: TypeAlias = Literal["desktop", "mobile", "desktop-lg"]
TaskStatus: TypeAlias = Literal["waiting", "running", "done", "failed", "cancelled"]


class NotGiven(enum.Enum):
    """Sentinel type: an argument that was not passed (None has its own meaning: disabled)."""

    NOT_GIVEN = enum.auto()

    def __repr__(self) -> str:
        return "NOT_GIVEN"

    def __bool__(self) -> Literal[False]:
        return False


NOT_GIVEN: Final = NotGiven.NOT_GIVEN
