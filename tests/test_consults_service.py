"""The consult lifecycle against the arbodienst simulator over real HTTP, on SQLite and PostgreSQL.

Calendar used (worked by hand): today is Monday 19 April 2027; the next working day is Tuesday 20 April;
Tuesday 27 April is Koningsdag. A case with D = 22 March 2027 has its probleemanalyse due on 3 May
(D + 42); a case with D = 4 January 2027 taken in today has it onverwijld.
"""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest
from sqlalchemy import select, text

import store
from flows.consults import arbodienst_client
from flows.settings import Settings
from ib_helpers import valid_bsn
from rules.wvp import wvp_calendar
from schemas.case import Besluit, CaseStatus, Stap
from services import consults as svc
from simulators.arbodienst import MEDICAL_FIELDS, ArbodienstSimulator
from simulators.harness import SimServer
from store.models import Base
from rules.booking import DUTCH_TIME

TODAY = date(2027, 4, 19)
NOW = datetime(2027, 4, 19, 12, 0, tzinfo=DUTCH_TIME)
D_OP_TIJD = date(2027, 3, 22)   # probleemanalyse 2027-05-03
D_OVERDUE = date(2027, 1, 4)    # probleemanalyse was due 2027-02-15: onverwijld
TOKEN = "arbo-test-token"


def at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=DUTCH_TIME)


def slot(slot_id: str, day: date, hour: int = 10) -> dict:
    return {"slot_id": slot_id, "start": at(day, hour)}


# Free slots: today (too soon), Koningsdag, a Saturday, then ordinary working days.
SLOTS = [
    slot("S-today", TODAY, 15),
    slot("S-koningsdag", date(2027, 4, 27), 9),
    slot("S-zaterdag", date(2027, 4, 24), 9),
    slot("S-0428-10", date(2027, 4, 28), 10),
    slot("S-0428-11", date(2027, 4, 28), 11),
    slot("S-0429-10", date(2027, 4, 29), 10),
    slot("S-0510-10", date(2027, 5, 10), 10),
    slot("S-0511-10", date(2027, 5, 11), 10),
]


class Arbo:
    """A running simulator with a connector pointed at it (built the way the flow builds it)."""

    def __init__(self, sim: ArbodienstSimulator, server: SimServer, client) -> None:
        self.sim, self.server, self.client = sim, server, client

    def only_booking(self) -> dict:
        bookings = self.sim.bookings
        assert len(bookings) == 1, bookings
        return bookings[0]


def start_arbo(monkeypatch, slots=None):
    sim = ArbodienstSimulator(token=TOKEN, slots=slots if slots is not None else SLOTS)
    server = SimServer(sim).start()
    monkeypatch.setenv("VANGNET_ARBODIENST_BASE_URL", sim.api_root)
    monkeypatch.setenv("VANGNET_ARBODIENST_TOKEN", TOKEN)
    monkeypatch.setenv("VANGNET_ARBODIENST_NAME", "arbo-test")
    client = arbodienst_client(Settings(_env_file=None))
    client.settings = client.settings.model_copy(update={"retry_backoff_seconds": 0.001})
    return Arbo(sim, server, client)


@pytest.fixture
def arbo(monkeypatch):
    a = start_arbo(monkeypatch)
    yield a
    a.client.close()
    a.server.stop()


_bsn = iter(range(700, 10_000))


def taken_over_case(engine, d: date = D_OP_TIJD, *, ontvangst: date = TODAY, besluit=Besluit.OVERNAME) -> str:
    with store.session_scope(engine) as s:
        case = store.create_case(s, gemeentecode="0518", bsn=valid_bsn(next(_bsn)), eerste_ziektedag=d,
                                 datum_ontvangst=ontvangst, opened_on=ontvangst, besluit=besluit,
                                 status=CaseStatus.OPEN)
        store.replace_steps(s, case, wvp_calendar(d, datum_ontvangst=ontvangst))
        return case.ref


