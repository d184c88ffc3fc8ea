"""The bedrijfsarts consult lifecycle: plan, book, follow up, cancel (domain.md §5, §6, §8).

Every step works on a batch of consults and never calls the arbodienst inside a database transaction:
read and commit, call the arbodienst, then write the outcome in a short new transaction.

Booking is crash-safe through the outbox: before a booking request goes out, the exact request (slot,
deadline, purpose; no BSN) is committed as outbox item `consult.book`; the Idempotency-Key is the
consult's own key (`consult:<case ref>:<doel>:<attempt>`). After a crash the same request goes out
again and the arbodienst answers the booking it already made, never a second. A refused request
(409 slot taken) does not bind the key there, so the next slot is tried with the same key.

Decisions where the law and the domain are silent:
- an onverwijld probleemanalyse gets `latest_date` NULL: the first possible slot, on time by definition
  (its legal date has passed; the deadline monitor already reports it); the arbodienst is told the
  step's date as `uiterste_datum` (informative, may lie in the past);
- the earliest slot is on the next working day: never today;
- every booked consult is asked about at each run, not only after its slot, so a cancellation by the
  arbodienst is noticed (and rebooked) before the deadline passes;
- after `max_no_shows` no-shows (the last one included) a person takes over: case HANDMATIG.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy.engine import Engine

import store
from rules.booking import DUTCH_TIME, SlotChoice, choose_slot, local_date, rebook_allowed
from rules.medical_guard import guard_advice
from rules.workdays import add_workdays
from schemas.case import Stap
from store.consults import LIVE, ConsultStatus
from store.models import Consult, ConsultPurpose

ACTOR = "vangnet/consults"
LOOKAHEAD_DAYS = 28
"""Slots are asked for up to this many days after the deadline (or after the earliest day)."""
MAX_SLOT_TRIES = 5
"""Slots tried per consult when each turns out to be taken (409) meanwhile."""


@dataclass
class PlanResult:
    """Consults planned: `created` case refs, of which `onverwijld` have no deadline (first possible slot)."""

    created: list[str] = field(default_factory=list)
    onverwijld: list[str] = field(default_factory=list)


@dataclass
class BookingResult:
    """One booking batch. `late` are case refs booked after their deadline (no slot met it)."""

    claimed: int = 0
    booked: list[str] = field(default_factory=list)
    late: list[str] = field(default_factory=list)
    slot_taken: int = 0
    no_slot: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    unavailable: bool = False
    last_consult_id: int | None = None


@dataclass
class FollowUpResult:
    """One follow-up batch. `escalated` are case refs handed to a person after too many no-shows."""

    checked: int = 0
    advice_stored: list[str] = field(default_factory=list)
    steps_done: list[str] = field(default_factory=list)
    waiting: int = 0
    no_shows: int = 0
    rebooked: list[str] = field(default_factory=list)
    escalated: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    unavailable: bool = False
    last_consult_id: int | None = None


@dataclass
class CancelResult:
    """Live consults of closed cases: `cancelled` case refs; `not_cancellable` already held or missed."""

    cancelled: list[str] = field(default_factory=list)
    not_cancellable: int = 0
    refused: list[str] = field(default_factory=list)
    unavailable: bool = False


@dataclass(frozen=True)
class _Pending:
    """What booking one consult needs, read in a transaction and used outside it."""

    consult_id: int
    key: str
    case_ref: str
    purpose: str
    latest_date: date | None
    uiterste_datum: date
    bsn: str = field(repr=False)
    intent: dict | None = None


def _arbo():
    import connectors.arbodienst as arbo

    return arbo


def _person(bsn: str):
    try:
        return _arbo().Person(bsn=bsn)
    except ValueError:
        return None  # the arbodienst identifies the person otherwise; never send a wrong BSN


# -- plan -------------------------------------------------------------------------------------------
def plan_consults(engine: Engine, *, today: date, limit: int = 500) -> PlanResult:
    """A probleemanalyse consult (TE_BOEKEN) for every open taken-over case whose probleemanalyse is not
    done and that has no consult under way for it."""
    result, after_id = PlanResult(), 0
    while True:
        with store.session_scope(engine) as session:
            rows = store.cases_needing_probleemanalyse(session, limit=limit, after_id=after_id)
            for case, step in rows:
                latest = None if step.onverwijld else step.datum
                consult, created = store.create_consult(session, case, purpose=ConsultPurpose.PROBLEEMANALYSE,
                                                        latest_date=latest)
                if not created:
                    continue
                result.created.append(case.ref)
                if latest is None:
                    result.onverwijld.append(case.ref)
                store.record_audit(session, actor=ACTOR, action="consult.planned", case_id=case.id, details={
                    "consult_ref": consult.idempotency_key, "purpose": consult.purpose.value,
                    "attempt": consult.attempt, "latest_date": latest.isoformat() if latest else None,
                    "reden": "probleemanalyse door de bedrijfsarts " + (
                        "zo snel mogelijk (onverwijld)" if latest is None else f"uiterlijk {latest.isoformat()}"),
                })
        if len(rows) < limit:
            return result
        after_id = rows[-1][0].id


# -- book -------------------------------------------------------------------------------------------
def book_pending(engine: Engine, client, *, today: date, now: datetime, limit: int, after_id: int = 0) -> BookingResult:
    """Book up to `limit` TE_BOEKEN consults (id > `after_id`) of open cases at the arbodienst."""
    arbo = _arbo()
    result = BookingResult()
    with store.session_scope(engine) as session:
        pending = [_read_pending(session, c, today) for c in
                   store.claim_consults(session, [ConsultStatus.TE_BOEKEN], limit=limit, after_id=after_id,
                                        case_closed=False)]
    result.claimed = len(pending)
    result.last_consult_id = pending[-1].consult_id if pending else None
    if not pending:
        return result

    earliest = max(now, datetime.combine(add_workdays(today, 1), time(0), DUTCH_TIME))
    van = local_date(earliest)
    tot = max([p.latest_date for p in pending if p.latest_date] + [van]) + timedelta(days=LOOKAHEAD_DAYS)
    cache: list = []

    def free_slots() -> list:  # asked once per batch, and only when a consult needs a new slot
        if not cache:
            cache.append(client.list_slots(van, tot))
        return cache[0]

    taken: set[str] = set()
    for p in pending:
        try:
            _book_one(engine, client, p, free_slots, taken, earliest, result)
        except arbo.ArbodienstUnavailable:
            result.unavailable = True  # the arbodienst is struggling: the rest waits for the next run
            return result
    return result


def _read_pending(session, consult: Consult, today: date) -> _Pending:
    case = store.get_case(session, consult.case_id)
    step = next((s for s in store.steps_for(session, case) if s.stap is Stap.PROBLEEMANALYSE), None)
    intent = store.booking_intent(session, consult)
    return _Pending(consult.id, consult.idempotency_key, case.ref, consult.purpose.value, consult.latest_date,
                    consult.latest_date or (step.datum if step else today), case.bsn,
                    dict(intent.payload) if intent else None)


def _book_one(engine, client, p: _Pending, free_slots, taken: set[str], earliest: datetime,
              result: BookingResult) -> None:
    arbo = _arbo()
    request, sent = p.intent, None
    for _ in range(MAX_SLOT_TRIES):
        if request is None:
            choice = choose_slot(free_slots(), earliest=earliest, latest_date=p.latest_date, skip=taken)
            if choice is None:
                result.no_slot.append(p.case_ref)
                return
            request = _write_intent(engine, p, _request(p, choice), replacing=sent)
            if request is None:
                return  # booked or closed meanwhile (another worker)
        try:
            booking = _send(client, p.key, p.case_ref, p.bsn, request)
        except arbo.ArbodienstSlotTaken:
            result.slot_taken += 1
        except arbo.ArbodienstRejected as exc:
            if exc.code == "idempotency-key-hergebruikt":  # another worker sent another request with our key
                stored = _write_intent(engine, p, request, replacing=None)
                if stored is None:
                    return
                if stored != request:
                    request = stored
                    continue
            if exc.code != "slot-onbekend":
                _refused(engine, p.consult_id, f"de arbodienst weigerde de boeking ({exc.code or exc.status})",
                         ConsultStatus.TE_BOEKEN)
                result.refused.append(p.case_ref)
                return
        except arbo.ArbodienstProtocolError as exc:
            _refused(engine, p.consult_id, f"de arbodienst gaf een onverwacht antwoord op de boeking: {exc}",
                     ConsultStatus.TE_BOEKEN)
            result.refused.append(p.case_ref)
            return
        else:
            taken.add(booking.slot_id)
            _booked(engine, p, booking, result)
            return
        taken.add(request["slot_id"])
        request, sent = None, request
    result.no_slot.append(p.case_ref)  # every slot tried was taken meanwhile: next run


def _write_intent(engine, p: _Pending, request: dict, *, replacing: dict | None) -> dict | None:
    """The request to send for this consult (ours, or one another worker wrote); None when the consult
    is no longer to be booked."""
    with store.session_scope(engine) as session:
        consult = store.claim_consults(session, [ConsultStatus.TE_BOEKEN], ids=[p.consult_id])
        if not consult:
            return None
        return store.record_booking_intent(session, consult[0], request, replacing=replacing)


def _request(p: _Pending, choice: SlotChoice) -> dict:
    return {"slot_id": choice.slot.slot_id, "slot_start": choice.slot.start.isoformat(),
            "uiterste_datum": p.uiterste_datum.isoformat(), "doel": p.purpose}


def _booked(engine, p: _Pending, booking, result: BookingResult) -> None:
    on_time = p.latest_date is None or local_date(booking.start) <= p.latest_date
    with store.session_scope(engine) as session:
        consults = store.claim_consults(session, [ConsultStatus.TE_BOEKEN], ids=[p.consult_id])
        if not consults:
            return  # another worker recorded it meanwhile
        consult = consults[0]
        store.mark_consult_booked(session, consult, booking_ref=booking.booking_id, slot_start=booking.start)
        intent = store.booking_intent(session, consult)
        if intent is not None:
            store.mark_outbox_done(session, intent)
        store.record_audit(session, actor=ACTOR, action="consult.booked", case_id=consult.case_id, details={
            "case_ref": p.case_ref, "consult_ref": p.key, "purpose": p.purpose, "attempt": consult.attempt,
            "slot_start": booking.start.isoformat(), "on_time": on_time,
            "latest_date": p.latest_date.isoformat() if p.latest_date else None,
        })
    result.booked.append(p.case_ref)
    if not on_time:
        result.late.append(p.case_ref)


def _refused(engine, consult_id: int, why: str, *expected: ConsultStatus) -> None:
    """A person must look at the consult (CONTROLEREN), unless it moved on meanwhile."""
    with store.session_scope(engine) as session:
        consults = store.claim_consults(session, expected, ids=[consult_id])
        if not consults:
            return
        consult = consults[0]
        store.set_consult_status(session, consult, ConsultStatus.CONTROLEREN, outcome=why)
        intent = store.booking_intent(session, consult)
        if intent is not None:
            store.mark_outbox_failed(session, intent, why, max_attempts=1)
        store.record_audit(session, actor=ACTOR, action="consult.booking_refused", case_id=consult.case_id,
                           details={"consult_ref": consult.idempotency_key, "reden": why})


# -- follow up --------------------------------------------------------------------------------------
def follow_up(engine: Engine, client, *, today: date, max_no_shows: int, limit: int = 500,
              after_id: int = 0) -> FollowUpResult:
    """Ask the arbodienst about up to `limit` booked consults (id > `after_id`) and act on the answer:
    held → store the guarded advice and mark the probleemanalyse done; no-show → book again or, after
    `max_no_shows`, hand the case to a person; cancelled by the arbodienst → book again."""
    arbo = _arbo()
    result = FollowUpResult()
    with store.session_scope(engine) as session:
        todo = [(c.id, c.booking_ref, store.get_case(session, c.case_id).ref) for c in store.claim_consults(
            session, [ConsultStatus.GEBOEKT, ConsultStatus.GEHOUDEN], limit=limit, after_id=after_id)]
    result.checked = len(todo)
    result.last_consult_id = todo[-1][0] if todo else None
    for consult_id, booking_ref, case_ref in todo:
        try:
            booking = client.get_booking(booking_ref)
            advice = client.get_advice(booking_ref) if booking.status is arbo.BookingStatus.GEHOUDEN else None
        except arbo.ArbodienstUnavailable:
            result.unavailable = True
            break
        except (arbo.ArbodienstRejected, arbo.ArbodienstProtocolError) as exc:
            code = getattr(exc, "code", None) or "onverwacht antwoord"
            _refused(engine, consult_id, f"de arbodienst kent de afspraak niet of antwoordt onverwacht ({code}): "
                     f"{exc}", ConsultStatus.GEBOEKT, ConsultStatus.GEHOUDEN)
            result.refused.append(case_ref)
            continue
        _apply(engine, consult_id, booking.status, advice, max_no_shows, result)
    _finish_steps(engine, today, result)
    return result


def _apply(engine, consult_id: int, status, advice: dict | None, max_no_shows: int, result: FollowUpResult) -> None:
    arbo = _arbo()
    with store.session_scope(engine) as session:
        consults = store.claim_consults(session, [ConsultStatus.GEBOEKT, ConsultStatus.GEHOUDEN], ids=[consult_id])
        if not consults:
            return
        consult = consults[0]
        case = store.get_case(session, consult.case_id)
        if status is arbo.BookingStatus.GEBOEKT:
            result.waiting += 1
        elif status is arbo.BookingStatus.GEHOUDEN:
            _held(session, consult, case, advice, result)
        elif status is arbo.BookingStatus.NO_SHOW:
            result.no_shows += 1
            store.set_consult_status(session, consult, ConsultStatus.NO_SHOW, outcome="niet verschenen")
            no_shows = store.count_no_shows(session, case.id, consult.purpose)
            store.record_audit(session, actor=ACTOR, action="consult.no_show", case_id=case.id, details={
                "consult_ref": consult.idempotency_key, "no_shows": no_shows})
            if case.closed_on is not None:
                return
            if rebook_allowed(no_shows, max_no_shows):
                _again(session, consult, case, "de vangnetter is niet verschenen; er wordt opnieuw geboekt", result)
            else:
                _escalate(session, consult, case, no_shows, result)
        else:  # cancelled by the arbodienst (or outside vangnet)
            store.set_consult_status(session, consult, ConsultStatus.GEANNULEERD_DOOR_ARBODIENST,
                                     outcome=f"geannuleerd door de arbodienst ({status.value})")
            store.record_audit(session, actor=ACTOR, action="consult.cancelled_by_arbodienst", case_id=case.id,
                               details={"consult_ref": consult.idempotency_key, "status": status.value})
            if case.closed_on is None:
                _again(session, consult, case, "de arbodienst heeft de afspraak geannuleerd; er wordt opnieuw geboekt",
                       result)


def _held(session, consult: Consult, case, advice: dict | None, result: FollowUpResult) -> None:
    if advice is None:
        if consult.status != ConsultStatus.GEHOUDEN.value:
            store.set_consult_status(session, consult, ConsultStatus.GEHOUDEN, outcome="consult gehouden; advies volgt")
            store.record_audit(session, actor=ACTOR, action="consult.held", case_id=case.id,
                               details={"consult_ref": consult.idempotency_key})
        result.waiting += 1
        return
    guarded = guard_advice(advice)  # from here on only the guarded part is used
    store.store_advice(session, consult, advice=guarded.kept, dropped_fields=len(guarded.dropped),
                       guard_version=guarded.version)
    store.set_consult_status(session, consult, ConsultStatus.AFGEROND, outcome="advies ontvangen")
    store.record_audit(session, actor=ACTOR, action="consult.advice_stored", case_id=case.id, details={
        "consult_ref": consult.idempotency_key, "dropped_count": len(guarded.dropped),
        "dropped_fields": sorted(set(guarded.dropped)), "guard_version": guarded.version,
        "reden": "medische gegevens zijn niet opgeslagen" if guarded.dropped else "niets weggelaten",
    })
    result.advice_stored.append(case.ref)


def _again(session, consult: Consult, case, why: str, result: FollowUpResult) -> None:
    new, _ = store.create_consult(session, case, purpose=consult.purpose, latest_date=consult.latest_date,
                                  attempt=consult.attempt + 1)
    store.record_audit(session, actor=ACTOR, action="consult.rebook", case_id=case.id, details={
        "consult_ref": new.idempotency_key, "attempt": new.attempt, "reden": why})
    result.rebooked.append(case.ref)


def _escalate(session, consult: Consult, case, no_shows: int, result: FollowUpResult) -> None:
    reason = (f"De vangnetter is {no_shows} keer niet verschenen bij de bedrijfsarts ({consult.purpose.value}); "
              "neem contact op met de vangnetter en plan het consult zelf.")
    store.flag_case(session, case, reason=reason)
    store.record_audit(session, actor=ACTOR, action="consult.escalated", case_id=case.id, details={
        "consult_ref": consult.idempotency_key, "no_shows": no_shows, "reden": reason})
    result.escalated.append(case.ref)


def _finish_steps(engine, today: date, result: FollowUpResult, limit: int = 500) -> None:
    """Mark the probleemanalyse done for consults whose advice is stored (also after a crash in between):
    on the consult date, so the plan van aanpak moves to 14 days after it."""
    from services.steps import StepError, mark_done

    with store.session_scope(engine) as session:
        todo = []
        for consult, case in store.finished_without_step_done(session, limit=limit):
            stored = store.advice_for(session, consult.id)
            day = stored.advice.get("datum_consult") if stored else None
            on = date.fromisoformat(day) if day else local_date(consult.slot_start)
            todo.append((case.ref, min(on, today)))
    for case_ref, on in todo:
        try:
            mark_done(engine, case_ref, Stap.PROBLEEMANALYSE, on=on, by=ACTOR, today=today)
        except StepError:
            continue
        result.steps_done.append(case_ref)


# -- cancel -----------------------------------------------------------------------------------------
def cancel_for_closed_cases(engine: Engine, client, *, limit: int = 500) -> CancelResult:
    """Cancel the live consults of closed cases (herstel, end of ZW, transfer, withdrawal)."""
    arbo = _arbo()
    result = CancelResult()
    with store.session_scope(engine) as session:
        rows = []
        for consult in store.claim_consults(session, LIVE, limit=limit, case_closed=True):
            case = store.get_case(session, consult.case_id)
            intent = store.booking_intent(session, consult) if consult.status == ConsultStatus.TE_BOEKEN else None
            rows.append((consult.id, consult.status, consult.booking_ref, consult.idempotency_key, case.ref, case.bsn,
                         dict(intent.payload) if intent else None))
    for consult_id, status, booking_ref, key, case_ref, bsn, intent in rows:
        try:
            if status == ConsultStatus.TE_BOEKEN and intent is not None:
                # A booking request may have reached the arbodienst before a crash: repeat it (same key)
                # to learn the booking, then cancel that.
                booking_ref = _repeat_intent(client, key, case_ref, bsn, intent)
            booking = client.cancel(booking_ref, idempotency_key=f"cancel:{key}") if booking_ref else None
        except arbo.ArbodienstUnavailable:
            result.unavailable = True
            break
        except arbo.ArbodienstRejected as exc:
            if exc.code == "booking-niet-annuleerbaar":
                result.not_cancellable += 1  # held or missed: the follow-up records it
                continue
            _refused(engine, consult_id, f"annuleren lukte niet ({exc.code or exc.status})", *LIVE)
            result.refused.append(case_ref)
            continue
        with store.session_scope(engine) as session:
            consult = session.get(Consult, consult_id)
            case = store.get_case(session, consult.case_id)
            store.set_consult_status(session, consult, ConsultStatus.GEANNULEERD,
                                     outcome=f"geannuleerd: de zaak is gesloten ({case.status.value})")
            pending = store.booking_intent(session, consult)
            if pending is not None:
                store.mark_outbox_done(session, pending)
            store.record_audit(session, actor=ACTOR, action="consult.cancelled", case_id=case.id, details={
                "consult_ref": key, "case_status": case.status.value, "booking_cancelled": booking is not None,
                "reden": "de zaak is gesloten; het consult is niet meer nodig"})
        result.cancelled.append(case_ref)
    return result


def _send(client, key: str, case_ref: str, bsn: str, request: dict):
    """POST the booking request; the Idempotency-Key is the consult's key."""
    return client.book(consult_ref=key, case_ref=case_ref, doel=request["doel"], slot_id=request["slot_id"],
                       uiterste_datum=date.fromisoformat(request["uiterste_datum"]), idempotency_key=key,
                       person=_person(bsn))


def _repeat_intent(client, key: str, case_ref: str, bsn: str, intent: dict) -> str | None:
    arbo = _arbo()
    try:
        booking = _send(client, key, case_ref, bsn, intent)
    except (arbo.ArbodienstSlotTaken, arbo.ArbodienstRejected):
        return None  # the request never became a booking
    return booking.booking_id

