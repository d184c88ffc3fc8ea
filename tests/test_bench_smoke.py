"""Smoke run of the benchmarks (`python -m bench --quick`): tiny sizes, one repetition, structure only.

The cases are discovered from bench/: every case module that exists joins, so the benchmark code can't rot.
The numbers are not judged here (a smoke run on a busy machine says nothing); only that every case ran,
measured, compared and judged its targets.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CASES = ("signal_core", "memory", "invoices", "e2e", "monitor")


def test_quick_bench_writes_results_for_every_case(tmp_path: Path) -> None:
    cases = [case for case in CASES if (ROOT / "bench" / f"{case}.py").is_file()]
    assert cases, "no benchmark case modules in bench/"
    out = tmp_path / "out"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--repeats", "1", "--out", str(out),
         "--workdir", str(tmp_path / "work"), "--only", *cases],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]

    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert {"python", "cpu_count", "platform", "date"} <= set(results["machine"])
    by_case = {case["case"]: case for case in results["cases"]}
    assert sorted(by_case) == sorted(cases)
    markdown = (out / "results.md").read_text(encoding="utf-8")
    for name in cases:
        case = by_case[name]
        assert not case.get("error"), f"{name}: {case.get('error')}"
        assert case["measurements"] and case["ratios"] and case["targets"], name
        for measurement in [*case["measurements"].values(), *case["ratios"].values()]:
            assert len(measurement["values"]) >= 1
            assert measurement["min"] <= measurement["median"] <= measurement["max"]
        for target in case["targets"]:
            assert isinstance(target["met"], bool) and isinstance(target["median"], float)
        assert f"## {name}:" in markdown and "| median | min | max |" in markdown
    assert done.stdout.strip().startswith("# vangnet benchmarks")