def consults(engine, ref: str) -> list:
    with store.session_scope(engine) as s:
        return store.list_consults(s, case_id=store.parse_case_ref(ref))


def audit(engine, ref: str, action: str) -> list[dict]:
    with store.session_scope(engine) as s:
        return [e.details for e in store.audit_for_case(s, store.parse_case_ref(ref)) if e.action == action]


def plan_and_book(engine, arbo, today=TODAY, now=NOW) -> svc.BookingResult:
    svc.plan_consults(engine, today=today)
    return svc.book_pending(engine, arbo.client, today=today, now=now, limit=50)


# -- planning ---------------------------------------------------------------------------------------
def test_plan_only_open_taken_over_cases_without_consult(engine):
    ref = taken_over_case(engine)
    overdue = taken_over_case(engine, D_OVERDUE)
    undecided = taken_over_case(engine, besluit=None)
    closed = taken_over_case(engine)
    with store.session_scope(engine) as s:
        store.close_case(s, store.get_case(s, closed), on=TODAY, reason="herstel")
    result = svc.plan_consults(engine, today=TODAY)
    assert result.created == [ref, overdue] and result.onverwijld == [overdue]
    (c,) = consults(engine, ref)
    assert (c.status, c.latest_date, c.attempt, c.idempotency_key) == (
        "TE_BOEKEN", date(2027, 5, 3), 1, f"consult:{ref}:probleemanalyse:1")
    assert consults(engine, overdue)[0].latest_date is None  # onverwijld: first possible slot
    assert consults(engine, undecided) == [] and consults(engine, closed) == []
    assert svc.plan_consults(engine, today=TODAY).created == []  # a live consult: nothing new


# -- booking ----------------------------------------------------------------------------------------
def test_books_the_first_working_day_slot_before_the_deadline(engine, arbo):
    ref = taken_over_case(engine)
    result = plan_and_book(engine, arbo)
    assert result.booked == [ref] and result.late == []
    booking = arbo.only_booking()
    # not today, not Koningsdag, not the Saturday: Wednesday 28 April 10:00, before 3 May
    assert booking["slot_id"] == "S-0428-10" and booking["consult_ref"] == f"consult:{ref}:probleemanalyse:1"
    (c,) = consults(engine, ref)
    assert (c.status, c.booking_ref, c.slot_start) == ("GEBOEKT", booking["booking_id"], at(date(2027, 4, 28), 10))
    with store.session_scope(engine) as s:
        assert arbo.sim.received_bsn(booking["booking_id"]) == store.get_case(s, ref).bsn
    (booked,) = audit(engine, ref, "consult.booked")
    assert booked["on_time"] is True and booked["case_ref"] == ref and booked["latest_date"] == "2027-05-03"
    # a second run books nothing more
    assert plan_and_book(engine, arbo).booked == [] and arbo.sim.counts()["bookings"] == 1


def test_onverwijld_takes_the_first_possible_slot(engine, monkeypatch):
    arbo = start_arbo(monkeypatch, slots=[slot("S-0511", date(2027, 5, 11)), slot("S-0420-14", date(2027, 4, 20), 14),
                                          slot("S-0419", TODAY, 16)])
    try:
        ref = taken_over_case(engine, D_OVERDUE)
        result = plan_and_book(engine, arbo)
        assert result.booked == [ref] and result.late == []
        booking = arbo.only_booking()
        assert booking["slot_id"] == "S-0420-14"  # the next working day, first slot
        assert audit(engine, ref, "consult.booked")[0]["on_time"] is True
    finally:
        arbo.client.close()
        arbo.server.stop()


