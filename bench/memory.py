"""Case 4, memory: peak RSS of the signal core (case 1's pipeline) at N and 10 x N, each in a fresh process.

One child (`bench.memory_child prepare`) streams the data into a new SQLite store in chunks; a second, fresh
child (`process`) runs the same work as case 1 (inbox batches, then the takeover decisions) and reports its
`ru_maxrss`, so the processing peak is not hidden by the setup's. Flat means the peak at 100,000
signals is not much above the peak at 10,000: batches of the default size bound what is held in memory.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from bench.core import BenchContext, CaseResult

TITLE = "Memory: peak RSS of the signal core, flat in N"
ROOT = Path(__file__).resolve().parent.parent


CAP_SECONDS = 60.0
"""Full runs: how long the child may process (whole batches; see the notes for how far it got)."""


def _child(*args: str) -> dict:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    done = subprocess.run([sys.executable, "-m", "bench.memory_child", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"memory child {args[:2]} failed (exit {done.returncode}): {done.stderr.strip()[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(n: int, workdir: Path, cap: float | None = None) -> dict:
    """Fill a store with `n` signals, then process them (at most `cap` seconds) in a fresh process."""
    setup = _child("prepare", str(n), str(workdir))
    report = _child("process", str(n), str(workdir), *([str(cap)] if cap else []))
    report["setup_peak_rss_mb"] = setup["peak_rss_mb"]
    return report


def run(ctx: BenchContext) -> CaseResult:
    result = CaseResult("memory", TITLE)
    small, large = ctx.n(10_000, 200), ctx.n(100_000, 500)
    result.params = {"sizes": [small, large], "repeats": ctx.repeats, "store": "SQLite (file, WAL)",
                     "rss": "peak RSS (VmHWM) of a fresh child per size; ru_maxrss in params"}
    workdir = Path(ctx.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    # Peak RSS hardly varies between runs and the 100k child takes minutes: one measurement per size is
    # enough in a full run; the smoke run repeats as asked.
    repeats = ctx.repeats if ctx.quick else 1
    for _ in range(repeats):
        for n in (small, large):
            report = measure(n, workdir, None if ctx.quick else CAP_SECONDS)
            result.measure(f"processed_{n}", "signals").add(report["processed"])
            result.measure(f"peak_rss_mb_{n}", "MB").add(report["peak_rss_mb"])
            result.measure(f"seconds_{n}", "s").add(report["seconds"])
            result.measure(f"setup_peak_rss_mb_{n}", "MB").add(report["setup_peak_rss_mb"])
            result.params[f"ru_maxrss_mb_{n}"] = round(report["ru_maxrss_mb"], 1)
    result.ratio("rss_growth", f"peak_rss_mb_{large}", f"peak_rss_mb_{small}")
    result.target(f"peak_rss_mb_{large}", "lt", 300, f"peak RSS while processing {large:,} signals < 300 MB")
    result.target("rss_growth", "lt", 1.5, f"flat: peak RSS at {large:,} < 1.5 x the peak at {small:,}")
    for n in (small, large):
        processed = result.measurements[f"processed_{n}"].summary()["median"]
        if processed < n:
            result.notes.append(f"N={n:,}: the {CAP_SECONDS:.0f} s cap stopped the child after {processed:,.0f} "
                                f"of {n:,} signals (all of them in the store), to stay in the time budget: the peak covers "
                                "processing with the whole backlog stored, not every signal processed.")
    result.notes.append("Peak RSS is the child's VmHWM (/proc/self/status): Linux carries the parent's peak over "
                        "fork + exec into a child's ru_maxrss (kept in params as ru_maxrss_mb_<N>), which would "
                        "report the benchmark parent's memory, not the child's.")
    result.notes.append("A fresh pair of child processes (fill, then process) per size; full runs measure each size "
                        "once (peak RSS hardly varies and the large run is long), quick runs as often as asked.")
    return result
