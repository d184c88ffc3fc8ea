"""The re-integratieverslag (RIV) of a case: assemble it from the store, render it, record each version.

`generate_riv` writes FILE.html and FILE.pdf and records a `RivDocument` (sha256 of the HTML, the letters
of the missing parts, final or not) with an audit event (version, gap letters, final; no personal data).
A final RIV is refused while parts are missing; once accepted it marks the WVP step `riv` done.

`prepare_due_rivs` is the week-91 task: the open cases whose RIV is due within the lead time (or
overdue) and not done, assembled in batches; a draft version is recorded only when the gaps changed
since the last version, so running it daily records nothing new until something changes.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

import store
from documents.riv_html import render_html
from documents.riv_pdf import render_pdf
from rules.riv import CaseFacts, EntryFact, Riv, RivFacts, StepFact, assemble_riv
from schemas.case import CaseStatus, Stap
from schemas.dossier import EntryKind
from services.dossier import plan_history
from store.dossier import add_riv_document, entries_of, instruments_of, ladder_history, riv_documents
from store.models import Case, Consult, ConsultAdvice, SignalRow, WvpStep

SUFFIXES = (".html", ".pdf")


class RivError(ValueError):
    """The RIV can't be made or recorded; the message says why and what to do."""


@dataclass(frozen=True)
class RivResult:
    """A generated RIV: where it was written, its recorded version and what is missing."""

    case_ref: str
    version: int
    final: bool
    sha256: str
    html_path: Path
    pdf_path: Path
    riv: Riv


@dataclass(frozen=True)
class DueRiv:
    """A case whose RIV is due soon or overdue (case reference only: no personal data)."""

    case_ref: str
    due: date
    days_left: int
    """Days until the due date; negative when overdue."""
    gaps: tuple[str, ...]
    version: int
    """The latest recorded version."""
    recorded: bool
    """True when this run recorded a new draft version (the gaps changed)."""


@dataclass(frozen=True)
class DueRivBatch:
    items: list[DueRiv]
    last_id: int
    """The last case id of this batch: pass it as `after_id` for the next one."""


def output_paths(out: Path) -> tuple[Path, Path]:
    """FILE.html and FILE.pdf for `--out FILE`; a FILE ending in .html or .pdf gives its stem to both."""
    stem = out.with_suffix("") if out.suffix.lower() in SUFFIXES else out
    return Path(f"{stem}.html"), Path(f"{stem}.pdf")


def _case(session: Session, case_ref: str) -> Case:
    case = store.get_case(session, case_ref)
    if case is None:
        raise RivError(f"er is geen zaak {case_ref!r}; zie `vangnet cases list`")
    if case.anonymised_on is not None:
        raise RivError(f"zaak {case.ref} is na de bewaartermijn geanonimiseerd; er kan geen verslag meer van worden "
                       "gemaakt")
    return case


def case_facts(session: Session, case: Case, *, today: date) -> RivFacts:
    """Everything `rules.riv` needs of a case, read from the store."""
    loonheffingennummer = session.scalar(
        select(SignalRow.werkgever_loonheffingennummer)
        .where(SignalRow.case_id == case.id, SignalRow.werkgever_loonheffingennummer.is_not(None))
        .order_by(SignalRow.volgnummer.desc()).limit(1))
    advice = session.scalar(
        select(ConsultAdvice.advice).join(Consult, Consult.id == ConsultAdvice.consult_id)
        .where(Consult.case_id == case.id)
        .order_by(ConsultAdvice.received_at.desc(), ConsultAdvice.id.desc()).limit(1))
    kinds = {k.value: k for k in EntryKind}
    return RivFacts(
        case=CaseFacts(
            ref=case.ref, gemeentecode=case.gemeentecode, bsn=case.bsn, eerste_ziektedag=case.eerste_ziektedag,
            datum_ontvangst=case.datum_ontvangst, datum_melding=case.datum_melding,
            datum_einde_dienstverband=case.datum_einde_dienstverband, zaak_identificatie=case.zaak_identificatie,
            werkgever_loonheffingennummer=loonheffingennummer),
        today=today,
        steps=tuple(StepFact(s.stap, s.datum, s.wettelijke_datum, s.done_on, s.deviation_reason,
                             s.deviation_consulted_on) for s in store.steps_for(session, case)),
        plans=tuple(plan_history(session, case.id)),
        entries=tuple(EntryFact(kinds[e.kind], e.entry_date, e.text) for e in entries_of(session, case.id)
                      if e.kind in kinds),
        advice=advice,
        ladder=tuple((entry.trede, entry.since) for entry in ladder_history(session, case.id)),
        instruments=tuple((i.instrument, i.started_on, i.ended_on) for i in instruments_of(session, case.id)),
    )


