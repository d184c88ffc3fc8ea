"""The pseudonymised research export: one CSV row per case (rules.research), plus the data dictionary.

Files written into the output folder:
- `onderzoek-<YYYY-MM-DD>.csv`: UTF-8, comma-separated with the csv module's quoting (RFC 4180), header
  row = `rules.research.COLUMN_NAMES`. A comma, not the semicolon Dutch Excel prefers, because the
  readers are statistics tools (R, SPSS, Python) and the `instrumenten` column already uses ";";
- `onderzoek-datadictionary.csv` and `onderzoek-datadictionary.md`: every column's type, meaning and values.

Cases are read in batches ordered by id, one short transaction per batch, and rows are written as they
come, so memory stays flat however many cases there are. (Batches are separate transactions: a case
changing during the export shows its state at the moment its batch was read.) Anonymised cases
(retention) are left out: their BSN is gone, so they have no pseudonym to follow.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

import store
from rules.research import (
    COLUMN_NAMES,
    COLUMNS,
    ResearchFacts,
    StepFacts,
    check_key,
    dictionary_markdown,
    research_row,
)
from services.decisions import takeover_dates
from store.consults import ConsultStatus
from store.invoices import APPROVED
from store.models import (
    Case,
    CaseInstrument,
    Consult,
    Invoice,
    LadderEntry,
    Order,
    PlanVanAanpak,
    RivDocument,
    WvpStep,
)

DICTIONARY_NAME = "onderzoek-datadictionary"
_HELD = (ConsultStatus.GEHOUDEN.value, ConsultStatus.AFGEROND.value)


class ResearchKeyError(ValueError):
    """No usable research key is configured; the message says what to set. `kind` is "missing",
    "unreadable" (the key file) or "short"."""

    def __init__(self, message: str, *, kind: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class ExportResult:
    """What was written: row count and file paths (never a pseudonym)."""

    rows: int
    csv_path: Path
    dictionary_csv: Path
    dictionary_md: Path


def load_key(key: str | None, key_file: Path | None) -> bytes:
    """The research key from its configured value or file (stripped); ResearchKeyError when none or too short.

    There is deliberately no default key: a known key would make every pseudonym reversible."""
    if key:
        raw = key.strip().encode("utf-8")
    elif key_file is not None:
        try:
            raw = Path(key_file).read_text(encoding="utf-8").strip().encode("utf-8")
        except OSError as exc:
            raise ResearchKeyError(f"het sleutelbestand {key_file} is niet te lezen ({type(exc).__name__})",
                                   kind="unreadable") from None
    else:
        raise ResearchKeyError("er is geen onderzoekssleutel ingesteld: zet VANGNET_RESEARCH_KEY of "
                               "VANGNET_RESEARCH_KEY_FILE", kind="missing")
    try:
        return check_key(raw)
    except ValueError as exc:
        raise ResearchKeyError(str(exc), kind="short") from None


def research_facts(engine: Engine, *, batch_size: int) -> Iterator[ResearchFacts]:
    """The facts of every case that still has its BSN, by id, read `batch_size` cases per transaction."""
    after_id = 0
    while True:
        with store.session_scope(engine) as session:
            cases = list(session.scalars(select(Case).where(Case.anonymised_on.is_(None), Case.id > after_id)
                                         .order_by(Case.id).limit(batch_size)))
            batch = _facts(session, cases)
        yield from batch
        if len(cases) < batch_size:
            return
        after_id = cases[-1].id


def export_research(engine: Engine, out_dir: Path, *, key: bytes, today: date, batch_size: int = 500) -> ExportResult:
    """Write the research CSV for `today` and the data dictionary into `out_dir` (created when missing)."""
    check_key(key)
    out_dir.mkdir(parents=True, exist_ok=True)
    csv_path = out_dir / f"onderzoek-{today.isoformat()}.csv"
    rows = 0
    tmp = csv_path.with_suffix(".csv.part")
    with tmp.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMN_NAMES)
        writer.writeheader()
        for facts in research_facts(engine, batch_size=batch_size):
            writer.writerow(research_row(facts, key=key, today=today))
            rows += 1
    tmp.replace(csv_path)  # a reader never sees half an export
    dictionary_csv = out_dir / f"{DICTIONARY_NAME}.csv"
    with dictionary_csv.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["kolom", "type", "omschrijving", "waarden"])
        writer.writerows([c.name, c.type, c.description, c.values] for c in COLUMNS)
    dictionary_md = out_dir / f"{DICTIONARY_NAME}.md"
    dictionary_md.write_text(dictionary_markdown(), encoding="utf-8")
    return ExportResult(rows=rows, csv_path=csv_path, dictionary_csv=dictionary_csv, dictionary_md=dictionary_md)


def _facts(session: Session, cases: list[Case]) -> list[ResearchFacts]:
    """One query per kind for the whole batch (never one per case)."""
    ids = [c.id for c in cases]
    if not ids:
        return []
    steps: dict[int, list[StepFacts]] = defaultdict(list)
    for s in session.scalars(select(WvpStep).where(WvpStep.case_id.in_(ids))):
        steps[s.case_id].append(StepFacts(s.stap, s.datum, s.done_on, s.gemeente_verantwoordelijk))
    treden: dict[int, list[int]] = defaultdict(list)
    for case_id, trede in session.execute(select(LadderEntry.case_id, LadderEntry.trede).where(
            LadderEntry.case_id.in_(ids)).order_by(LadderEntry.since, LadderEntry.id)):
        treden[case_id].append(trede)
    instruments: dict[int, list[str]] = defaultdict(list)
    for case_id, name in session.execute(select(CaseInstrument.case_id, CaseInstrument.instrument).where(
            CaseInstrument.case_id.in_(ids))):
        instruments[case_id].append(name)
    held, no_shows = defaultdict(int), defaultdict(int)
    for case_id, status, n in session.execute(select(Consult.case_id, Consult.status, func.count()).where(
            Consult.case_id.in_(ids)).group_by(Consult.case_id, Consult.status)):
        if status in _HELD:
            held[case_id] += n
        elif status == ConsultStatus.NO_SHOW.value:
            no_shows[case_id] += n
    plans = dict(session.execute(select(PlanVanAanpak.case_id, func.count()).where(
        PlanVanAanpak.case_id.in_(ids)).group_by(PlanVanAanpak.case_id)).all())
    riv_complete = {r.case_id for r in session.scalars(select(RivDocument).where(
        RivDocument.case_id.in_(ids), RivDocument.final.is_(True))) if not r.gaps}
    costs: dict[int, Decimal] = defaultdict(Decimal)
    for case_id, inv in session.execute(select(Order.case_id, Invoice).join(Invoice, Invoice.order_id == Order.id)
                                        .where(Order.case_id.in_(ids), Invoice.verdict == APPROVED)):
        costs[case_id] += _approved_excl_vat(inv)
    overname = takeover_dates(session, ids)
    return [ResearchFacts(
        gemeentecode=c.gemeentecode, bsn=c.bsn, datum_ontvangst=c.datum_ontvangst, status=c.status.value,
        eerste_ziektedag=c.eerste_ziektedag, overname_op=overname.get(c.id), closed_on=c.closed_on,
        besluit=c.besluit.value if c.besluit else None, treden=tuple(treden[c.id]),
        instrumenten=tuple(instruments[c.id]), consulten_gehouden=held[c.id], no_shows=no_shows[c.id],
        steps=tuple(steps[c.id]), plan_versies=plans.get(c.id, 0), riv_compleet=c.id in riv_complete,
        kosten_goedgekeurd=costs[c.id]) for c in cases]


def _approved_excl_vat(inv: Invoice) -> Decimal:
    """What counts for an approved invoice: the partial amount when a clerk set one, else the billed amount
    (negative for a credit note), as the finance export books it."""
    if inv.approved_amount is None:
        return inv.billed_amount
    return -inv.approved_amount if inv.billed_amount < 0 else inv.approved_amount
