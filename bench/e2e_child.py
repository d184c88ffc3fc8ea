"""The worker process of case 2 (end to end): `python -m bench.e2e_child '<json config>'`.

Prefect reads its settings when it is first imported, so this process points itself at the case's
private Prefect server (`prefect_env`) before anything imports prefect; the harness process may have
imported it already. Per repetition it runs the vangnet design (the real pipeline flow) and the naive
design (bench/naive.py), each against freshly started simulators (IB and Suwinet over mutual TLS with
2W-be-S, the ZGW and arbodienst APIs) and a fresh SQLite store, and prints one JSON line per run,
prefixed with `E2E-RESULT `. Nothing personal is printed: counts, times and case references only.

The partner simulators run in a process of their own (bench/e2e_partners.py), as real partners do,
so their request handling does not share this process's interpreter lock; config `partners: "inline"`
starts them in this process instead (for comparison).

Config keys: `workdir`, `prefect_home` (the `home` of the Settings the server was started with),
`prefect_port`, `n` (vangnet signals), `naive_n`, `repeats`, `designs` (of "vangnet": the pipeline in
micro-batch mode, "vangnet-batched": stage by stage, "naive"; default vangnet and naive), `micro_batch`
(signals per page in micro-batch mode, default 10), `page_size`/`batch_size` (VANGNET_IB_PAGE_SIZE,
VANGNET_BATCH_SIZE), `trace_limits` (print every limit acquisition's duration: profiling).
"""

from __future__ import annotations

import json
import os
import sys
import time
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from rules.identifiers import synthetic_bsn

MARKER = "E2E-RESULT "
GEMEENTE = "0518"
SLOTS_PER_HOUR_PER_DOCTOR = 6  # every 10 minutes
DOCTORS = 4


valid_bsn = synthetic_bsn


def scenario(n: int, today: date, *, prefix: str) -> dict[str, Any]:
    """`n` ziekmeldingen of distinct synthetic people of our gemeente, each with an open LKS period of
    our gemeente (so each is taken over), first sick day three weeks ago (probleemanalyse not yet due)."""
    bsns: list[str] = []
    seen: set[str] = set()
    k = 0
    while len(bsns) < n:
        bsn = valid_bsn(k)
        k += 1
        if bsn not in seen:
            seen.add(bsn)
            bsns.append(bsn)
    signals, lks = [], []
    for i, bsn in enumerate(bsns):
        sick = today - timedelta(days=21 + i % 5)
        signals.append({
            "bericht_id": f"{prefix}-{i + 1:06d}", "volgnummer": i + 1, "soort": "ZIEKMELDING_VANGNETTER",
            "bsn": bsn, "gemeentecode": GEMEENTE, "eerste_ziektedag": sick.isoformat(),
            "datum_einde_dienstverband": (sick + timedelta(days=4)).isoformat(),
            "datum_melding": (sick + timedelta(days=7)).isoformat(), "wettelijke_grondslag": "ZW_38_2",
            "werkgever_loonheffingennummer": "001234567L01",
        })
        lks.append({"bsn": bsn, "begin": (today - timedelta(days=400 + i % 90)).isoformat(), "einde": None,
                    "loonwaarde_pct": 50 + i % 30, "gemeentecode": GEMEENTE})
    return {"vandaag": today.isoformat(), "gemeentecode": GEMEENTE, "lks": lks, "suwinet_wv": {}, "signalen": signals}


def arbodienst_slots(n: int, start: date) -> list[dict[str, Any]]:
    """Enough bedrijfsarts slots for `n` consults (the simulator's default has ~340 in 60 days)."""
    from simulators.arbodienst import ZONE

    slots, day = [], start
    while len(slots) < n + 50:
        if day.weekday() < 5:
            for hour in range(9, 17):
                for step in range(SLOTS_PER_HOUR_PER_DOCTOR):
                    minute = step * (60 // SLOTS_PER_HOUR_PER_DOCTOR)
                    for doctor in range(1, DOCTORS + 1):
                        slots.append({"slot_id": f"SL-{day:%Y%m%d}-{hour:02d}{minute:02d}-{doctor}",
                                      "start": datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZONE),
                                      "bedrijfsarts_id": f"BA-{doctor:03d}"})
        day += timedelta(days=1)
    return slots