def assemble(engine: Engine, case_ref: str, *, today: date) -> Riv:
    """The RIV of a case as it stands today (nothing is recorded)."""
    with store.session_scope(engine) as session:
        return assemble_riv(case_facts(session, _case(session, case_ref), today=today))


def _gap_list(riv: Riv) -> str:
    return "; ".join(f"{p.letter} ({p.title}: {p.supplied_by})" for p in riv.gaps)


def _record(session: Session, case: Case, riv: Riv, html: str, *, today: date, final: bool, by: str):
    sha = hashlib.sha256(html.encode("utf-8")).hexdigest()
    row = add_riv_document(session, case_id=case.id, generated_on=today, sha256=sha, gaps=list(riv.gap_letters),
                           final=final, by=by)
    store.record_audit(session, actor=by, action="riv.opgesteld", case_id=case.id, details={
        "versie": row.version, "ontbrekend": list(riv.gap_letters), "definitief": final})
    return row


def _next_version(session: Session, case: Case) -> int:
    documents = riv_documents(session, case.id)
    return documents[-1].version + 1 if documents else 1


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def generate_riv(engine: Engine, case_ref: str, *, out: Path, today: date, by: str, final: bool = False) -> RivResult:
    """Assemble, render and write the RIV of a case (see `output_paths`) and record it as the next version.

    `final=True` is refused while a part is missing; otherwise it marks the step `riv` done today."""
    html_path, pdf_path = output_paths(out)
    with store.session_scope(engine) as session:
        case = _case(session, case_ref)
        riv = assemble_riv(case_facts(session, case, today=today))
        if final and not riv.complete:
            raise RivError(f"het verslag van zaak {case.ref} kan niet definitief worden: er ontbreken nog "
                           f"onderdelen: {_gap_list(riv)}. Vul ze aan en probeer het opnieuw, of maak een concept "
                           "(zonder --final)")
        version = _next_version(session, case)
        html = render_html(riv, version=version, final=final)
        pdf = render_pdf(riv, version=version, final=final)
        row = _record(session, case, riv, html, today=today, final=final, by=by)
        if final:
            step = next((s for s in store.steps_for(session, case) if s.stap is Stap.RIV), None)
            if step is not None and step.done_on is None:
                step.done_on = today
                store.record_audit(session, actor=by, action="step.done", case_id=case.id,
                                   details={"stap": Stap.RIV.value, "gedaan_op": today.isoformat()})
        # Written before the commit: a file that can't be written rolls the version back.
        _write(html_path, html.encode("utf-8"))
        _write(pdf_path, pdf)
        return RivResult(case.ref, row.version, final, row.sha256, html_path, pdf_path, riv)


def prepare_due_rivs(engine: Engine, *, today: date, lead_weeks: int, limit: int, after_id: int = 0,
                     by: str = "vangnet-riv") -> DueRivBatch:
    """One batch (at most `limit` cases, ids after `after_id`) of open, not anonymised cases whose RIV step
    is not done and due on or before today + `lead_weeks` weeks: each assembled, a draft version recorded
    when its gaps differ from the last version's. No files are written."""
    until = today + timedelta(weeks=lead_weeks)
    with store.session_scope(engine) as session:
        rows = session.execute(
            select(Case, WvpStep.datum)
            .join(WvpStep, (WvpStep.case_id == Case.id) & (WvpStep.stap == Stap.RIV))
            .where(Case.status == CaseStatus.OPEN, Case.anonymised_on.is_(None), WvpStep.done_on.is_(None),
                   WvpStep.datum <= until, Case.id > after_id)
            .order_by(Case.id).limit(limit)).all()
        items = []
        for case, due in rows:
            riv = assemble_riv(case_facts(session, case, today=today))
            documents = riv_documents(session, case.id)
            latest = documents[-1] if documents else None
            changed = latest is None or sorted(latest.gaps) != sorted(riv.gap_letters)
            version = latest.version if latest else 0
            if changed:
                version = _record(session, case, riv, render_html(riv, version=version + 1), today=today,
                                  final=False, by=by).version
            items.append(DueRiv(case.ref, due, (due - today).days, riv.gap_letters, version, changed))
        return DueRivBatch(items, rows[-1][0].id if rows else after_id)
