"""Case 3, invoices: official validation + reconciliation of e-invoices against bare saxonche transforms.

Data (`bench.invoice_data`): N UBL invoices (2,000; quick: 20) made by `simulators.ubl_factory` after the
corpus' `_synthetic/` examples (SI-UBL 2.0 and Peppol BIS 3 hourly invoices, fixed-price traject
instalments, credit notes, 1 % with 500 lines; quick: one), written as files, against orders stored in a
SQLite store together with one earlier approved invoice per order, so reconciliation has real work.

Timed, side by side in every repetition:
- vangnet (what `vangnet invoices check` / `services.invoice_checks.assess` does, one store session):
  read the file, `Validator.validate` (safe lxml parse, UBL 2.1 XSD, the profile's official schematron
  XSLT via Saxon, SVRL → findings), then `assess` (map the UBL, look up the order, case, approved invoices
  and duplicates in the store, reconcile). 1 thread over all files; 2 threads over a fixed subset
  (`einvoicing.validate_files(threads=2)`: validation in worker threads, assess in the caller).
- reference (the issue's "bare saxonche transforms of the same files with the same stylesheets"): one
  `PySaxonProcessor`, the same stylesheet files compiled once with saxonche, and per file Saxon's own
  parse of the file plus `transform_to_string` with each stylesheet of the file's profile (Peppol: two),
  output discarded. No XSD, no SVRL reading, no safe parsing: those are vangnet's work on top.
- vangnet schematron part: the same Validator without the XSD (safe parse → profile → Saxon → SVRL), on
  the subset, against the reference on the same files.
- informative, full runs only: vangnet with a process pool of 2 (each process compiles the rules once).

Ratios: `invoices_vs_saxon` = vangnet 1 thread / reference 1 thread (target >= 0.8), and the same in CPU
time of the measuring thread (`invoices_vs_saxon_cpu`, hardly moved by other load on a shared machine);
`schematron_vs_saxon`; `threads_speedup` (vangnet 2 threads / 1 thread on the same subset) and the same for
the reference; `processes_speedup` (full runs). The sides alternate per file, so background load hits both
alike. A process pool spawns its workers: the program that calls `run` must guard its entry point with
`if __name__ == "__main__":` (spawned children import the parent's main module). Requires the e-invoicing corpus (`einvoicing.default_rules_dir()`); without it the case
reports that in a note and sets no targets.
"""

from __future__ import annotations

import multiprocessing
import statistics
import threading
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.core import BenchContext, CaseResult

CASE, TITLE = "invoices", "Invoices: validation + reconciliation vs bare saxonche transforms"
THREADS = 2
SUBSET_EVERY = 8  # threaded and schematron-only passes run on every 8th file (and every 8th large one)
CHUNK = 25  # the threaded passes alternate vangnet and reference every CHUNK files


def run(ctx: BenchContext) -> CaseResult:
    result = CaseResult(CASE, TITLE)
    from einvoicing import PROFILES, default_rules_dir

    rules = default_rules_dir()
    missing = _missing_rules(rules, PROFILES)
    if missing:
        result.params = {"invoices": 0, "rules_dir": str(rules) if rules else None}
        result.notes.append(f"Skipped: the e-invoicing corpus is absent ({missing}). Put the corpus at "
                            "../shared/corpus/einvoicing or set VANGNET_EINVOICE_RULES_DIR; no targets judged.")
        return result
    assert rules is not None
    n, large = ctx.n(2000, 20), ctx.n(20, 1)
    workdir = ctx.workdir / "invoices"
    workdir.mkdir(parents=True, exist_ok=True)

    from bench.invoice_data import build

    started = time.perf_counter()
    data = build(workdir, invoices=n, large=large, peppol=not ctx.quick)
    build_s = time.perf_counter() - started
    files = data.files
    plan = _stylesheets_per_file(files)
    subset = _subset(files, every=1 if ctx.quick else SUBSET_EVERY)
    bench = _Sides(rules, data, plan)
    try:
        _measure(ctx, result, bench, data, plan, subset, build_s)
    finally:
        bench.close()
    return result


