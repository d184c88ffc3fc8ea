"""The takeover step (overnametoets): decide each new case with `rules.eligibility`, in batches.

A batch runs in up to three steps so that no network call holds a database lock:
1. claim the undecided cases (status OPEN, besluit NULL) and read what the lookups need; commit;
2. ask Suwinet (the injected `lks_lookup`) per person, outside any transaction;
3. in a new transaction claim the same cases again, skip those decided meanwhile, store Suwinet's
   answer, decide and write: besluit, reden, status, audit `case.besluit`, and for OVERNAME the
   outbox effect `zaak.create` (idempotency key `zaak.create:<case ref>`).
Without a lookup, steps 1 and 3 are one transaction. Claims use FOR UPDATE SKIP LOCKED on PostgreSQL
(SQLite serialises whole transactions), and a decided case is never claimed again: a rerun changes
nothing. Two workers may both ask Suwinet about the same case; only one decides it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session

import store
from rules.eligibility import Overnamebesluit, beslis_overname, venster_van
from schemas.case import Besluit, CaseStatus
from schemas.lks import LksPeriode
from store.models import Case

ACTOR = "vangnet/overnametoets"
ZAAK_CREATE = "zaak.create"

LksLookup = Callable[[str], Sequence[LksPeriode]]
"""Suwinet GSDDossierReintegratie for one BSN: its LKS periods ([] for NietsGevonden); raises on failure."""

_STATUS_NA_BESLUIT = {
    Besluit.OVERNAME: CaseStatus.OPEN,
    Besluit.HANDMATIG: CaseStatus.HANDMATIG,
    Besluit.ANDERE_GEMEENTE: CaseStatus.OVERGEDRAGEN,
    Besluit.GEEN_LKS: CaseStatus.GESLOTEN,
}


@dataclass
class TakeoverResult:
    """Outcome of one batch: counts and case references only.

    `claimed` cases were looked at; `decided` of them got a besluit (`by_code` per code, `case_refs`);
    `lookup_failed` stayed undecided because the Suwinet lookup failed, `errors` because of an
    unexpected error (audited as `case.besluit_mislukt`); `last_case_id` is the highest
    claimed id, to pass as `after_id` for the next batch in the same run.
    """

    decided: int = 0
    by_code: dict[str, int] = field(default_factory=dict)
    case_refs: list[str] = field(default_factory=list)
    claimed: int = 0
    lookup_failed: list[str] = field(default_factory=list)
    lookup_error: str | None = None
    """The error type of a failed Suwinet lookup (the last one), for the operators' alert."""
    errors: list[str] = field(default_factory=list)
    last_case_id: int | None = None


@dataclass(frozen=True)
class _Pending:
    id: int
    gemeentecode: str
    bsn: str = field(repr=False)


def decide_pending(
    engine: Engine,
    *,
    eigen_gemeentecode: str,
    today: date,
    limit: int,
    lks_lookup: LksLookup | None = None,
    after_id: int = 0,
) -> TakeoverResult:
    """Decide up to `limit` undecided open cases with id > `after_id`, oldest first.

    `lks_lookup` is called once per person of this gemeente in the batch (never for a person whose
    case belongs to another gemeente: that needs no LKS). A failing lookup leaves that case undecided
    with an audit note; the rest of the batch carries on.
    """
    result = TakeoverResult()
    if lks_lookup is None:
        with store.session_scope(engine) as session:
            cases = _claim(session, limit=limit, after_id=after_id)
            _note_claimed(result, [c.id for c in cases])
            for case in cases:
                _decide_one(session, case, eigen_gemeentecode, today, result)
        return result

    with store.session_scope(engine) as session:
        pending = [_Pending(c.id, c.gemeentecode, c.bsn) for c in _claim(session, limit=limit, after_id=after_id)]
    _note_claimed(result, [p.id for p in pending])
    if not pending:
        return result

    # No transaction is open here: the lookups may take seconds each.
    answers: dict[str, list[LksPeriode] | Exception] = {}
    for p in pending:
        if p.gemeentecode == eigen_gemeentecode and p.bsn not in answers:
            answers[p.bsn] = _ask(lks_lookup, p.bsn)

    with store.session_scope(engine) as session:
        for case in _claim(session, ids=[p.id for p in pending]):
            answer = answers.get(case.bsn) if case.gemeentecode == eigen_gemeentecode else None
            if isinstance(answer, Exception):
                store.record_audit(session, actor=ACTOR, action="case.lks_opvraging_mislukt", case_id=case.id, details={
                    "fout": type(answer).__name__,
                    "reden": "LKS opvragen bij Suwinet is mislukt; de overnametoets volgt bij een volgende run",
                })
                result.lookup_failed.append(case.ref)
                result.lookup_error = type(answer).__name__
                continue
            _decide_one(session, case, eigen_gemeentecode, today, result, suwinet=answer)
    return result


