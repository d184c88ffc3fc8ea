"""Retention: anonymise cases closed longer than the retention term (rules.retention), in batches.

What goes, per due case (closed, not yet anonymised), in one transaction per batch:
- the BSN on the case and on its signals becomes `ANONYMOUS_BSN` ("000000000": nine digits, so the
  NOT NULL String(9) columns keep their shape, and never a real BSN: its 11-proef sum is 0, which the
  proef refuses, so intake quarantines any signal carrying it); the signals lose the ex-employer's
  loonheffingennummer. Signals count as the case's when linked to it, or not linked to any case but of
  the same person and received before the case closed (duplicates, noted corrections);
- the raw inbox messages of those signals: emptied (payload b"") when no other person's signal came in
  the same message, else the BSN is cut out of the bytes. `content_sha256` becomes
  "geanonimiseerd:<id>": the old hash of a message holding a BSN could be matched by enumerating BSNs,
  and the (source, content_sha256) unique key needs a distinct value per row. Rows stay, because
  signals and quarantine refer to them; a re-delivered old message is still recognised by its
  bericht_id (signals keep it) and marked a duplicate;
- the bedrijfsarts' advice of its consults (deleted) and the consults' outcome texts (cleared);
- the dossier's content: dossier entries, plan van aanpak versions with their copies (contact person,
  activities), RIV document records (deleted); art. 7 deviation reasons on its steps (replaced by a
  marker, so the fact that a deviation was agreed still counts);
- the person's LKS periods (all granting gemeenten), but only when no other case of the person is
  still open or within its retention term.

What stays, because it holds no personal data once the BSN is gone and the management report counts
it: the case row (gemeentecode, dates, besluit, status, its reference), WVP steps and their dates,
ladder entries, instruments, consult rows (status, attempt), orders, order reports and invoices (also
kept for the fiscal retention of the gemeente's bookkeeping), outbox items (technical, no BSN), and
the audit trail. Audit events are append-only and never changed or deleted; their details are
designed to hold no personal data (case references, codes, counts, dates), so nothing personal is left
in them. The anonymisation itself is audited as `case.geanonimiseerd` with counts only.

Concurrency: due candidates are claimed with FOR UPDATE SKIP LOCKED on PostgreSQL (SQLite serialises
whole transactions), so two workers never anonymise the same case; an anonymised case has
`anonymised_on` set and is never claimed again, so a second run changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

import store
from rules.booking import DUTCH_TIME
from rules.retention import candidate_before, is_due, term_years, wia_followed
from schemas.case import Stap
from schemas.signal import RedenEinde, SignaalSoort
from store.models import (
    Case,
    Consult,
    ConsultAdvice,
    DossierEntry,
    InboxMessage,
    LksRecord,
    PlanCopy,
    PlanVanAanpak,
    RivDocument,
    SignalRow,
    WvpStep,
)

ACTOR = "vangnet/bewaartermijn"
ACTION = "case.geanonimiseerd"
ANONYMOUS_BSN = "000000000"
DEVIATION_MARKER = "(reden verwijderd na de bewaartermijn)"
HASH_MARKER = "geanonimiseerd:{}"

_COUNTS = ("signalen", "berichten_geleegd", "berichten_bewerkt", "adviezen", "dossieritems", "plannen",
           "afschriften", "riv_documenten", "afwijkingsredenen", "lks_perioden")


@dataclass
class RetentionResult:
    """One batch: counts and case references only (no BSN).

    `claimed` candidates (closed before the shortest term's bound) were looked at; `anonymised` of them
    were due (in a dry run: would be); `kept` were not yet due (the longer WIA term, or calendar
    detail); `removed` sums what went, per kind (see `_COUNTS`). `last_case_id` is the highest claimed
    id: pass it as `after_id` for the next batch of the same run.
    """

    dry_run: bool = False
    claimed: int = 0
    anonymised: int = 0
    wia_term: int = 0
    kept: int = 0
    removed: dict[str, int] = field(default_factory=lambda: dict.fromkeys(_COUNTS, 0))
    case_refs: list[str] = field(default_factory=list)
    last_case_id: int | None = None

    def add(self, batch: RetentionResult) -> None:
        """Add a batch's counts to this run total (case references are not carried over: counts only)."""
        self.claimed += batch.claimed
        self.anonymised += batch.anonymised
        self.wia_term += batch.wia_term
        self.kept += batch.kept
        for name, n in batch.removed.items():
            self.removed[name] = self.removed.get(name, 0) + n


def anonymise_due_cases(engine: Engine, *, today: date, years: int, wia_years: int, limit: int,
                        after_id: int = 0, dry_run: bool = False) -> RetentionResult:
    """Anonymise the due cases among up to `limit` candidates with id > `after_id`, in one transaction.

    `dry_run` does the same work and rolls it back: the result says exactly what a real run would do.
    """
    result = RetentionResult(dry_run=dry_run)
    with store.session_scope(engine) as session:
        candidates = _claim(session, before=candidate_before(today, years), after_id=after_id, limit=limit)
        result.claimed = len(candidates)
        result.last_case_id = candidates[-1].id if candidates else None
        wia = _wia_cases(session, [c.id for c in candidates])
        for case in candidates:
            if not is_due(case.closed_on, today, wia=case.id in wia, years=years, wia_years=wia_years):
                result.kept += 1
                continue
            counts = _anonymise(session, case, today=today, years=years, wia_years=wia_years)
            store.record_audit(session, actor=ACTOR, action=ACTION, case_id=case.id, details={
                "termijn_jaren": term_years(wia=case.id in wia, years=years, wia_years=wia_years),
                "gesloten_op": case.closed_on.isoformat(), **counts})
            result.anonymised += 1
            result.wia_term += case.id in wia
            result.case_refs.append(case.ref)
            for name, n in counts.items():
                result.removed[name] += n
        if dry_run:
            session.rollback()  # session_scope then commits an empty transaction
    return result


def _claim(session: Session, *, before: date, after_id: int, limit: int) -> list[Case]:
    stmt = (select(Case)
            .where(Case.closed_on.is_not(None), Case.closed_on < before, Case.anonymised_on.is_(None),
                   Case.id > after_id)
            .order_by(Case.id).limit(limit).with_for_update(skip_locked=True))
    return list(session.scalars(stmt))


def _wia_cases(session: Session, case_ids: Iterable[int]) -> set[int]:
    """The cases (of `case_ids`) after which a WIA application followed."""
    ids = list(case_ids)
    if not ids:
        return set()
    done = set(session.scalars(select(WvpStep.case_id).where(
        WvpStep.case_id.in_(ids), WvpStep.stap == Stap.WIA_AANVRAAG, WvpStep.done_on.is_not(None))))
    ended = set(session.scalars(select(SignalRow.case_id).where(
        SignalRow.case_id.in_(ids), SignalRow.soort == SignaalSoort.EINDE_ZW, SignalRow.reden_einde == RedenEinde.WIA)))
    return {i for i in ids if wia_followed(wia_aanvraag_done=i in done, zw_ended_for_wia=i in ended)}


def _anonymise(session: Session, case: Case, *, today: date, years: int, wia_years: int) -> dict[str, int]:
    counts = dict.fromkeys(_COUNTS, 0)
    gemeentecode, bsn = case.gemeentecode, case.bsn
    closed_end = datetime.combine(case.closed_on + timedelta(days=1), time(0), DUTCH_TIME)
    signals = list(session.scalars(select(SignalRow).where(
        (SignalRow.case_id == case.id)
        | ((SignalRow.case_id.is_(None)) & (SignalRow.gemeentecode == gemeentecode) & (SignalRow.bsn == bsn)
           & (SignalRow.received_at < closed_end)))))
    for signal in signals:
        signal.bsn = ANONYMOUS_BSN
        signal.werkgever_loonheffingennummer = None
    counts["signalen"] = len(signals)
    case.bsn = ANONYMOUS_BSN
    case.anonymised_on = today
    session.flush()
    for inbox_id in sorted({s.inbox_id for s in signals}):
        blanked = _clean_inbox(session, inbox_id, bsn)
        counts["berichten_geleegd" if blanked else "berichten_bewerkt"] += 1

    def rows(stmt) -> int:
        return session.execute(stmt).rowcount

    consult_ids = select(Consult.id).where(Consult.case_id == case.id)
    counts["adviezen"] = rows(delete(ConsultAdvice).where(ConsultAdvice.consult_id.in_(consult_ids)))
    rows(update(Consult).where(Consult.case_id == case.id).values(outcome=None))
    plan_ids = select(PlanVanAanpak.id).where(PlanVanAanpak.case_id == case.id)
    counts["afschriften"] = rows(delete(PlanCopy).where(PlanCopy.plan_id.in_(plan_ids)))
    counts["plannen"] = rows(delete(PlanVanAanpak).where(PlanVanAanpak.case_id == case.id))
    counts["dossieritems"] = rows(delete(DossierEntry).where(DossierEntry.case_id == case.id))
    counts["riv_documenten"] = rows(delete(RivDocument).where(RivDocument.case_id == case.id))
    counts["afwijkingsredenen"] = rows(update(WvpStep).where(
        WvpStep.case_id == case.id, WvpStep.deviation_reason.is_not(None)).values(deviation_reason=DEVIATION_MARKER))
    if not _person_still_kept(session, bsn, today=today, years=years, wia_years=wia_years):
        counts["lks_perioden"] = rows(delete(LksRecord).where(LksRecord.bsn == bsn))
    session.flush()
    return counts


def _clean_inbox(session: Session, inbox_id: int, bsn: str) -> bool:
    """Empty the raw message (True), or cut `bsn` out of it when another person's signal shares it (False)."""
    message = session.get(InboxMessage, inbox_id)
    others = session.scalar(select(func.count()).select_from(SignalRow).where(
        SignalRow.inbox_id == inbox_id, SignalRow.bsn != ANONYMOUS_BSN))
    message.content_sha256 = HASH_MARKER.format(inbox_id)
    if others:
        message.payload = bytes(message.payload).replace(bsn.encode("ascii"), ANONYMOUS_BSN.encode("ascii"))
        return False
    message.payload = b""
    return True


def _person_still_kept(session: Session, bsn: str, *, today: date, years: int, wia_years: int) -> bool:
    """Whether another case of this person (any gemeente) is open or still within its retention term."""
    others = list(session.scalars(select(Case).where(Case.bsn == bsn)))
    wia = _wia_cases(session, [c.id for c in others])
    return any(not is_due(c.closed_on, today, wia=c.id in wia, years=years, wia_years=wia_years) for c in others)
