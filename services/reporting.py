"""Read models for people: a case as a plain dict (CLI list and export, artifacts, scenario output). No BSN.

Summaries are built a page (or chunk) of cases at a time with one query per table, never per case:
`cases list` at a million cases reads one page; the export streams every case in chunks.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

import store
from schemas.case import CaseStatus, Stap
from store.models import Case, SignalRow, WvpStep

EXPORTED_STEPS = (
    Stap.PROBLEEMANALYSE, Stap.PLAN_VAN_AANPAK, Stap.HERIJKING_1, Stap.HERIJKING_2, Stap.HERIJKING_3,
    Stap.RIV, Stap.WIA_AANVRAAG, Stap.EINDE_WACHTTIJD,
)
"""The steps of the scenario/export contract (README, "Scenario files"); the others stay internal."""

CHUNK = 1000


def case_summary(session: Session, case: Case) -> dict[str, Any]:
    """A case as JSON-ready data: reference, decision, status, dates; never the BSN."""
    return summaries_of(session, [case])[0]


def summaries_of(session: Session, cases: Sequence[Case]) -> list[dict[str, Any]]:
    """The summaries of `cases` (in their order) with one query for their steps and one for their signals."""
    ids = [case.id for case in cases]
    steps: dict[int, dict[Stap, WvpStep]] = defaultdict(dict)
    bericht_ids: dict[int, list[str]] = defaultdict(list)
    if ids:
        for step in session.scalars(select(WvpStep).where(WvpStep.case_id.in_(ids), WvpStep.stap.in_(EXPORTED_STEPS))):
            steps[step.case_id][step.stap] = step
        rows = session.execute(select(SignalRow.case_id, SignalRow.bericht_id).where(SignalRow.case_id.in_(ids))
                               .order_by(SignalRow.case_id, SignalRow.volgnummer))
        for case_id, bericht_id in rows:
            bericht_ids[case_id].append(bericht_id)
    return [_summary(case, steps[case.id], bericht_ids[case.id]) for case in cases]


def case_summaries_page(session: Session, *, limit: int, offset: int = 0,
                        status: CaseStatus | str | None = None) -> list[dict[str, Any]]:
    """One page of case summaries, newest case first, optionally only cases with `status`."""
    cases = store.list_cases(session, status=status, limit=limit, offset=offset, newest_first=True)
    return summaries_of(session, cases)


def count_cases(session: Session, *, status: CaseStatus | str | None = None) -> int:
    """How many cases there are (with `status`)."""
    stmt = select(func.count()).select_from(Case)
    if status is not None:
        stmt = stmt.where(Case.status == CaseStatus(status))
    return session.scalar(stmt) or 0


def iter_case_summaries(session: Session, *, chunk: int = CHUNK) -> Iterator[dict[str, Any]]:
    """Every case's summary, oldest first, read `chunk` cases at a time (memory stays flat per chunk)."""
    after = 0
    while True:
        cases = list(session.scalars(select(Case).where(Case.id > after).order_by(Case.id).limit(chunk)))
        if not cases:
            return
        yield from summaries_of(session, cases)
        after = cases[-1].id  # the session's identity map is weak: rows of earlier chunks can be collected


def all_case_summaries(session: Session) -> list[dict[str, Any]]:
    """Every case's summary, oldest first (`cases export --json`, the demo, the intake artifact)."""
    return list(iter_case_summaries(session))


def _summary(case: Case, steps: dict[Stap, WvpStep], bericht_ids: list[str]) -> dict[str, Any]:
    return {
        "case_id": case.ref,
        "gemeentecode": case.gemeentecode,
        "bericht_ids": bericht_ids,
        "besluit": case.besluit.value if case.besluit else None,
        # The decision's reason; a case closed before any decision (e.g. herstel) gives its closing reason.
        "reden": case.reden if case.besluit or not case.closed_reason else case.closed_reason,
        "afsluitreden": case.closed_reason,
        "status": case.status.value,
        "eerste_ziektedag": _iso(case.eerste_ziektedag),
        "datum_ontvangst": _iso(case.datum_ontvangst),
        "zaak_identificatie": case.zaak_identificatie,
        "termijnen": {
            stap.value: {"datum": _iso(steps[stap].datum), "onverwijld": steps[stap].onverwijld}
            for stap in EXPORTED_STEPS
            if stap in steps
        },
    }


def _iso(value) -> str | None:
    return value.isoformat() if value else None