def _ask(lks_lookup: LksLookup, bsn: str) -> list[LksPeriode] | Exception:
    try:
        periods = list(lks_lookup(bsn))
        if not all(isinstance(p, LksPeriode) for p in periods):
            raise TypeError("lks_lookup gaf iets anders dan LksPeriode terug")
        return periods
    except Exception as exc:  # noqa: BLE001 - one person's lookup must not stop the batch
        return exc


def _claim(
    session: Session, *, limit: int | None = None, after_id: int = 0, ids: Sequence[int] | None = None
) -> list[Case]:
    """Undecided open cases, oldest first, locked until the transaction ends (skipping locked ones)."""
    stmt = (
        select(Case)
        .where(Case.besluit.is_(None), Case.status == CaseStatus.OPEN, Case.closed_on.is_(None))
        .order_by(Case.id)
        .with_for_update(skip_locked=True)
    )
    if ids is not None:
        stmt = stmt.where(Case.id.in_(list(ids)))
    else:
        stmt = stmt.where(Case.id > after_id).limit(limit)
    return list(session.scalars(stmt))


def _note_claimed(result: TakeoverResult, ids: list[int]) -> None:
    result.claimed = len(ids)
    result.last_case_id = max(ids, default=None)


def _decide_one(
    session: Session, case: Case, eigen_gemeentecode: str, today: date, result: TakeoverResult,
    *, suwinet: list[LksPeriode] | None = None,
) -> None:
    """Decide and write one case in a SAVEPOINT: an unexpected error leaves it undecided, noted."""
    try:
        with session.begin_nested():
            if suwinet is not None:
                store.replace_suwinet_lks(session, case.bsn, suwinet)
            besluit = _besluit(session, case, eigen_gemeentecode)
            _write(session, case, besluit, today, suwinet=suwinet is not None)
    except (OperationalError, InterfaceError):
        raise  # the database is in trouble, not this case: fail the batch, retry it whole
    except Exception as exc:  # noqa: BLE001 - quarantine, don't crash; the type says enough
        session.expire(case)
        store.record_audit(session, actor=ACTOR, action="case.besluit_mislukt", case_id=case.id, details={
            "fout": type(exc).__name__, "reden": "interne fout bij de overnametoets; meld dit aan beheer"})
        result.errors.append(case.ref)
        return
    result.decided += 1
    result.by_code[besluit.code.value] = result.by_code.get(besluit.code.value, 0) + 1
    result.case_refs.append(case.ref)


def _besluit(session: Session, case: Case, eigen_gemeentecode: str) -> Overnamebesluit:
    # Every ziekmelding has a first sick day; the fallbacks only guard cases made some other way.
    eerste = case.eerste_ziektedag or case.datum_einde_dienstverband
    if eerste is None:
        return Overnamebesluit(
            code=Besluit.HANDMATIG, peildatum=case.datum_ontvangst, venster=venster_van(case.datum_ontvangst),
            reden=("Handmatig beoordelen: de eerste ziektedag en het einde dienstverband ontbreken, "
                   "dus de overnametoets kan niet automatisch."),
        )
    return beslis_overname(
        eigen_gemeentecode=eigen_gemeentecode,
        signaal_gemeentecode=case.gemeentecode,
        eerste_ziektedag=eerste,
        datum_einde_dienstverband=case.datum_einde_dienstverband,
        lks=store.lks_for_person(session, case.bsn),
    )


def _write(session: Session, case: Case, besluit: Overnamebesluit, today: date, *, suwinet: bool) -> None:
    old_status = case.status
    new_status = _STATUS_NA_BESLUIT[besluit.code]
    case.besluit = besluit.code
    case.reden = besluit.reden
    if new_status in (CaseStatus.OVERGEDRAGEN, CaseStatus.GESLOTEN):
        store.close_case(session, case, on=max(today, case.opened_on), reason=besluit.reden, status=new_status)
    else:
        case.status = new_status
        session.flush()
    store.record_audit(session, actor=ACTOR, action="case.besluit", case_id=case.id, details={
        "besluit": besluit.code.value,
        "besloten_op": today.isoformat(),
        "peildatum": besluit.peildatum.isoformat(),
        "venster": {"van": besluit.venster[0].isoformat(), "tot": besluit.venster[1].isoformat()},
        "lks": [_periode_json(p) for p in besluit.lks_gevonden],
        "suwinet_geraadpleegd": suwinet,
        "status": {"oud": old_status.value, "nieuw": new_status.value},
        "reden": besluit.reden,
    })
    if besluit.code is Besluit.OVERNAME:
        store.enqueue(session, effect=ZAAK_CREATE, idempotency_key=f"{ZAAK_CREATE}:{case.ref}",
                      payload={"case_id": case.id}, case_id=case.id)


def _periode_json(p: LksPeriode) -> dict[str, Any]:
    return {"gemeentecode": p.gemeentecode, "begin": p.begin.isoformat(),
            "einde": p.einde.isoformat() if p.einde else None, "bron": p.bron.value}
