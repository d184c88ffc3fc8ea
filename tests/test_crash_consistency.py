"""Crash consistency (issue 10), CI size: the worker is killed with SIGKILL at 20 points spread over every
kind (inside and between transactions, before a request and after its answer, on a timer), restarted, and
nothing may be lost or doubled. `make reliability` runs the same with 200 kill points.

The second test shows that the checks can fail: it loses a signal, doubles a zaak and writes a booking
file twice by hand, and each invariant must count exactly that.
"""

from __future__ import annotations

import json
import shutil

import pytest
from sqlalchemy import delete

import store
from reliability import invariants
from reliability.harness import Harness, Trial, run_worker
from reliability.killpoints import KINDS
from reliability.scenario import running_sims
from store.models import SignalRow

CI_KILL_POINTS = 20
SEED = 10


@pytest.fixture(scope="module")
def harness(tmp_path_factory) -> Harness:
    h = Harness(tmp_path_factory.mktemp("reliability"))
    h.measure()
    return h


@pytest.mark.slow
def test_nothing_lost_or_doubled_over_20_kill_points(harness: Harness) -> None:
    trials = harness.run_reaching(CI_KILL_POINTS, SEED, jobs=2)
    reached = [t for t in trials if t.reached]
    assert len(reached) >= CI_KILL_POINTS, [t.summary() for t in trials if not t.reached]
    assert {t.kind for t in reached} == set(KINDS), "every kind of kill point must be hit"
    problems = [f"{t.kind}:{t.at:g} {t.target} -> {t.summary()['what']} {t.error or ''}"
                for t in trials if t.lost or t.duplicated or t.error]
    assert problems == []


def test_the_checks_count_what_was_lost_or_doubled(harness: Harness) -> None:
    folder = harness.workdir / "tampered"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    shutil.copyfile(harness.template, folder / "vangnet.db")
    url, export_dir = f"sqlite:///{folder / 'vangnet.db'}", folder / "export"
    engine = store.make_engine(url)
    try:
        with running_sims(harness.scenario, harness.pki, url, folder / "home") as sims:
            config = {"today": harness.scenario.today.isoformat(), "export_dir": str(export_dir)}
            assert run_worker(config, sims.env, folder / "run.log") == 0
            clean = invariants.check_all(engine, harness.scenario, sims, export_dir)
            assert invariants.totals(clean) == {"lost": 0, "duplicated": 0}, invariants.describe(clean)

            with store.session_scope(engine) as session:  # a signal disappears from the store
                session.execute(delete(SignalRow).where(SignalRow.bericht_id == "REL-0002"))
            zaak = sims.zgw.zaken[0]  # the zaaksysteem gets a case's zaak a second time
            with sims.zgw._lock:
                sims.zgw._zaken["second"] = {**zaak, "uuid": "second", "url": zaak["url"] + "-second"}
            booking_file = next(export_dir.glob("boekingen-*.json"))  # finance gets a batch twice
            shutil.copyfile(booking_file, export_dir / "boekingen-again.json")
            tampered = invariants.check_all(engine, harness.scenario, sims, export_dir)
    finally:
        engine.dispose()
    assert tampered["signal"] == {"lost": 1, "duplicated": 0}
    assert tampered["zaak"] == {"lost": 0, "duplicated": 1}
    exported = len(json.loads(booking_file.read_text(encoding="utf-8"))["bookings"])
    assert tampered["export"] == {"lost": 0, "duplicated": exported}
    assert invariants.totals(tampered) == {"lost": 1, "duplicated": 1 + exported}


def test_a_trial_that_is_never_killed_is_not_counted_as_a_kill_point(harness: Harness) -> None:
    trial = harness.run(Trial(number=999, kind="sql", at=10 ** 9))
    assert not trial.reached and trial.error is None
