"""Case 2, end to end: signals pulled from the IB simulator (mutual TLS, 2W-be-S signatures), taken over
after a Suwinet lookup, a zaak at the ZGW simulator, an arbodienst order, a consult booked at the
arbodienst simulator, through the real pipeline flow on a private local Prefect server.

Per repetition, side by side, each with fresh simulators and a fresh SQLite store:
- vangnet: `pipeline_flow(micro_batch=K)`: IB pages of K signals through the chain one by one;
- the reference: bench/naive.py, one Prefect task per signal per step, on a smaller N.
In a full run the stage-by-stage pipeline (the default mode) is measured once as well, for context.

Measured: signals/s (N / wall time of the flow run) and, per signal, the time from pick-up (the inbox
message's received_at) to the booked consult (the `consult.booked` audit event): p50 and p95. For
context, each design's drain rate: N / the time from the first pick-up to the last booking (the flow
run without its fixed start and end: flow-run creation, clients, slots, leftovers of earlier runs, and
vangnet's safety net, invoice and deadline subflows).

The simulators run in a process of their own (bench/e2e_partners.py), the same for both designs.

The work runs in a child process (bench/e2e_child.py) that points Prefect at the private server before
importing it: the harness process may have imported prefect already.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.core import BenchContext, CaseResult

REPO = Path(__file__).resolve().parent.parent
MICRO_BATCH = 20
MARKER = "E2E-RESULT "


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _child_env() -> dict[str, str]:
    """The harness's environment without its Prefect and vangnet settings (the child sets its own)."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "VANGNET_"))}


def _run_child(config: dict, log: Path, timeout: float) -> list[dict]:
    with open(log, "w", encoding="utf-8") as err:
        done = subprocess.run([sys.executable, "-m", "bench.e2e_child", json.dumps(config)], cwd=REPO,
                              env=_child_env(), stdout=subprocess.PIPE, stderr=err, text=True, timeout=timeout)
    rows = [json.loads(line[len(MARKER):]) for line in done.stdout.splitlines() if line.startswith(MARKER)]
    if done.returncode != 0:
        tail = log.read_text(encoding="utf-8", errors="replace")[-3000:]
        raise RuntimeError(f"the e2e child failed (exit {done.returncode}); end of {log}:\n{tail}")
    incomplete = [r for r in rows if not r["complete"]]
    if incomplete:
        raise RuntimeError("not every signal got its zaak and a booked consult: " + json.dumps(
            [{k: r[k] for k in ("design", "rep", "n", "signals", "zaken", "consults_booked", "arbo_bookings")}
             for r in incomplete]))
    return rows


def run(ctx: BenchContext) -> CaseResult:
    n, naive_n = ctx.n(150, 10), ctx.n(15, 4)
    repeats = 1 if ctx.quick else ctx.repeats
    result = CaseResult(
        case="e2e", title="End to end: IB → takeover → zaak → consult through the Prefect flows",
        params={"n": n, "naive_n": naive_n, "repeats": repeats, "micro_batch": MICRO_BATCH,
                "partners": "IB + Suwinet (mutual TLS, 2W-be-S), ZGW, arbodienst simulators in a process of "
                            "their own (bench/e2e_partners.py)",
                "store": "SQLite (fresh per run)", "prefect": "local server, SQLite"})
    from flows.prefect_server import ensure_server, stop_server
    from flows.settings import Settings

    workdir = (ctx.workdir / "e2e").resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    server = Settings(home=workdir / "prefect-server", prefect_port=_free_port())
    started = time.perf_counter()
    ensure_server(server)
    result.params["prefect_server_start_s"] = round(time.perf_counter() - started, 1)
    try:
        designs = ["vangnet", "naive"]
        config = {"workdir": str(workdir / "runs"), "prefect_home": str(server.home),
                  "prefect_port": server.prefect_port, "n": n, "naive_n": naive_n, "micro_batch": MICRO_BATCH,
                  "repeats": repeats, "designs": designs}
        rows = _run_child(config, workdir / "child.log", timeout=60 + repeats * (3 * n + 5 * naive_n + 60))
        if not ctx.quick:  # context: the default stage-by-stage mode, once
            rows += _run_child({**config, "repeats": 1, "designs": ["vangnet-batched"]},
                               workdir / "child-batched.log", timeout=60 + 3 * n)
    finally:
        stop_server(server)

    for rep in range(repeats):
        mine = {r["design"]: r for r in rows if r["rep"] == rep and r["design"] in designs}
        result.measure("vangnet_signals_per_s", "signals/s").add(mine["vangnet"]["signals_per_s"])
        result.measure("naive_signals_per_s", "signals/s").add(mine["naive"]["signals_per_s"])
        result.measure("latency_p50_s", "s").add(mine["vangnet"]["p50_s"])
        result.measure("latency_p95_s", "s").add(mine["vangnet"]["p95_s"])
        result.measure("vangnet_drain_signals_per_s", "signals/s").add(n / mine["vangnet"]["drain_s"])
        result.measure("naive_drain_signals_per_s", "signals/s").add(naive_n / mine["naive"]["drain_s"])
    batched = [r for r in rows if r["design"] == "vangnet-batched"]
    for r in batched:
        result.measure("batched_signals_per_s", "signals/s").add(r["signals_per_s"])
        result.measure("batched_latency_p95_s", "s").add(r["p95_s"])
    result.ratio("e2e_vs_naive", "vangnet_signals_per_s", "naive_signals_per_s")
    result.target("e2e_vs_naive", "ge", 100, "vangnet end to end >= 100x the naive one-task-per-signal design")
    result.target("latency_p95_s", "lt", 3, "p95 from pick-up to booked consult < 3 s")
    result.notes += _notes(result, batched, n)
    return result


