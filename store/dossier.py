"""The case dossier's records: plan van aanpak versions and copies, ladder, instruments, entries, RIVs."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from store.models import CaseInstrument, DossierEntry, LadderEntry, PlanCopy, PlanVanAanpak, RivDocument


def plan_versions(session: Session, case_id: int) -> list[PlanVanAanpak]:
    """Every version of a case's plan van aanpak, oldest first."""
    return list(session.scalars(
        select(PlanVanAanpak).where(PlanVanAanpak.case_id == case_id).order_by(PlanVanAanpak.version)))


def plan_copies(session: Session, plan_ids: list[int]) -> list[PlanCopy]:
    """The recorded copies of the given plan versions."""
    if not plan_ids:
        return []
    return list(session.scalars(select(PlanCopy).where(PlanCopy.plan_id.in_(plan_ids)).order_by(PlanCopy.id)))


def ladder_history(session: Session, case_id: int) -> list[LadderEntry]:
    """A case's treden on the ladder, in date order (recording order within a day)."""
    return list(session.scalars(
        select(LadderEntry).where(LadderEntry.case_id == case_id).order_by(LadderEntry.since, LadderEntry.id)))


def instruments_of(session: Session, case_id: int) -> list[CaseInstrument]:
    """A case's instruments, by start date."""
    return list(session.scalars(
        select(CaseInstrument).where(CaseInstrument.case_id == case_id)
        .order_by(CaseInstrument.started_on, CaseInstrument.id)))


def entries_of(session: Session, case_id: int, kind: str | None = None) -> list[DossierEntry]:
    """A case's dossier entries (of one kind), by date."""
    stmt = select(DossierEntry).where(DossierEntry.case_id == case_id)
    if kind is not None:
        stmt = stmt.where(DossierEntry.kind == kind)
    return list(session.scalars(stmt.order_by(DossierEntry.entry_date, DossierEntry.id)))


def riv_documents(session: Session, case_id: int) -> list[RivDocument]:
    """The RIVs generated for a case, oldest first."""
    return list(session.scalars(
        select(RivDocument).where(RivDocument.case_id == case_id).order_by(RivDocument.version)))


def add_riv_document(session: Session, *, case_id: int, generated_on: date, sha256: str, gaps: list[str],
                     final: bool, by: str) -> RivDocument:
    """Record a generated RIV as the case's next version."""
    latest = session.scalar(select(func.max(RivDocument.version)).where(RivDocument.case_id == case_id)) or 0
    row = RivDocument(case_id=case_id, version=latest + 1, generated_on=generated_on, sha256=sha256,
                      gaps=list(gaps), final=final, recorded_by=by)
    session.add(row)
    session.flush()
    return row
