"""Figures, their goals, the table and the JSON file."""

from __future__ import annotations

import json
import math
import statistics
from dataclasses import asdict
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Literal

# How a figure meets its goal:
#   "ratio_max": median / reference median <= threshold (within Nx of the reference)
#   "speedup_min": reference median / median >= threshold (at least Nx faster)
#   "value_max": median <= threshold (no reference)
#   "speedup_info": reference median / median, no goal (a reference point for another figure)
#   "info": no goal, shown for the record
GoalKind = Literal["ratio_max", "speedup_min", "value_max", "speedup_info", "info"]


def median(samples: list[float]) -> float:
    return statistics.median(samples) if samples else math.nan


def p95(samples: list[float]) -> float:
    """Return the 95th percentile (nearest rank): the largest sample for small counts."""
    if not samples:
        return math.nan
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


@dataclass
class Figure:
    """One measured figure, its reference and its goal."""

    name: str
    unit: str
    samples: list[float]
    reference: str = ""
    ref_samples: list[float] = field(default_factory=list)
    goal_kind: GoalKind = "info"
    threshold: float = math.nan
    note: str = ""

    @property
    def median(self) -> float:
        return median(self.samples)

    @property
    def p95(self) -> float:
        return p95(self.samples)

    @property
    def ratio(self) -> float:
        """Return ours / reference, or reference / ours for a speedup goal (NaN: none)."""
        ours, ref = self.median, median(self.ref_samples)
        if not self.ref_samples or not ours or not ref:
            return math.nan
        return ref / ours if self.goal_kind.startswith("speedup") else ours / ref

    @property
    def goal(self) -> str:
        if self.goal_kind == "ratio_max":
            return f"<= {self.threshold:g}x ref"
        if self.goal_kind == "speedup_min":
            return f">= {self.threshold:g}x faster"
        if self.goal_kind == "value_max":
            return f"<= {self.threshold:g} {self.unit}"
        return "-"

    @property
    def met(self) -> bool | None:
        if self.goal_kind == "ratio_max":
            return self.ratio <= self.threshold
        if self.goal_kind == "speedup_min":
            return self.ratio >= self.threshold
        if self.goal_kind == "value_max":
            return self.median <= self.threshold
        return None

    def as_dict(self) -> dict[str, object]:
        data = asdict(self)
        data.update(
            median=self.median,
            p95=self.p95,
            ref_median=median(self.ref_samples),
            ref_p95=p95(self.ref_samples),
            ratio=self.ratio,
            goal=self.goal,
            met=self.met,
        )
        return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in data.items()}


def _num(value: float) -> str:
    if math.isnan(value):
        return "-"
    return f"{value:.3g}" if abs(value) < 100 else f"{value:.0f}"


HEADERS = ("figure", "unit", "median", "p95", "reference", "ref med", "ref p95", "ratio", "goal",
           "met")  # fmt: skip


def rows(figures: list[Figure]) -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = []
    for f in figures:
        met = {True: "yes", False: "NO", None: "-"}[f.met]
        out.append((
            f.name, f.unit, _num(f.median), _num(f.p95), f.reference or "-",
            _num(median(f.ref_samples)), _num(p95(f.ref_samples)),
            "-" if math.isnan(f.ratio) else f"{f.ratio:.2f}x", f.goal, met,
        ))  # fmt: skip
    return out


def table(figures: list[Figure]) -> str:
    """Render the figures as a fixed-width text table."""
    body = rows(figures)
    widths = [max(len(r[i]) for r in [HEADERS, *body]) for i in range(len(HEADERS))]
    line = "  ".join("-" * w for w in widths)
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    out = [fmt.format(*HEADERS), line, *(fmt.format(*r) for r in body)]
    notes = [f"  [{f.name}] {f.note}" for f in figures if f.note]
    return "\n".join(out + (["notes:", *notes] if notes else []))


def write_json(path: Path, figures: list[Figure], meta: dict[str, object]) -> None:
    data = {"meta": meta, "figures": [f.as_dict() for f in figures]}
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