def _measure(ctx: BenchContext, result: CaseResult, bench: _Sides, data: Any, plan: dict[Path, tuple[str, ...]],
             subset: list[Path], build_s: float) -> None:
    files = data.files
    bench.warm_up()
    result.params = {
        "invoices": len(files), "large_500_line": data.large, "lines": data.lines,
        "megabytes": round(data.bytes / 1e6, 1), "mix": dict(sorted(data.kinds.items())), "orders": data.orders,
        "earlier_invoices_in_store": data.seeded, "subset_for_threads": len(subset), "threads": THREADS,
        "repeats": ctx.repeats, "build_s": round(build_s, 1),
        "compile_s": {"vangnet": round(bench.compile_s, 2), "reference": round(bench.ref.compile_s, 2)},
    }
    m = result.measure
    split: dict[str, list[float]] = {"validate": [], "assess": [], "reference": []}
    verdicts: Counter = Counter()
    for rep in range(ctx.repeats):
        serial = bench.serial_interleaved(set(subset), rep)
        verdicts = serial.verdicts
        m("vangnet_1t", "invoices/s").add(len(files) / (serial.validate + serial.assess))
        m("reference_1t", "invoices/s").add(len(files) / serial.reference)
        m("vangnet_1t_subset", "invoices/s").add(len(subset) / serial.subset_vangnet)
        m("reference_1t_subset", "invoices/s").add(len(subset) / serial.subset_reference)
        m("vangnet_schematron_1t", "invoices/s").add(len(subset) / serial.subset_schematron)
        m("vangnet_1t_cpu", "invoices/CPU-s").add(len(files) / serial.cpu_vangnet)
        m("reference_1t_cpu", "invoices/CPU-s").add(len(files) / serial.cpu_reference)
        split["validate"].append(serial.validate / len(files))
        split["assess"].append(serial.assess / len(files))
        split["reference"].append(serial.reference / len(files))
        vangnet_s, reference_s = bench.threads_alternating(subset, THREADS, rep)
        m(f"vangnet_{THREADS}t", "invoices/s").add(len(subset) / vangnet_s)
        m(f"reference_{THREADS}t", "invoices/s").add(len(subset) / reference_s)
        if rep == 0 and not ctx.quick:
            seconds = bench.vangnet_processes(subset, THREADS)
            if seconds is not None:
                m(f"vangnet_{THREADS}proc", "invoices/s").add(len(subset) / seconds)
            else:
                result.notes.append(f"The process-pool measurement (informative) failed: {bench.process_error}")
    result.params["verdicts"] = dict(sorted(verdicts.items()))
    result.ratio("invoices_vs_saxon", "vangnet_1t", "reference_1t")
    result.ratio("schematron_vs_saxon", "vangnet_schematron_1t", "reference_1t_subset")
    result.ratio("invoices_vs_saxon_cpu", "vangnet_1t_cpu", "reference_1t_cpu")
    result.ratio(f"invoices_vs_saxon_{THREADS}t", f"vangnet_{THREADS}t", f"reference_{THREADS}t")
    result.ratio("threads_speedup", f"vangnet_{THREADS}t", "vangnet_1t_subset")
    result.ratio("reference_threads_speedup", f"reference_{THREADS}t", "reference_1t_subset")
    if f"vangnet_{THREADS}proc" in result.measurements:
        result.ratio("processes_speedup", f"vangnet_{THREADS}proc", "vangnet_1t_subset")
    result.target("invoices_vs_saxon", "ge", 0.8,
                  "vangnet validation + reconciliation >= 0.8 x bare saxonche transforms (1 thread)")
    result.notes += _notes(result, split)


@dataclass
class _Serial:
    """Seconds of one interleaved single-thread pass."""

    validate: float = 0.0
    assess: float = 0.0
    reference: float = 0.0
    subset_vangnet: float = 0.0
    subset_reference: float = 0.0
    subset_schematron: float = 0.0
    cpu_vangnet: float = 0.0  # CPU seconds of this thread (time.thread_time), insensitive to other load
    cpu_reference: float = 0.0
    verdicts: Counter = field(default_factory=Counter)


# -- the two sides ---------------------------------------------------------------------------------