def test_no_slot_before_the_deadline_books_the_first_after_it_and_says_late(engine, monkeypatch):
    arbo = start_arbo(monkeypatch, slots=[slot("S-0511", date(2027, 5, 11)), slot("S-0510", date(2027, 5, 10))])
    try:
        ref = taken_over_case(engine)
        result = plan_and_book(engine, arbo)
        assert result.booked == [ref] and result.late == [ref]
        assert arbo.only_booking()["slot_id"] == "S-0510"
        assert audit(engine, ref, "consult.booked")[0]["on_time"] is False
    finally:
        arbo.client.close()
        arbo.server.stop()


def test_slot_taken_just_before_booking_takes_the_next_slot(engine, arbo):
    ref = taken_over_case(engine)
    real_book = arbo.client.book
    raced: list[str] = []

    def book_after_someone_else(**kwargs):
        if not raced:
            raced.append(kwargs["slot_id"])
            arbo.sim.take_slot(kwargs["slot_id"])  # another client wins the race
        return real_book(**kwargs)

    arbo.client.book = book_after_someone_else
    result = plan_and_book(engine, arbo)
    assert raced == ["S-0428-10"] and result.slot_taken == 1 and result.booked == [ref]
    assert arbo.only_booking()["slot_id"] == "S-0428-11"
    assert arbo.sim.counts()["conflicts"] == 1
    assert consults(engine, ref)[0].slot_start == at(date(2027, 4, 28), 11)


def test_two_cases_in_one_batch_get_different_slots(engine, arbo):
    first, second = taken_over_case(engine), taken_over_case(engine)
    assert plan_and_book(engine, arbo).booked == [first, second]
    assert [b["slot_id"] for b in arbo.sim.bookings] == ["S-0428-10", "S-0428-11"]
    assert arbo.sim.counts()["conflicts"] == 0


def test_crash_after_booking_before_our_commit_books_once(engine, arbo, monkeypatch):
    ref = taken_over_case(engine)
    real_done = store.mark_outbox_done

    def crash(session, item):
        raise SystemExit("worker killed after the booking, before the commit")

    monkeypatch.setattr(store, "mark_outbox_done", crash)
    with pytest.raises(SystemExit):
        plan_and_book(engine, arbo)
    assert arbo.sim.counts()["bookings"] == 1 and consults(engine, ref)[0].status == "TE_BOEKEN"
    monkeypatch.setattr(store, "mark_outbox_done", real_done)
    result = svc.book_pending(engine, arbo.client, today=TODAY, now=NOW, limit=50)  # the restarted worker
    assert result.booked == [ref]
    counts = arbo.sim.counts()
    assert counts["bookings"] == 1 and counts["replays"] == 1
    assert arbo.sim.requests_with_key(f"consult:{ref}:probleemanalyse:1") == 2
    assert consults(engine, ref)[0].booking_ref == arbo.only_booking()["booking_id"]


def test_lost_answer_is_retried_with_the_same_key_and_books_once(engine, arbo):
    ref = taken_over_case(engine)
    arbo.sim.set_faults(fail_after_commit_next=1)  # booked at the arbodienst, the answer is lost (503)
    assert plan_and_book(engine, arbo).booked == [ref]
    assert arbo.sim.counts()["bookings"] == 1 and arbo.sim.counts()["replays"] == 1


def test_unavailable_arbodienst_leaves_the_consult_to_book(engine, arbo):
    ref = taken_over_case(engine)
    arbo.server.set_faults(status_next=10, status_code=503)
    result = plan_and_book(engine, arbo)
    assert result.unavailable and result.booked == [] and consults(engine, ref)[0].status == "TE_BOEKEN"
    arbo.server.set_faults(status_next=0)
    assert svc.book_pending(engine, arbo.client, today=TODAY, now=NOW, limit=50).booked == [ref]


