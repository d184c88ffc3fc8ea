"""`python -m bench [--quick] [--only CASE ...] [--repeats N] [--out DIR] [--workdir DIR] [--pg-url URL]`.

Runs the cases in a fixed order, each in its own folder under a scratch directory; a case that raises is
reported as failed (its error in results.json) and the run goes on, ending with exit code 1.
Writes <out>/results.json and <out>/results.md (default: bench/) and prints the markdown.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

from bench.core import BenchContext
from bench.report import machine_info, write

CASES = ("signal_core", "memory", "invoices", "e2e", "monitor")
BENCH_DIR = Path(__file__).resolve().parent


def available_cases() -> list[str]:
    """The cases whose module exists in bench/ (in run order)."""
    return [case for case in CASES if (BENCH_DIR / f"{case}.py").is_file()]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench", description="vangnet benchmarks (issue 9)")
    p.add_argument("--quick", action="store_true", help="tiny sizes: the smoke run of `make test`")
    p.add_argument("--only", nargs="+", choices=CASES, metavar="CASE", help=f"run only these ({', '.join(CASES)})")
    p.add_argument("--repeats", type=int, default=None, help="repetitions per case (default 3)")
    p.add_argument("--out", type=Path, default=BENCH_DIR, help="where results.json/results.md go (default bench/)")
    p.add_argument("--workdir", type=Path, default=None, help="scratch folder (default: a temporary directory)")
    p.add_argument("--pg-url", default=None, help="PostgreSQL URL whose user may CREATE DATABASE (default: start one)")
    return p


def run_case(name: str, ctx: BenchContext) -> dict[str, Any]:
    """Import and run one case; a failure becomes a result with `error` instead of stopping the run."""
    started = time.perf_counter()
    try:
        module = importlib.import_module(f"bench.{name}")
        result = module.run(ctx).as_dict()
    except Exception as exc:  # noqa: BLE001 - one broken case must not hide the others' numbers
        traceback.print_exc(file=sys.stderr)
        result = {"case": name, "title": "", "params": {}, "measurements": {}, "ratios": {}, "targets": [],
                  "notes": [], "error": f"{type(exc).__name__}: {exc}"}
    result["seconds"] = round(time.perf_counter() - started, 1)
    return result


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    selected = [case for case in CASES if case in (args.only or CASES)]
    if not args.only:
        selected = [case for case in selected if case in available_cases()]
    repeats = args.repeats if args.repeats is not None else (BenchContext.repeats)
    if repeats < 1:
        print("--repeats must be at least 1", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="vangnet-bench-") as tmp:
        root = args.workdir or Path(tmp)
        results: dict[str, Any] = {"machine": machine_info(), "quick": args.quick, "repeats": repeats,
                                   "selected": selected, "cases": []}
        started = time.perf_counter()
        for name in selected:
            workdir = root / name
            workdir.mkdir(parents=True, exist_ok=True)
            ctx = BenchContext(workdir=workdir, repeats=repeats, quick=args.quick, pg_url=args.pg_url)
            print(f"[bench] {name} ...", file=sys.stderr, flush=True)
            results["cases"].append(run_case(name, ctx))
            print(f"[bench] {name} done in {results['cases'][-1]['seconds']} s", file=sys.stderr, flush=True)
        results["seconds"] = round(time.perf_counter() - started, 1)
    text = write(results, args.out)
    print(text)
    return 1 if any(case.get("error") for case in results["cases"]) else 0


if __name__ == "__main__":
    sys.exit(main())
