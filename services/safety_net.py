"""The Suwinet safety net: ask UWVPersoonsWvInfo about open cases and feed what changed into the inbox.

The derived signals go through exactly the same inbox and processing as IB's (source `suwinet`), so a
change found here has the same effect as a signal, is stored raw first, and is never applied twice.
Network calls happen outside any database transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from lxml import etree
from sqlalchemy import select
from sqlalchemy.engine import Engine

import store
from mappings.ib_signal import fields_to_signal_element
from rules.safety_net import CaseFacts, ZwRelation, derived_signals
from services.intake import BatchResult, process_inbox_batch
from schemas.signal import SignaalSoort
from store.models import Case, SignalRow

SOURCE_SUWINET = "suwinet"


@dataclass
class SafetyNetResult:
    """Counts of one pass (no personal data)."""

    asked: int = 0
    not_found: int = 0
    failed: int = 0
    derived: int = 0
    processed: BatchResult = field(default_factory=BatchResult)
    last_case_id: int = 0


def open_case_facts(engine: Engine, *, gemeentecode: str, after_id: int, limit: int) -> list[CaseFacts]:
    """Facts of up to `limit` open cases of this gemeente with id > `after_id`, by id. Cases that belong
    to another gemeente are not ours to look up."""
    with store.session_scope(engine) as session:
        cases = session.scalars(
            select(Case)
            .where(Case.closed_on.is_(None), Case.gemeentecode == gemeentecode, Case.id > after_id)
            .order_by(Case.id).limit(limit)
        ).all()
        return [_facts(session, case) for case in cases]


def _facts(session, case: Case) -> CaseFacts:
    first = session.scalar(
        select(SignalRow.bericht_id)
        .where(SignalRow.case_id == case.id, SignalRow.soort == SignaalSoort.ZIEKMELDING_VANGNETTER)
        .order_by(SignalRow.volgnummer).limit(1)
    )
    return CaseFacts(case_id=case.id, ref=case.ref, bsn=case.bsn, gemeentecode=case.gemeentecode,
                     eerste_ziektedag=case.eerste_ziektedag, datum_melding=case.datum_melding,
                     datum_einde_dienstverband=case.datum_einde_dienstverband, ziekmelding_bericht_id=first)


def check_batch(engine: Engine, lookup: Callable[[str], object], *, gemeentecode: str, after_id: int, limit: int,
                today: date, now: datetime) -> SafetyNetResult:
    """Ask Suwinet about one batch of open cases, store the derived signals raw, then process them."""
    result = SafetyNetResult(last_case_id=after_id)
    found: list[dict] = []
    for facts in open_case_facts(engine, gemeentecode=gemeentecode, after_id=after_id, limit=limit):
        result.asked += 1
        result.last_case_id = facts.case_id
        try:
            info = lookup(facts.bsn)
        except Exception:  # noqa: BLE001 - one failing lookup must not stop the others; counted, retried next run
            result.failed += 1
            continue
        if info is None:
            result.not_found += 1
            continue
        zw = [ZwRelation(einde=u.einde, reden_einde=u.reden_einde) for u in info.zw_uitkeringen]
        found += derived_signals(facts, eerste_ao_dag=info.eerste_ao_dag, zw=zw, today=today)
    with store.session_scope(engine) as session:
        for fields in found:
            payload = etree.tostring(fields_to_signal_element(fields), method="c14n", exclusive=True)
            result.derived += store.add_raw(session, source=SOURCE_SUWINET, payload=payload, received_at=now,
                                            message_key=fields["bericht_id"])[1]
    result.processed = process_inbox_batch(engine, source=SOURCE_SUWINET, limit=max(limit, len(found)), today=today)
    return result