class _Sides:
    """vangnet and the reference, each with its rules compiled once before anything is timed."""

    def __init__(self, rules: Path, data: Any, plan: dict[Path, tuple[str, ...]]) -> None:
        from einvoicing import DOCUMENT_TYPES, DocumentType, Validator
        from flows.runtime import DEMO_CONTRACTS

        self.rules, self.data, self.plan = rules, data, plan
        self.contracts_dir = DEMO_CONTRACTS
        self.validator = Validator(rules)
        # The schematron part alone: the same validator with no XSD for any document type.
        self.schematron = Validator(rules, document_types=[
            DocumentType(t.name, t.namespace, t.syntax, None) for t in DOCUMENT_TYPES])
        self.ref = _BareSaxon(rules, sorted({s for ss in plan.values() for s in ss}))
        self.compile_s = 0.0
        self.process_error: str | None = None

    def warm_up(self) -> None:
        """Compile what vangnet uses (the reference compiled in its constructor) and run each stylesheet
        once on both sides: first runs are slower."""
        first: dict[tuple[str, ...], Path] = {}
        for path, stylesheets in self.plan.items():
            first.setdefault(stylesheets, path)
        started = time.perf_counter()
        for path in first.values():
            self.validator.validate(path.read_bytes())  # compiles the profile's stylesheets and the XSD
        self.compile_s = time.perf_counter() - started
        for path in first.values():
            self.schematron.validate(path.read_bytes())
            self.ref.transform(path, self.plan[path])

    def serial_interleaved(self, subset: set[Path], rep: int) -> _Serial:
        """One thread: per file the reference, vangnet (validate + assess, one store session for the whole
        pass, as `vangnet invoices check`) and, for subset files, vangnet's schematron part, in an order
        that rotates per file, so background load on a shared machine hits every side alike."""
        import store
        from services.invoice_checks import assess

        out = _Serial()
        clock, cpu = time.perf_counter, time.thread_time
        validator, contracts, ref = self.validator, self.data.contracts, self.ref
        with store.session_scope(self.data.engine) as session:
            for i, path in enumerate(self.data.files):
                sides = ["reference", "vangnet", "schematron"] if path in subset else ["reference", "vangnet"]
                k = (i + rep) % len(sides)
                for side in sides[k:] + sides[:k]:
                    c0, t0 = cpu(), clock()
                    if side == "reference":
                        ref.transform(path, self.plan[path])
                        out.reference += (spent := clock() - t0)
                        out.cpu_reference += cpu() - c0
                        if path in subset:
                            out.subset_reference += spent
                    elif side == "vangnet":
                        validation = validator.validate(path.read_bytes(), name=path.name)
                        t1 = clock()
                        out.verdicts[assess(session, validation, contracts).verdict.value] += 1
                        t2 = clock()
                        out.cpu_vangnet += cpu() - c0
                        out.validate += t1 - t0
                        out.assess += t2 - t1
                        if path in subset:
                            out.subset_vangnet += t2 - t0
                    else:
                        self.schematron.validate(path.read_bytes(), name=path.name)
                        out.subset_schematron += clock() - t0
            session.rollback()  # read-only, as the CLI
        return out

    def threads_alternating(self, paths: Sequence[Path], threads: int, rep: int) -> tuple[float, float]:
        """(vangnet s, reference s) for `paths` with `threads` threads, run in alternating chunks."""
        vangnet = reference = 0.0
        chunks = [paths[i:i + CHUNK] for i in range(0, len(paths), CHUNK)]
        for i, chunk in enumerate(chunks):
            for side in (("v", "r") if (i + rep) % 2 == 0 else ("r", "v")):
                if side == "v":
                    vangnet += self.vangnet_threads(chunk, threads)
                else:
                    reference += self.reference_threads(chunk, threads)
        return vangnet, reference

    def vangnet_threads(self, paths: Sequence[Path], threads: int) -> float:
        """Seconds for `paths`: validation in `threads` worker threads, assess in this thread."""
        import store
        from einvoicing import validate_files
        from services.invoice_checks import assess

        started = time.perf_counter()
        with store.session_scope(self.data.engine) as session:
            for _, validation in validate_files(self.validator, paths, threads=threads):
                assess(session, validation, self.data.contracts)
            session.rollback()
        return time.perf_counter() - started

    def reference_threads(self, paths: Sequence[Path], threads: int) -> float:
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=threads) as pool:
            for _ in pool.map(lambda p: self.ref.transform(p, self.plan[p]), paths):
                pass
        return time.perf_counter() - started

    def vangnet_processes(self, paths: Sequence[Path], workers: int) -> float | None:
        """Seconds for `paths` with a pool of `workers` processes (spawned; each compiles its rules once
        and does an untimed warm-up pass first), each doing validate + assess with its own read-only store
        connection."""
        ctx = multiprocessing.get_context("spawn")
        ready = ctx.Barrier(workers)
        try:
            with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_worker_init,
                                     initargs=(str(self.rules), str(self.data.db_path), str(self.contracts_dir),
                                               ready)) as pool:
                # One task per worker, each waiting at the barrier: returns once every worker has compiled.
                list(pool.map(_worker_ready, range(workers)))
                # A fresh process's first transforms are slow (about half speed over the first ~200 files
                # here); the single-process side is long past that, so warm the workers up untimed.
                names = [str(p) for p in paths]
                list(pool.map(_worker_check, names, chunksize=8))
                started = time.perf_counter()
                list(pool.map(_worker_check, names, chunksize=8))
                return time.perf_counter() - started
        except Exception as exc:  # noqa: BLE001 - informative only: reported in a note, never fails the case
            self.process_error = f"{type(exc).__name__}: {exc}"
            return None

    def close(self) -> None:
        self.data.engine.dispose()