def _notes(result: CaseResult, batched: list[dict], n: int) -> list[str]:
    """What limits the targets, in this run's own numbers."""
    med = {name: statistics.median(m.values) for name, m in result.measurements.items() if m.values}
    ratio = statistics.median(result.ratios["e2e_vs_naive"].values)
    ms_vangnet, ms_naive = 1000 / med["vangnet_signals_per_s"], 1000 / med["naive_signals_per_s"]
    ms_drain = 1000 / med["vangnet_drain_signals_per_s"]
    fixed_s = n * (ms_vangnet - ms_drain) / 1000
    drain_ratio = med["vangnet_drain_signals_per_s"] / med["naive_drain_signals_per_s"]
    notes = [
        f"vangnet spends {ms_vangnet:.0f} ms of wall time per signal, the naive design {ms_naive:.0f} ms "
        f"(ratio {ratio:.1f}x). Of vangnet's, {ms_drain:.0f} ms is the drain itself (first pick-up to last "
        f"booking: {med['vangnet_drain_signals_per_s']:.1f} signals/s) and the rest, {fixed_s:.1f} s per run, "
        "is the run's fixed start and end (flow run, clients, partner slots, leftovers as page 0, then the "
        "safety net, invoice and deadline subflows at ~1 s each), which a larger N spreads thinner. Drain "
        f"against drain (the naive design's: {med['naive_drain_signals_per_s']:.1f} signals/s at N="
        f"{result.params['naive_n']}), vangnet is {drain_ratio:.1f}x.",
        f"Why not 100x: a 100x ratio would need {ms_naive / 100:.1f} ms of wall time per signal. Both designs "
        "make the same calls per signal, a signed Suwinet SOAP lookup (takeover), three ZGW requests (zaak, "
        "status, rol) and an arbodienst booking, each with its own store transactions (outbox, audit); "
        f"vangnet's {ms_drain:.0f} ms per signal in the drain is that work (profile: SQLAlchemy unit of work "
        "and commits, WS-Security signing, httpx/TLS, Prefect task and event overhead per page) on a machine "
        "shared with the Prefect server and the simulators. Orchestration removes the naive design's six "
        "task runs per signal; it cannot remove the per-record partner calls and transactions, so the "
        "target is not reachable against synchronous per-record APIs.",
    ]
    if batched:
        b = batched[0]
        notes.append(
            f"The default stage-by-stage pipeline ran once at N={n}: {b['signals_per_s']:.2f} signals/s, "
            f"p95 {b['p95_s']:.1f} s (p50 {b['p50_s']:.1f} s): every signal waits for the whole backlog to pass "
            "each stage, so its latency grows with N. The micro-batch mode "
            f"(pipeline_flow(micro_batch={MICRO_BATCH})) bounds it by the work of one page of {MICRO_BATCH} "
            "signals, at the cost of per-page overhead (tasks, IB page and acknowledgement round trips)"
            + (f"; here it drained faster all the same ({med['vangnet_signals_per_s']:.2f} signals/s)."
               if med["vangnet_signals_per_s"] >= b["signals_per_s"] else "."))
    if med["latency_p95_s"] >= 3:
        notes.append(f"p95 latency {med['latency_p95_s']:.2f} s misses 3 s: one page of {MICRO_BATCH} signals "
                     "takes longer than 3 s on this machine (per-signal partner calls and store writes).")
    notes.append("Latency is measured from the pick-up (the inbox message's received_at, when its IB page was "
                 "pulled) to the booking's audit event; in micro-batch mode the rest of a backlog waits at IB, "
                 "not picked up yet, so the throughput above is what bounds how fast a backlog drains.")
    return notes
