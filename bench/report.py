"""results.json and results.md from the case results of one run."""

from __future__ import annotations

import json
import os
import platform
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any


def machine_info() -> dict[str, Any]:
    """What the numbers were measured on (they only mean something as ratios, but context helps)."""
    return {
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def _num(value: float) -> str:
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{value:,.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    if magnitude >= 0.01:
        return f"{value:.3f}"
    return f"{value:.3g}"


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def case_markdown(case: dict[str, Any]) -> str:
    """One case: its measurements and ratios, its targets, its notes (or its error)."""
    lines = [f"## {case['case']}: {_cell(case.get('title', ''))}", ""]
    if case.get("error"):
        lines += [f"**FAILED**: `{_cell(case['error'])}`", ""]
    rows = [(name, m["unit"], m) for name, m in case.get("measurements", {}).items()]
    rows += [(name, "ratio", r) for name, r in case.get("ratios", {}).items()]
    if rows:
        lines += ["| measurement / ratio | unit | median | min | max |", "|---|---|---:|---:|---:|"]
        lines += [f"| {_cell(name)} | {_cell(unit)} | {_num(m['median'])} | {_num(m['min'])} | {_num(m['max'])} |"
                  for name, unit, m in rows]
        lines.append("")
    if case.get("targets"):
        lines += ["| target | median | met |", "|---|---:|---|"]
        for t in case["targets"]:
            op = ">=" if t["op"] == "ge" else "<"
            lines.append(f"| {_cell(t['metric'])} {op} {_num(t['threshold'])} ({_cell(t['description'])}) | "
                         f"{_num(t['median'])} | {'yes' if t['met'] else '**no**'} |")
        lines.append("")
    if case.get("notes"):
        lines += ["Notes:", ""] + [f"- {_cell(note)}" for note in case["notes"]] + [""]
    return "\n".join(lines)


def markdown(results: dict[str, Any]) -> str:
    """The whole run: machine, a table per case, and a summary of every target."""
    m = results["machine"]
    lines = ["# vangnet benchmarks", "",
             f"Python {m['python']} on {m['platform']}, {m['cpu_count']} CPUs, {m['date']}; "
             f"repeats {results['repeats']}{' (quick smoke run)' if results['quick'] else ''}. "
             "Speeds are judged as ratios against a reference measured in the same repetition.", ""]
    summary = [(c["case"], t) for c in results["cases"] for t in c.get("targets", [])]
    if summary:
        lines += ["## Targets", "", "| case | target | median | met |", "|---|---|---:|---|"]
        for case, t in summary:
            op = ">=" if t["op"] == "ge" else "<"
            lines.append(f"| {case} | {_cell(t['metric'])} {op} {_num(t['threshold'])} | {_num(t['median'])} | "
                         f"{'yes' if t['met'] else '**no**'} |")
        lines.append("")
    failed = [c["case"] for c in results["cases"] if c.get("error")]
    if failed:
        lines += [f"Failed cases: {', '.join(failed)}", ""]
    lines += [case_markdown(c) for c in results["cases"]]
    return "\n".join(lines).rstrip() + "\n"


def write(results: dict[str, Any], out: Path) -> str:
    """Write `out`/results.json and `out`/results.md; returns the markdown."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")
    text = markdown(results)
    (out / "results.md").write_text(text, encoding="utf-8")
    return text