# -- follow-up ----------------------------------------------------------------------------------------
def test_no_show_rebooks_then_escalates_after_max_no_shows(engine, arbo):
    ref = taken_over_case(engine)
    plan_and_book(engine, arbo)
    first = arbo.only_booking()["booking_id"]
    arbo.sim.set_status(first, "NO_SHOW")
    result = svc.follow_up(engine, arbo.client, today=date(2027, 4, 29), max_no_shows=2)
    assert result.no_shows == 1 and result.rebooked == [ref] and result.escalated == []
    c1, c2 = consults(engine, ref)
    assert (c1.status, c2.status, c2.attempt, c2.latest_date) == ("NO_SHOW", "TE_BOEKEN", 2, date(2027, 5, 3))
    assert c2.idempotency_key == f"consult:{ref}:probleemanalyse:2"

    svc.book_pending(engine, arbo.client, today=date(2027, 4, 29), now=at(date(2027, 4, 29), 12), limit=50)
    second = arbo.sim.bookings[-1]
    assert second["consult_ref"] == c2.idempotency_key and second["slot_id"] == "S-0510-10"
    arbo.sim.set_status(second["booking_id"], "NO_SHOW")
    result = svc.follow_up(engine, arbo.client, today=date(2027, 5, 11), max_no_shows=2)
    assert result.escalated == [ref] and result.rebooked == []
    with store.session_scope(engine) as s:
        case = store.get_case(s, ref)
        assert case.status == CaseStatus.HANDMATIG and "2 keer niet verschenen" in case.reden
    assert [c.status for c in consults(engine, ref)] == ["NO_SHOW", "NO_SHOW"]
    assert audit(engine, ref, "consult.escalated")[0]["no_shows"] == 2
    assert svc.plan_consults(engine, today=date(2027, 5, 11)).created == []  # a person decides now


def test_cancelled_by_the_arbodienst_is_booked_again(engine, arbo):
    ref = taken_over_case(engine)
    plan_and_book(engine, arbo)
    arbo.sim.set_status(arbo.only_booking()["booking_id"], "GEANNULEERD_DOOR_ARBODIENST")
    result = svc.follow_up(engine, arbo.client, today=TODAY, max_no_shows=2)
    assert result.rebooked == [ref]
    assert svc.book_pending(engine, arbo.client, today=TODAY, now=NOW, limit=50).booked == [ref]
    assert [c.status for c in consults(engine, ref)] == ["GEANNULEERD_DOOR_ARBODIENST", "GEBOEKT"]
    assert arbo.sim.bookings[-1]["slot_id"] == "S-0428-11"  # the old slot stays occupied at the arbodienst


def test_booked_consult_is_left_alone_until_something_happens(engine, arbo):
    ref = taken_over_case(engine)
    plan_and_book(engine, arbo)
    result = svc.follow_up(engine, arbo.client, today=TODAY, max_no_shows=2)
    assert result.checked == 1 and result.waiting == 1 and consults(engine, ref)[0].status == "GEBOEKT"


def _all_rows_text(engine) -> str:
    with engine.connect() as conn:
        return "\n".join(str(tuple(row)) for table in Base.metadata.sorted_tables
                         for row in conn.execute(select(table)))


