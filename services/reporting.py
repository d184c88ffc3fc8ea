"""Read models for people: a case as a plain dict (CLI export, artifacts, scenario output). No BSN."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import store
from schemas.case import Stap
from store.models import Case, SignalRow

EXPORTED_STEPS = (
    Stap.PROBLEEMANALYSE, Stap.PLAN_VAN_AANPAK, Stap.HERIJKING_1, Stap.HERIJKING_2, Stap.HERIJKING_3,
    Stap.RIV, Stap.WIA_AANVRAAG, Stap.EINDE_WACHTTIJD,
)
"""The steps of the scenario/export contract (README, "Scenario files"); the others stay internal."""


def case_summary(session: Session, case: Case) -> dict[str, Any]:
    """A case as JSON-ready data: reference, decision, status, dates; never the BSN."""
    steps = {step.stap: step for step in store.steps_for(session, case)}
    bericht_ids = session.scalars(
        select(SignalRow.bericht_id).where(SignalRow.case_id == case.id).order_by(SignalRow.volgnummer)
    ).all()
    return {
        "case_id": case.ref,
        "gemeentecode": case.gemeentecode,
        "bericht_ids": list(bericht_ids),
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


def all_case_summaries(session: Session) -> list[dict[str, Any]]:
    return [case_summary(session, case) for case in store.list_cases(session)]


def _iso(value) -> str | None:
    return value.isoformat() if value else None