@contextmanager
def partners_with_slots(data: dict[str, Any], workdir: Path, database_url: str, n: int):
    """flows.partners.running_partners, with an arbodienst simulator that has slots for `n` consults."""
    import functools

    import flows.partners as partners
    from simulators.arbodienst import ArbodienstSimulator

    original = partners.ArbodienstSimulator
    slots = arbodienst_slots(n, date.fromisoformat(data["vandaag"]) + timedelta(days=1))
    made: list[Any] = []

    def make(**kwargs):
        sim = functools.partial(ArbodienstSimulator, slots=slots)(**kwargs)
        made.append(sim)
        return sim

    partners.ArbodienstSimulator = make
    try:
        with partners.running_partners(data, workdir, database_url=database_url) as running:
            yield running, made[0]
    finally:
        partners.ArbodienstSimulator = original


class _RemoteArbodienst:
    """The out-of-process arbodienst simulator, as far as `outcome` needs it (its admin endpoint)."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url

    def counts(self) -> dict[str, int]:
        import httpx

        return httpx.get(self.admin_url, timeout=10).json()["counts"]


@contextmanager
def partners_own_process(data: dict[str, Any], workdir: Path, database_url: str, n: int):
    """`partners_with_slots`, served by bench/e2e_partners.py in a process of its own; yields
    (the IB endpoint, the arbodienst's counts) with this process's settings pointed at them."""
    import subprocess

    from flows import runtime
    from bench.e2e_partners import MARKER as READY

    spec = workdir / "partners.json"
    spec.write_text(json.dumps({"data": data, "workdir": str(workdir), "database_url": database_url, "n": n}),
                    encoding="utf-8")
    log = open(workdir / "partners.log", "w", encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-m", "bench.e2e_partners", str(spec)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=log, text=True, env=dict(os.environ))
    saved = dict(os.environ)
    try:
        line = proc.stdout.readline()
        if not line.startswith(READY):
            proc.wait(timeout=30)
            raise RuntimeError(f"the partner simulators did not start (exit {proc.returncode}); see {log.name}")
        ready = json.loads(line[len(READY):])
        os.environ.update(ready["env"])
        yield ready["ib_endpoint"], _RemoteArbodienst(ready["arbo_admin"])
    finally:
        runtime.close_all()
        os.environ.clear()
        os.environ.update(saved)
        proc.stdin.close()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@contextmanager
def partners_here(data: dict[str, Any], workdir: Path, database_url: str, n: int):
    """`partners_with_slots` in this process (config `partners: "inline"`), for comparison."""
    with partners_with_slots(data, workdir, database_url, n) as (running, arbo):
        yield running.ib_endpoint, arbo


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def outcome(engine, n: int, arbo) -> dict[str, Any]:
    """Check that every signal has its zaak and a booked consult, and the latency per signal from the
    inbox's received_at (pick-up) to the `consult.booked` audit event (the booking's commit); `drain_s`:
    from the first pick-up to the last booking (the run's wall time without its fixed start and end)."""
    from sqlalchemy import func, select

    import store
    from store.models import AuditEvent, Case, Consult, SignalRow

    with store.session_scope(engine) as session:
        picked = {case_id: _aware(at) for case_id, at in session.execute(
            select(SignalRow.case_id, SignalRow.received_at).where(SignalRow.case_id.is_not(None)))}
        booked = {case_id: _aware(at) for case_id, at in session.execute(
            select(AuditEvent.case_id, AuditEvent.at).where(AuditEvent.action == "consult.booked"))}
        with_zaak = session.scalar(select(func.count()).select_from(Case)
                                   .where(Case.zaak_identificatie.is_not(None)))
        geboekt = session.scalar(select(func.count()).select_from(Consult)
                                 .where(Consult.status == "GEBOEKT"))
        signals = session.scalar(select(func.count()).select_from(SignalRow))
    latencies = sorted((booked[c] - picked[c]).total_seconds() for c in booked if c in picked)
    drain = (max(booked.values()) - min(picked.values())).total_seconds() if booked and picked else None
    counts = arbo.counts()
    return {"signals": signals, "zaken": with_zaak, "consults_booked": geboekt, "arbo_bookings": counts["bookings"],
            "complete": signals == n and with_zaak == n and geboekt == n and counts["bookings"] >= n,
            "drain_s": drain, "latencies": latencies}


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile of sorted values (q in 0..100)."""
    if not values:
        return float("nan")
    rank = max(1, min(len(values), round(q / 100 * len(values) + 0.5)))
    return values[rank - 1]


def run_design(design: str, n: int, workdir: Path, rep: int, config: dict[str, Any]) -> dict[str, Any]:
    import store
    from flows import runtime
    from flows.settings import Settings
    from services.intake import DUTCH_TIME
    from services.lks import import_lks

    run_dir = workdir / f"{design}-{rep}"
    run_dir.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{(run_dir / 'vangnet.db').resolve()}"
    store.upgrade(url)
    today = datetime.now(DUTCH_TIME).date()
    data = scenario(n, today, prefix=f"BENCH{rep}{design[0].upper()}{len(design)}")
    engine = store.make_engine(url)
    import_lks(engine, json.dumps({"lks": data["lks"]}).encode(), filename="bench-lks.json")
    partners = partners_here if config.get("partners") == "inline" else partners_own_process
    with partners(data, run_dir, url, n) as (ib_endpoint, arbo):
        if design.startswith("vangnet"):
            from flows.pipeline import pipeline_flow

            kwargs = {} if design == "vangnet-batched" else {"micro_batch": int(config.get("micro_batch") or 10)}
            started = time.perf_counter()
            counts = pipeline_flow(ib_endpoint=ib_endpoint, **kwargs)
            wall = time.perf_counter() - started
            summary = {k: counts.get(k) for k in ("intake", "takeover", "zaken", "consults")}
        else:
            from bench.naive import naive_flow

            started = time.perf_counter()
            summary = naive_flow(ib_endpoint=ib_endpoint, n=n)
            wall = time.perf_counter() - started
        engine_run = runtime.engine_for(Settings().resolved_database_url)
        result = outcome(engine_run, n, arbo)
    engine.dispose()
    latencies = result.pop("latencies")
    return {"design": design, "rep": rep, "n": n, "wall_s": wall, "signals_per_s": n / wall,
            "p50_s": percentile(latencies, 50), "p95_s": percentile(latencies, 95),
            "max_s": latencies[-1] if latencies else None, "measured": len(latencies), **result,
            "summary": summary}


def _trace_limits() -> None:
    """Profiling aid: print how long each partner slot / pace acquisition takes (stderr)."""
    import contextlib

    from flows import limits

    pace, slot = limits.partner_pace, limits.partner_slot

    def timed_pace(*partners: str) -> None:
        started = time.perf_counter()
        pace(*partners)
        print(f"LIMIT pace {','.join(partners)} {time.perf_counter() - started:.3f}", file=sys.stderr, flush=True)

    @contextlib.contextmanager
    def timed_slot(partner: str):
        started = time.perf_counter()
        with slot(partner):
            print(f"LIMIT slot {partner} {time.perf_counter() - started:.3f}", file=sys.stderr, flush=True)
            yield

    limits.partner_pace, limits.partner_slot = timed_pace, timed_slot

    from prefect.client.orchestration._concurrency_limits.client import ConcurrencyLimitAsyncClient

    increment = ConcurrencyLimitAsyncClient.increment_concurrency_slots

    async def traced(self, names, slots, mode, **kwargs):
        started = time.perf_counter()
        try:
            response = await increment(self, names, slots, mode, **kwargs)
            outcome = response.status_code
            return response
        except Exception as exc:
            response = getattr(exc, "response", None)
            outcome = f"{type(exc).__name__} {getattr(response, 'status_code', '')} " \
                      f"retry-after={response.headers.get('Retry-After') if response is not None else ''}"
            raise
        finally:
            print(f"LIMIT http {names} {mode} {time.perf_counter() - started:.3f} {outcome}", file=sys.stderr,
                  flush=True)

    ConcurrencyLimitAsyncClient.increment_concurrency_slots = traced


def main(argv: list[str]) -> int:
    config = json.loads(argv[1])
    workdir = Path(config["workdir"]).resolve()
    os.environ["VANGNET_HOME"] = str(workdir / "home")  # exports, reports of the flows stay in the workdir
    if config.get("page_size"):
        os.environ["VANGNET_IB_PAGE_SIZE"] = str(config["page_size"])
    if config.get("batch_size"):
        os.environ["VANGNET_BATCH_SIZE"] = str(config["batch_size"])
    from flows.prefect_server import apply_prefect_env
    from flows.settings import Settings

    apply_prefect_env(Settings(home=Path(config["prefect_home"]), prefect_port=int(config["prefect_port"])))
    import prefect  # noqa: F401 - now, with the environment set

    if config.get("trace_limits"):
        _trace_limits()
    designs = config.get("designs") or ["vangnet", "naive"]
    for rep in range(int(config.get("repeats", 1))):
        for design in designs:
            n = int(config["naive_n"] if design == "naive" else config["n"])
            result = run_design(design, n, workdir, rep, config)
            print(MARKER + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
