"""`python -m reliability [--trials N] [--seed S] [--workdir DIR] [--jobs J]`: crash-consistency trials.

Prints the table (trials, kill points reached per kind, lost, duplicated) and writes it to
reliability/results.md and reliability/results.json. Exit 1 when anything was lost or doubled, a worker
failed, or fewer kill points were reached than asked for.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

from reliability.harness import Harness, Trial
from reliability.killpoints import KINDS

HERE = Path(__file__).resolve().parent


def table(trials: list[Trial]) -> list[str]:
    """The markdown table: one row per kill kind and the total."""
    lines = ["| kill point | trials | reached | lost | duplicated | errors |", "|---|---|---|---|---|---|"]
    for kind in (*KINDS, None):
        rows = [t for t in trials if kind is None or t.kind == kind]
        cells = [len(rows), sum(t.reached for t in rows), sum(t.lost for t in rows),
                 sum(t.duplicated for t in rows), sum(bool(t.error) for t in rows)]
        name = f"`{kind}`" if kind else "**total**"
        lines.append(f"| {name} | " + " | ".join(str(c) for c in cells) + " |")
    return lines


def by_invariant(trials: list[Trial]) -> list[str]:
    """Lost and duplicated per invariant, over every trial."""
    names = list(dict.fromkeys(name for t in trials for name in t.all_findings))
    lines = ["| invariant | lost | duplicated |", "|---|---|---|"]
    for name in names:
        counts = [t.all_findings.get(name, {}) for t in trials]
        lines.append(f"| {name} | {sum(c.get('lost', 0) for c in counts)} | "
                     f"{sum(c.get('duplicated', 0) for c in counts)} |")
    return lines


def failures(trials: list[Trial]) -> list[str]:
    """One line per trial that lost or doubled something or failed."""
    return [f"- trial {t.number} (`{t.kind}:{t.at:g}`{' ' + t.target if t.target else ''}): "
            f"{t.summary()['what'] or ''} {t.error or ''}".rstrip()
            for t in trials if t.lost or t.duplicated or t.error]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reliability", description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=200, help="kill points to reach (default 200)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the kill point choice (default 1)")
    parser.add_argument("--workdir", type=Path, default=None, help="keep the trials' stores and logs here")
    parser.add_argument("--jobs", type=int, default=2, help="trials run side by side (default 2)")
    args = parser.parse_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="vangnet-reliability-"))
    started = time.monotonic()
    harness = Harness(workdir)
    counts = harness.measure()
    print("Clean run: " + ", ".join(f"{k}={v:g}" for k, v in counts.items()), flush=True)

    def progress(trial: Trial) -> None:
        mark = "ok" if not (trial.lost or trial.duplicated or trial.error) else "FAIL"
        print(f"  trial {trial.number:4d} {trial.kind}:{trial.at:g} reached={trial.reached} {mark} "
              f"({trial.seconds:.1f} s)", flush=True)

    trials = harness.run_reaching(args.trials, args.seed, jobs=args.jobs, progress=progress)
    elapsed = time.monotonic() - started
    lines = [*table(trials), "", *by_invariant(trials)]
    bad = failures(trials)
    report = ["# Crash consistency (`python -m reliability`)", "",
              f"{len(trials)} trials, seed {args.seed}, {elapsed:.0f} s; clean run: "
              + ", ".join(f"{k}={v:g}" for k, v in counts.items()), "", *lines, "", *(bad or ["Nothing lost or doubled."])]
    print("\n".join(lines))
    print("\n".join(bad) if bad else "Nothing lost or doubled.")
    (HERE / "results.md").write_text("\n".join(report) + "\n", encoding="utf-8")
    (HERE / "results.json").write_text(json.dumps({"seed": args.seed, "seconds": round(elapsed, 1), "counts": counts,
                                                   "trials": [t.summary() for t in trials]}, indent=1),
                                       encoding="utf-8")
    if args.workdir is None and not bad:
        shutil.rmtree(workdir, ignore_errors=True)
    elif bad:
        print(f"Stores and logs of the trials: {workdir}")
    return 1 if bad or sum(t.reached for t in trials) < args.trials else 0


if __name__ == "__main__":
    sys.exit(main())