class _BareSaxon:
    """The reference: saxonche alone, the same stylesheet files, compiled once; one clone per thread."""

    def __init__(self, rules: Path, stylesheets: Sequence[str]) -> None:
        import saxonche

        started = time.perf_counter()
        self.processor = saxonche.PySaxonProcessor(license=False)
        xslt = self.processor.new_xslt30_processor()
        self.compiled = {s: xslt.compile_stylesheet(stylesheet_file=str(rules / s)) for s in stylesheets}
        self.compile_s = time.perf_counter() - started
        self._local = threading.local()

    def transform(self, path: Path, stylesheets: Sequence[str]) -> None:
        clones = self._local.__dict__.setdefault("clones", {})
        node = self.processor.parse_xml(xml_file_name=str(path))
        for s in stylesheets:
            executable = clones.get(s)
            if executable is None:
                executable = clones[s] = self.compiled[s].clone()
            executable.transform_to_string(xdm_node=node)


# -- process pool workers (module level: spawned processes import them) -----------------------------

_WORKER: dict[str, Any] = {}


def _worker_init(rules: str, db_path: str, contracts_dir: str, ready: Any) -> None:
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from einvoicing import Validator
    from mappings.provider_contract import load_contracts

    validator = Validator(Path(rules))
    validator.warm_up()
    # A read-only connection with SQLite's own (deferred) transactions: `store.make_engine` begins every
    # transaction with BEGIN IMMEDIATE (the write lock), which would serialise the workers' reads here.
    engine = create_engine(f"sqlite:///file:{db_path}?mode=ro&uri=true")
    _WORKER.update(validator=validator, session=Session(engine), contracts=load_contracts(Path(contracts_dir)),
                   ready=ready)


def _worker_ready(_: int) -> bool:
    _WORKER["ready"].wait(timeout=300)
    return "validator" in _WORKER


def _worker_check(path: str) -> str:
    from services.invoice_checks import assess

    validation = _WORKER["validator"].validate(Path(path).read_bytes(), name=path)
    return assess(_WORKER["session"], validation, _WORKER["contracts"]).verdict.value


# -- helpers ---------------------------------------------------------------------------------------

def _missing_rules(rules: Path | None, profiles: Sequence[Any]) -> str | None:
    if rules is None:
        return "einvoicing.default_rules_dir() is None"
    if not rules.is_dir():
        return f"{rules} does not exist"
    needed = [s for p in profiles if p.name in ("SI-UBL-2.0", "PEPPOL-BIS-3") for s in p.stylesheets]
    absent = [s for s in needed if not (rules / s).is_file()]
    return f"missing in {rules}: {', '.join(absent)}" if absent else None


def _stylesheets_per_file(files: Sequence[Path]) -> dict[Path, tuple[str, ...]]:
    """Each file's stylesheets (relative paths), chosen by its CustomizationID as the Validator does;
    worked out before anything is timed, so the reference only transforms."""
    from einvoicing.profiles import customization_id, document_type, find_profile
    from mappings.safe_xml import parse_xml

    plan = {}
    for path in files:
        root = parse_xml(path.read_bytes(), max_bytes=50 * 1024 * 1024)
        doc_type = document_type(root)
        profile = find_profile(customization_id(root, doc_type) or "", doc_type.name) if doc_type else None
        if profile is None:
            raise RuntimeError(f"{path.name}: the generator made a document without a known profile")
        plan[path] = profile.stylesheets
    return plan


