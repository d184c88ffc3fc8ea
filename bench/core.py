"""What every benchmark case reports: measurements per repetition, ratios against a reference measured in
the same run, and targets judged on those ratios. Machines here are noisy, so absolute speeds are only
context: the verdict is always a ratio of two things measured side by side, repetition by repetition.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Measurement:
    """One quantity measured once per repetition (e.g. signals/s of vangnet, of the reference)."""

    name: str
    unit: str
    values: list[float] = field(default_factory=list)

    def add(self, value: float) -> None:
        self.values.append(float(value))

    def summary(self) -> dict[str, float]:
        return {"median": statistics.median(self.values), "min": min(self.values), "max": max(self.values)}


@dataclass
class Target:
    """A goal from the issue: `metric` (a measurement or ratio name) `op` ("ge" or "lt") `threshold`."""

    metric: str
    op: str
    threshold: float
    description: str

    def met_by(self, value: float) -> bool:
        return value >= self.threshold if self.op == "ge" else value < self.threshold


@dataclass
class CaseResult:
    """The outcome of one benchmark case."""

    case: str
    title: str
    params: dict[str, Any] = field(default_factory=dict)
    measurements: dict[str, Measurement] = field(default_factory=dict)
    ratios: dict[str, Measurement] = field(default_factory=dict)
    targets: list[Target] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def measure(self, name: str, unit: str) -> Measurement:
        """The measurement `name`, created on first use."""
        return self.measurements.setdefault(name, Measurement(name, unit))

    def ratio(self, name: str, numerator: str, denominator: str) -> Measurement:
        """`numerator / denominator` per repetition (same index = measured side by side)."""
        top, bottom = self.measurements[numerator], self.measurements[denominator]
        ratio = Measurement(name, "ratio", [a / b for a, b in zip(top.values, bottom.values)])
        self.ratios[name] = ratio
        return ratio

    def target(self, metric: str, op: str, threshold: float, description: str) -> None:
        self.targets.append(Target(metric, op, threshold, description))

    def _value(self, metric: str) -> Measurement:
        return self.ratios.get(metric) or self.measurements[metric]

    def verdicts(self) -> list[dict[str, Any]]:
        """Each target with the median it is judged on and whether it is met."""
        out = []
        for t in self.targets:
            median = self._value(t.metric).summary()["median"]
            out.append({"metric": t.metric, "op": t.op, "threshold": t.threshold, "description": t.description,
                        "median": median, "met": t.met_by(median)})
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "case": self.case, "title": self.title, "params": self.params,
            "measurements": {n: {"unit": m.unit, "values": m.values, **m.summary()}
                             for n, m in self.measurements.items() if m.values},
            "ratios": {n: {"values": r.values, **r.summary()} for n, r in self.ratios.items() if r.values},
            "targets": self.verdicts(), "notes": self.notes,
        }


@dataclass(frozen=True)
class BenchContext:
    """How a run is configured: `quick` shrinks every N (the smoke test in `make test`)."""

    workdir: Path
    repeats: int = 3
    quick: bool = False
    shared_dir: Path = Path(__file__).resolve().parent.parent.parent / "shared"
    pg_url: str | None = None
    """A PostgreSQL server URL whose user may CREATE DATABASE; None: start one from the system binaries."""

    def n(self, full: int, quick: int) -> int:
        """The size of a data set: `full` in a real run, `quick` in the smoke run."""
        return quick if self.quick else full


BenchCase = Callable[[BenchContext], CaseResult]
"""A benchmark case: runs its repetitions and returns its result (bench/<case>.py: `run`)."""