def test_advice_is_stored_without_medical_data_and_the_step_is_done(engine, arbo):
    ref = taken_over_case(engine)
    plan_and_book(engine, arbo)
    booking_id = arbo.only_booking()["booking_id"]
    arbo.sim.hold_all_due(at(date(2027, 4, 28), 18))
    sent = arbo.sim.advice_for(booking_id)
    medical_texts = [sent["diagnose"], sent["oorzaak"], sent["behandeling"], *sent["medicatie"],
                     sent["toelichting_arts"]]

    result = svc.follow_up(engine, arbo.client, today=date(2027, 4, 29), max_no_shows=2)
    assert result.advice_stored == [ref] and result.steps_done == [ref]

    with engine.connect() as conn:  # the row as the database holds it, every column as text
        row = conn.execute(text("SELECT id, consult_id, received_at, CAST(advice AS TEXT) AS advice, dropped_fields, "
                                "guard_version FROM consult_advice")).mappings().one()
    advice = json.loads(row["advice"])
    row_text = " ".join(str(v) for v in row.values())
    for name in MEDICAL_FIELDS:
        assert name not in row_text
    for value in medical_texts:
        assert value not in row_text
        assert value not in _all_rows_text(engine)  # nor anywhere else: audit, outbox, consults
    assert advice["functionele_mogelijkheden"]["werktijden"] == "beperkt" and advice["arbeidsongeschiktheid_pct"] == 60
    assert row["dropped_fields"] == 5 and row["guard_version"]

    (stored,) = audit(engine, ref, "consult.advice_stored")
    assert stored["dropped_count"] == 5 and stored["dropped_fields"] == sorted(MEDICAL_FIELDS)
    assert [c.status for c in consults(engine, ref)] == ["AFGEROND"]
    with store.session_scope(engine) as s:
        steps = {st.stap: st for st in store.steps_for(s, store.get_case(s, ref))}
    assert steps[Stap.PROBLEEMANALYSE].done_on == date(2027, 4, 28)
    assert steps[Stap.PLAN_VAN_AANPAK].datum == date(2027, 5, 12)  # consult date + 14
    # nothing more to do, and no second step.done
    svc.follow_up(engine, arbo.client, today=date(2027, 4, 30), max_no_shows=2)
    assert len(audit(engine, ref, "step.done")) == 1


def test_held_without_advice_yet_waits_then_stores(engine, arbo, monkeypatch):
    ref = taken_over_case(engine)
    plan_and_book(engine, arbo)
    arbo.sim.hold_all_due(at(date(2027, 4, 28), 18))
    real = arbo.client.get_advice
    monkeypatch.setattr(arbo.client, "get_advice", lambda booking_id: None)
    result = svc.follow_up(engine, arbo.client, today=date(2027, 4, 29), max_no_shows=2)
    assert result.waiting == 1 and consults(engine, ref)[0].status == "GEHOUDEN"
    monkeypatch.setattr(arbo.client, "get_advice", real)
    assert svc.follow_up(engine, arbo.client, today=date(2027, 4, 30), max_no_shows=2).advice_stored == [ref]


def test_step_is_marked_done_after_a_crash_between_advice_and_step(engine, arbo, monkeypatch):
    ref = taken_over_case(engine)
    plan_and_book(engine, arbo)
    arbo.sim.hold_all_due(at(date(2027, 4, 28), 18))
    import services.steps

    def crash(*args, **kwargs):
        raise SystemExit("killed after the advice was stored")

    monkeypatch.setattr(services.steps, "mark_done", crash)
    with pytest.raises(SystemExit):
        svc.follow_up(engine, arbo.client, today=date(2027, 4, 29), max_no_shows=2)
    monkeypatch.undo()
    result = svc.follow_up(engine, arbo.client, today=date(2027, 4, 29), max_no_shows=2)
    assert result.steps_done == [ref] and result.advice_stored == []


# -- cancellation -------------------------------------------------------------------------------------
def test_live_consults_of_a_case_closed_by_betermelding_are_cancelled(engine, arbo):
    booked_ref = taken_over_case(engine)
    plan_and_book(engine, arbo)
    pending_ref = taken_over_case(engine)
    svc.plan_consults(engine, today=TODAY)  # planned, not booked yet
    with store.session_scope(engine) as s:
        for ref in (booked_ref, pending_ref):
            store.close_case(s, store.get_case(s, ref), on=date(2027, 4, 22), reason="herstel gemeld per 2027-04-22")
    result = svc.cancel_for_closed_cases(engine, arbo.client)
    assert result.cancelled == [booked_ref, pending_ref]
    assert arbo.only_booking()["status"] == "GEANNULEERD"
    assert [c.status for c in consults(engine, booked_ref) + consults(engine, pending_ref)] == ["GEANNULEERD"] * 2
    assert arbo.sim.requests_with_key(f"cancel:consult:{booked_ref}:probleemanalyse:1") == 1
    assert audit(engine, booked_ref, "consult.cancelled")[0]["booking_cancelled"] is True
    assert svc.cancel_for_closed_cases(engine, arbo.client).cancelled == []  # nothing twice
    assert svc.book_pending(engine, arbo.client, today=TODAY, now=NOW, limit=50).claimed == 0