def _subset(files: Sequence[Path], *, every: int) -> list[Path]:
    """Every `every`-th file, taken separately from the large and the other files so the subset has the
    same mix (at least one large file when there is one), in file order."""
    big = [p for p in files if p.stat().st_size > 200_000]
    small = [p for p in files if p.stat().st_size <= 200_000]
    chosen = set(big[::every]) | set(small[::every])
    return [p for p in files if p in chosen]


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _notes(result: CaseResult, split: dict[str, list[float]]) -> list[str]:
    ms = {k: _median(v) * 1000 for k, v in split.items()}
    ratio = result.ratios["invoices_vs_saxon"].summary()["median"]
    cpu = result.ratios["invoices_vs_saxon_cpu"].summary()["median"]
    threads = result.ratios["threads_speedup"].summary()["median"]
    ref_threads = result.ratios["reference_threads_speedup"].summary()["median"]
    notes = [
        "Reference = bare saxonche: one PySaxonProcessor, the same stylesheet files compiled once, per file "
        "Saxon's own parse of the file + transform_to_string with each stylesheet of its profile (Peppol: 2); "
        "no XSD, no safe parse, no SVRL reading. vangnet = Validator.validate (safe lxml parse, UBL 2.1 XSD, "
        "the same XSLT via Saxon, SVRL -> findings) + services.invoice_checks.assess (mapping, store look-ups, "
        "reconciliation), one store session, as `vangnet invoices check`. The sides alternate per file (threaded "
        "passes: per 25 files), so load from other processes hits both alike; *_cpu counts each side's CPU time "
        "on its own thread (time.thread_time), which other load hardly moves.",
        f"Per invoice (medians): vangnet validation {ms['validate']:.2f} ms + reconciliation {ms['assess']:.2f} ms "
        f"vs reference {ms['reference']:.2f} ms: vangnet's own work on top of the transforms is "
        f"{ms['validate'] + ms['assess'] - ms['reference']:.2f} ms per invoice "
        f"({ms['validate'] - ms['reference']:.2f} in validation, {ms['assess']:.2f} in reconciliation).",
        f"Threads: 2 threads give vangnet x{threads:.2f} and bare Saxon x{ref_threads:.2f}: saxonche holds the "
        "GIL for most of a transform (in isolation a pure-Python thread ran at 9-34 % of its speed next to a "
        "transform, and 2 threads of bare Saxon gained x1.15-1.24), so threads overlap little beyond lxml "
        "(parse, XSD) and the reconciliation of earlier results. To use more cores, use processes (one Validator each, compiling "
        "the rules once): processes_speedup, measured in full runs only, after an untimed warm-up pass "
        "(a fresh process's first transforms run at about half speed); it nears 2 on an otherwise idle 2-core "
        "machine, less when other processes share it.",
        "Profile-guided fixes (pyinstrument/cProfile; development measurements on this 2-core machine with "
        "400 invoices, 3 interleaved repetitions, before -> after): invoices_vs_saxon 0.61 (0.58-0.64) -> "
        "0.70 (0.69-0.74), CPU ratio 0.61 -> 0.73, reconciliation 4.4 -> 2.7 ms per invoice. (1) assess ran "
        "5-6 ORM queries per invoice, each built anew (building and hashing a select cost ~5x running it): now "
        "3 prebuilt ones (order + case closing date in one join; both duplicate checks in one SELECT of two "
        "indexed subqueries; only the 3 columns the budget needs). (2) UBL mapping spent most of its time in "
        "lxml's ElementPath for ~15 look-ups per line: children are now indexed once per element (500-line "
        "invoice ~2x faster to map). (3) the SVRL of a report with no failed assert and no successful report "
        "is no longer parsed (0.75 MB for the 500-line invoice); the rules' paths are resolved once, not with "
        "~20 lstat calls per document. Results checked identical: every corpus document validated and mapped "
        "(938), every benchmark invoice assessed.",
    ]
    if ratio < 0.8:
        notes.append(
            f"invoices_vs_saxon {ratio:.2f} < 0.8 (CPU ratio {cpu:.2f}: it is work, not noise). What limits it is "
            "work the reference does not do and vangnet must: the safe lxml parse and the UBL 2.1 XSD (vangnet "
            "runs both XSD and schematron: they catch different errors), reading the SVRL of invoices with "
            "findings, mapping the UBL to the domain, 3 indexed store queries and the reconciliation rules, plus "
            "Python's cyclic GC (a full collection of this process costs ~50 ms and comes every ~200 invoices, "
            "~0.3-0.5 ms per invoice) - against only ~5-10 ms of Saxon per typical invoice. Left on the table: "
            "batching the store look-ups across invoices (the service checks one invoice at a time, and within "
            "a batch each stored invoice changes what the next one is checked against) and gc.freeze() after "
            "start-up in the worker processes.")
    return notes
