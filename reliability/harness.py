"""Trials: run the worker with one kill point, restart it until it finishes, check the invariants.

A trial has its own SQLite store, export folder and freshly started simulators (they live here, in the
parent, and outlive the killed worker). `measure` runs the scenario once without a kill and counts the
events of each kind; `plan` spreads kill points over those counts (a kill point `n` is uniform in
1..count, the timer uniform over the clean run's duration), cycling through the kinds; `run_reaching`
plans again for kill points a run ended before (the timer, mostly) until enough were reached.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

import store
from reliability import invariants
from reliability.killpoints import ENV, KINDS
from reliability.scenario import Scenario, make_pki, make_scenario, running_sims

WORKER_TIMEOUT_S = 120
MAX_RESTARTS = 3
ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Trial:
    """One kill point and what came of it."""

    number: int
    kind: str
    at: float
    target: str = ""
    """For an http kill point: the call it hit in the clean run (e.g. `POST /zaken/api/v1/statussen`)."""
    reached: bool = False
    restarts: int = 0
    error: str | None = None
    at_kill: dict = field(default_factory=dict)
    findings: dict = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def lost(self) -> int:
        return invariants.totals(self.all_findings)["lost"]

    @property
    def duplicated(self) -> int:
        return invariants.totals(self.all_findings)["duplicated"]

    @property
    def all_findings(self) -> dict:
        """The checks right after the kill and after the recovery."""
        return {**self.at_kill, **self.findings}

    def summary(self) -> dict:
        return {**asdict(self), "lost": self.lost, "duplicated": self.duplicated,
                "what": invariants.describe(self.all_findings)}


class Harness:
    """The shared parts of a run: its folder, one PKI, the scenario (dated today) and the clean counts."""

    def __init__(self, workdir: Path) -> None:
        from services.intake import DUTCH_TIME

        self.workdir = workdir.resolve()
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.pki = make_pki(self.workdir)
        self.scenario: Scenario = make_scenario(datetime.now(DUTCH_TIME).date())
        self.counts: dict[str, float] = {}
        self.calls: list[str] = []
        self.template = _migrated_template(self.workdir / "template.db")

    def measure(self) -> dict[str, float]:
        """A clean run: count the events per kind; its invariants must hold (else the scenario is wrong)."""
        trial = self.run(Trial(number=0, kind="none", at=0), count=True)
        if trial.error or trial.lost or trial.duplicated:
            raise RuntimeError(f"the clean run is not clean: {trial.error or invariants.describe(trial.findings)}; "
                               f"see {self.workdir / 'trial-0000'}")
        self.counts = json.loads((self.workdir / "trial-0000" / "counts.json").read_text(encoding="utf-8"))
        self.calls = self.counts.pop("calls")
        return self.counts

    def plan(self, trials: int, seed: int, first: int = 1) -> list[Trial]:
        """`trials` kill points, the kinds in turn, each at a random point of a clean run; numbered from
        `first`."""
        rng = random.Random(seed)
        out = []
        for i in range(first - 1, first - 1 + trials):
            kind = KINDS[i % len(KINDS)]
            total = self.counts[kind]
            at = round(rng.uniform(0.05, 0.95 * total), 3) if kind == "timer" else rng.randint(1, int(total))
            target = self.calls[int(at) - 1] if kind.startswith("http") else ""
            out.append(Trial(number=i + 1, kind=kind, at=at, target=target))
        return out

    def run_reaching(self, kill_points: int, seed: int, jobs: int = 1, progress=None, rounds: int = 3) -> list[Trial]:
        """Trials until `kill_points` of them were reached (a run may end before its kill point: the timer,
        or a clean run that took another path), planning the missing ones again, at most `rounds` times."""
        trials: list[Trial] = []
        for round_ in range(rounds):
            missing = kill_points - sum(t.reached for t in trials)
            if missing <= 0:
                break
            trials += self.run_all(self.plan(missing, seed + round_ * 7919, first=len(trials) + 1), jobs, progress)
        return trials

    def run_all(self, trials: list[Trial], jobs: int = 1, progress=None) -> list[Trial]:
        """Run the trials, `jobs` at a time; `progress(trial)` after each."""
        def one(trial: Trial) -> Trial:
            done = self.run(trial)
            if progress is not None:
                progress(done)
            return done

        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            return list(pool.map(one, trials))

    def run(self, trial: Trial, *, count: bool = False) -> Trial:
        """Kill run (unless `count`), restarts, checks."""
        started = time.monotonic()
        folder = self.workdir / f"trial-{trial.number:04d}"
        shutil.rmtree(folder, ignore_errors=True)  # a fresh store and export folder
        folder.mkdir(parents=True)
        url = f"sqlite:///{folder / 'vangnet.db'}"
        shutil.copyfile(self.template, folder / "vangnet.db")  # alembic can't migrate in two threads at once
        export_dir = folder / "export"
        config = {"today": self.scenario.today.isoformat(), "export_dir": str(export_dir)}
        engine = store.make_engine(url)
        try:
            with running_sims(self.scenario, self.pki, url, folder / "home") as sims:
                if count:
                    config["count_file"] = str(folder / "counts.json")
                else:
                    code = run_worker(config, sims.env, folder / "kill.log", crash_at=f"{trial.kind}:{trial.at:g}")
                    trial.reached = code == -9
                    if code not in (0, -9):
                        trial.error = f"the kill run ended with exit code {code}; see kill.log"
                    trial.at_kill = invariants.at_kill(engine, self.scenario, sims.ib, export_dir)
                for attempt in range(MAX_RESTARTS):
                    code = run_worker(config, sims.env, folder / f"run-{attempt}.log")
                    trial.restarts = attempt + 1
                    if code == 0:
                        break
                else:
                    trial.error = f"{trial.error or ''} the worker did not finish in {MAX_RESTARTS} runs".strip()
                trial.findings = invariants.check_all(engine, self.scenario, sims, export_dir)
        finally:
            engine.dispose()
        trial.seconds = round(time.monotonic() - started, 2)
        return trial


def _migrated_template(path: Path) -> Path:
    """An empty store at the current schema, as one self-contained file (no WAL) to copy per trial."""
    import sqlite3

    path.unlink(missing_ok=True)
    store.upgrade(f"sqlite:///{path}")
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        connection.execute("PRAGMA journal_mode=DELETE")
    finally:
        connection.close()
    return path


def run_worker(config: dict, env: dict[str, str], log: Path, *, crash_at: str | None = None) -> int:
    """Run the worker child once; its exit code (-9: killed by SIGKILL)."""
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("VANGNET_")}
    child_env.update(env)
    child_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), child_env.get("PYTHONPATH")]))
    if crash_at:
        child_env[ENV] = crash_at
    with open(log, "w", encoding="utf-8") as out:
        try:
            return subprocess.run([sys.executable, "-m", "reliability.worker", json.dumps(config)], env=child_env,
                                  cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, timeout=WORKER_TIMEOUT_S).returncode
        except subprocess.TimeoutExpired:
            return -1  # subprocess.run has killed it; counts as a failed run