def test_cancel_after_a_crash_in_doubt_cancels_the_booking_that_was_made(engine, arbo, monkeypatch):
    ref = taken_over_case(engine)
    monkeypatch.setattr(store, "mark_consult_booked", lambda *a, **k: (_ for _ in ()).throw(SystemExit("killed")))
    with pytest.raises(SystemExit):
        plan_and_book(engine, arbo)
    monkeypatch.undo()
    with store.session_scope(engine) as s:
        store.close_case(s, store.get_case(s, ref), on=date(2027, 4, 22), reason="intrekking")
    assert svc.cancel_for_closed_cases(engine, arbo.client).cancelled == [ref]
    assert arbo.only_booking()["status"] == "GEANNULEERD" and arbo.sim.counts()["bookings"] == 1


def test_consult_list_shows_no_bsn(engine, arbo, monkeypatch, db_url):
    import typer
    from typer.testing import CliRunner

    from flows.cli_consults import consults_app

    app = typer.Typer()
    app.add_typer(consults_app, name="consults")  # as the lead registers it

    ref = taken_over_case(engine)
    plan_and_book(engine, arbo)
    monkeypatch.setenv("VANGNET_DATABASE_URL", db_url)
    out = CliRunner().invoke(app, ["consults", "list"])
    assert out.exit_code == 0, out.output
    assert ref in out.output and "GEBOEKT" in out.output and "2027-04-28 10:00" in out.output
    with store.session_scope(engine) as s:
        assert store.get_case(s, ref).bsn not in out.output


# -- refusals and races -------------------------------------------------------------------------------
def test_unknown_booking_at_the_arbodienst_goes_to_a_person(engine, arbo):
    ref = taken_over_case(engine)
    svc.plan_consults(engine, today=TODAY)
    with store.session_scope(engine) as s:
        (c,) = store.list_consults(s)
        store.mark_consult_booked(s, c, booking_ref="AB-999999", slot_start=at(date(2027, 4, 28), 10))
    result = svc.follow_up(engine, arbo.client, today=TODAY, max_no_shows=2)
    assert result.refused == [ref]
    (c,) = consults(engine, ref)
    assert c.status == "CONTROLEREN" and "booking-onbekend" in c.outcome
    assert svc.follow_up(engine, arbo.client, today=TODAY, max_no_shows=2).checked == 0


def test_a_refused_token_stops_the_run_and_books_nothing(engine, arbo):
    from connectors.arbodienst import ArbodienstAuthError

    ref = taken_over_case(engine)
    arbo.sim.token = "another-token"
    with pytest.raises(ArbodienstAuthError):
        plan_and_book(engine, arbo)
    assert consults(engine, ref)[0].status == "TE_BOEKEN" and arbo.sim.counts()["bookings"] == 0


def test_booking_intent_is_compare_and_set(engine):
    taken_over_case(engine)
    svc.plan_consults(engine, today=TODAY)
    mine, theirs, next_slot = ({"slot_id": s, "doel": "probleemanalyse"} for s in ("S-1", "S-2", "S-3"))
    with store.session_scope(engine) as s:
        (c,) = store.list_consults(s)
        assert store.record_booking_intent(s, c, theirs) == theirs     # another worker wrote first
        assert store.record_booking_intent(s, c, mine) == theirs       # so we send theirs
        assert store.record_booking_intent(s, c, next_slot, replacing=theirs) == next_slot  # after its 409
        assert store.booking_intent(s, c).payload == next_slot
