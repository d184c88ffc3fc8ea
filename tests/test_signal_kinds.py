"""Every signal kind through real intake (inbox -> process_inbox_batch -> apply_signal) on SQLite and
PostgreSQL: what it does to the case, the park-then-apply path, and out-of-order convergence.

Expected dates are worked out by hand from domain.md §5 (D + 7n days), not computed by the code under test.
"""

from __future__ import annotations

import itertools
from datetime import date, datetime, timezone

from hypothesis import HealthCheck, given, settings, strategies as st
from lxml import etree
from sqlalchemy import func, select

import store
from ib_helpers import valid_bsn
from mappings.ib_signal import fields_to_signal_element, signal_element_to_fields
from rules.signals import check_signal
from schemas.case import CaseStatus, Stap
from services.intake import process_inbox_batch
from store.models import AuditEvent, Case, InboxMessage, InboxStatus, SignalRow, SignalStatus

NOW = datetime(2027, 3, 1, 11, 0, tzinfo=timezone.utc)
EARLY = datetime(2027, 1, 20, 11, 0, tzinfo=timezone.utc)
G = "0518"
_volgnummer = itertools.count(1)
_bsn_seq = itertools.count(100)


def new_bsn() -> str:
    """A fresh valid BSN, so examples on a shared database never meet."""
    return valid_bsn(next(_bsn_seq))


def rec(bericht_id: str, soort: str, bsn: str, **fields) -> dict:
    return {"bericht_id": bericht_id, "volgnummer": next(_volgnummer), "soort": soort, "bsn": bsn,
            "gemeentecode": G, **fields}


def zm(bericht_id: str, bsn: str, d: str = "2027-01-04", **fields) -> dict:
    return rec(bericht_id, "ZIEKMELDING_VANGNETTER", bsn, eerste_ziektedag=d, wettelijke_grondslag="ZW_38_2",
               **{"datum_melding": "2027-01-14", **fields})


def feed(engine, *records: dict, at: datetime = NOW):
    """Put the records in the inbox (as IB XML, in this order) and run one intake batch."""
    with store.session_scope(engine) as s:
        for r in records:
            store.add_raw(s, source="ib", payload=etree.tostring(fields_to_signal_element(r)), received_at=at,
                          message_key=r["bericht_id"])
    result = process_inbox_batch(engine, source="ib", limit=1000, today=at.date())
    assert result.quarantined == 0
    return result


def cases_of(engine, bsn: str) -> list[dict]:
    with store.session_scope(engine) as s:
        return [{"id": c.id, "ref": c.ref, "status": c.status, "d": c.eerste_ziektedag, "melding": c.datum_melding,
                 "closed_on": c.closed_on, "closed_reason": c.closed_reason, "reden": c.reden,
                 "steps": {st.stap: (st.datum, st.wettelijke_datum, st.onverwijld) for st in store.steps_for(s, c)}}
                for c in store.cases_for_person(s, G, bsn)]


def only_case(engine, bsn: str) -> dict:
    cases = cases_of(engine, bsn)
    assert len(cases) == 1, cases
    return cases[0]


def status_of(engine, bericht_id: str) -> SignalStatus:
    with store.session_scope(engine) as s:
        return store.get_signal(s, bericht_id).status


def actions(engine, case_id: int) -> list[str]:
    with store.session_scope(engine) as s:
        return [e.action for e in store.audit_for_case(s, case_id)]


# --- ZIEKMELDING -------------------------------------------------------------------------------


def test_ziekmelding_opens_one_case_and_a_repeat_links(engine):
    bsn = new_bsn()
    result = feed(engine, zm("ZM-1", bsn), zm("ZM-2", bsn))
    case = only_case(engine, bsn)
    assert result.cases_created == 1 and case["status"] is CaseStatus.OPEN and case["d"] == date(2027, 1, 4)
    assert case["steps"][Stap.PROBLEEMANALYSE][1] == date(2027, 2, 15)  # D + 42
    assert status_of(engine, "ZM-1") is status_of(engine, "ZM-2") is SignalStatus.VERWERKT


def test_new_illness_within_four_weeks_of_recovery_takes_d_of_the_first_period(engine):
    bsn = new_bsn()
    feed(engine, zm("NI-1", bsn), rec("NI-B", "BETERMELDING", bsn, datum_herstel="2027-02-01"))
    at = datetime(2027, 3, 5, 9, 0, tzinfo=timezone.utc)
    feed(engine, zm("NI-2", bsn, d="2027-02-22", datum_melding="2027-02-25"), at=at)  # 21 days after recovery
    first, second = cases_of(engine, bsn)
    assert first["status"] is CaseStatus.GESLOTEN and first["closed_on"] == date(2027, 2, 1)
    assert second["status"] is CaseStatus.OPEN and second["d"] == date(2027, 1, 4)
    assert second["steps"][Stap.HERIJKING_1][1] == date(2027, 7, 5)  # week 26 of the first period
    pa = second["steps"][Stap.PROBLEEMANALYSE]
    assert pa == (date(2027, 3, 5), date(2027, 2, 15), True)  # legal D+42 passed: due at intake
    with store.session_scope(engine) as s:
        linked = [e for e in store.audit_for_case(s, second["id"]) if e.action == "case.samengeteld"]
    assert len(linked) == 1 and linked[0].details["vorige_zaken"] == [first["ref"]]


def test_new_illness_four_weeks_or_more_after_recovery_starts_a_new_d(engine):
    bsn = new_bsn()
    feed(engine, zm("NJ-1", bsn), rec("NJ-B", "BETERMELDING", bsn, datum_herstel="2027-02-01"))
    at = datetime(2027, 3, 5, 9, 0, tzinfo=timezone.utc)
    feed(engine, zm("NJ-2", bsn, d="2027-03-01", datum_melding="2027-03-02"), at=at)  # 28 days
    _, second = cases_of(engine, bsn)
    assert second["d"] == date(2027, 3, 1) and second["steps"][Stap.PROBLEEMANALYSE][1] == date(2027, 4, 12)


def test_late_repeat_for_a_closed_period_opens_nothing(engine):
    bsn = new_bsn()
    feed(engine, zm("LR-1", bsn), rec("LR-B", "BETERMELDING", bsn, datum_herstel="2027-02-10"))
    feed(engine, zm("LR-2", bsn, d="2027-01-05"))
    case = only_case(engine, bsn)
    assert case["status"] is CaseStatus.GESLOTEN and status_of(engine, "LR-2") is SignalStatus.VERWERKT


# --- BETERMELDING ------------------------------------------------------------------------------


def test_betermelding_closes_the_case(engine):
    bsn = new_bsn()
    feed(engine, zm("BM-1", bsn), rec("BM-B", "BETERMELDING", bsn, datum_herstel="2027-02-10"))
    case = only_case(engine, bsn)
    assert (case["status"], case["closed_on"]) == (CaseStatus.GESLOTEN, date(2027, 2, 10))
    assert case["closed_reason"] == "herstel gemeld per 2027-02-10"
    with store.session_scope(engine) as s:
        closed = [e for e in store.audit_for_case(s, case["id"]) if e.action == "case.closed"][0]
    assert closed.actor == "vangnet/intake" and closed.details["bericht_id"] == "BM-B"
    assert closed.details["closed_on"] == {"oud": None, "nieuw": "2027-02-10"}


def test_betermelding_before_its_ziekmelding_closes_the_case_once_it_exists(engine):
    bsn = new_bsn()
    first = feed(engine, rec("BO-B", "BETERMELDING", bsn, datum_herstel="2027-02-10"), at=EARLY)
    assert first.parked == 1 and cases_of(engine, bsn) == []
    assert status_of(engine, "BO-B") is SignalStatus.GEPARKEERD
    feed(engine, zm("BO-1", bsn))
    case = only_case(engine, bsn)
    assert (case["status"], case["closed_on"]) == (CaseStatus.GESLOTEN, date(2027, 2, 10))
    assert status_of(engine, "BO-B") is SignalStatus.VERWERKT


def test_betermelding_of_an_earlier_illness_leaves_the_new_case_open(engine):
    bsn = new_bsn()
    feed(engine, rec("BE-B", "BETERMELDING", bsn, datum_herstel="2026-12-01"), at=EARLY)
    feed(engine, zm("BE-1", bsn))
    case = only_case(engine, bsn)
    assert case["status"] is CaseStatus.OPEN and case["closed_on"] is None
    assert "signal.noted" in actions(engine, case["id"])
    assert status_of(engine, "BE-B") is SignalStatus.VERWERKT


# --- EINDE_ZW, EZWB_UITSLAG, VERHUIZING ----------------------------------------------------------


def test_einde_zw_closes_with_reason_and_date_and_waits_when_early(engine):
    bsn, early = new_bsn(), new_bsn()
    feed(engine, zm("EZ-1", bsn), rec("EZ-E", "EINDE_ZW", bsn, datum_einde_zw="2027-02-26", reden_einde="OVERLIJDEN"))
    feed(engine, rec("EZ-E2", "EINDE_ZW", early, datum_einde_zw="2027-02-26", reden_einde="WIA"), at=EARLY)
    assert status_of(engine, "EZ-E2") is SignalStatus.GEPARKEERD
    feed(engine, zm("EZ-2", early))
    for person, reden in ((bsn, "OVERLIJDEN"), (early, "WIA")):
        case = only_case(engine, person)
        assert (case["status"], case["closed_on"]) == (CaseStatus.GESLOTEN, date(2027, 2, 26))
        assert reden in case["closed_reason"] and "2027-02-26" in case["closed_reason"]


def test_ezwb_zw_loopt_door_only_notes(engine):
    bsn = new_bsn()
    feed(engine, zm("EW-1", bsn), rec("EW-U", "EZWB_UITSLAG", bsn, ezwb_uitkomst="ZW_LOOPT_DOOR"))
    case = only_case(engine, bsn)
    assert case["status"] is CaseStatus.OPEN and "signal.noted" in actions(engine, case["id"])


def test_ezwb_zw_eindigt_closes_and_waits_when_early(engine):
    bsn, early = new_bsn(), new_bsn()
    uitslag = {"ezwb_uitkomst": "ZW_EINDIGT", "ezwb_datum": "2027-02-28"}
    feed(engine, zm("EE-1", bsn), rec("EE-U", "EZWB_UITSLAG", bsn, **uitslag))
    feed(engine, rec("EE-U2", "EZWB_UITSLAG", early, **uitslag), at=EARLY)
    assert status_of(engine, "EE-U2") is SignalStatus.GEPARKEERD
    feed(engine, zm("EE-2", early))
    for person in (bsn, early):
        case = only_case(engine, person)
        assert (case["status"], case["closed_on"]) == (CaseStatus.GESLOTEN, date(2027, 2, 28))
        assert case["closed_reason"] == "EZWb: ZW eindigt per 2027-02-28"


def test_ezwb_zw_eindigt_without_date_goes_to_a_person(engine):
    bsn = new_bsn()
    feed(engine, zm("EN-1", bsn), rec("EN-U", "EZWB_UITSLAG", bsn, ezwb_uitkomst="ZW_EINDIGT"))
    case = only_case(engine, bsn)
    assert case["status"] is CaseStatus.HANDMATIG and case["closed_on"] is None and "einddatum" in case["reden"]


def test_verhuizing_transfers_to_another_gemeente_and_waits_when_early(engine):
    bsn, early, stays = new_bsn(), new_bsn(), new_bsn()
    feed(engine, zm("VH-1", bsn), rec("VH-V", "VERHUIZING", bsn, nieuwe_gemeentecode="0363"),
         zm("VH-3", stays), rec("VH-V3", "VERHUIZING", stays, nieuwe_gemeentecode=G))
    feed(engine, rec("VH-V2", "VERHUIZING", early, nieuwe_gemeentecode="0363"), at=EARLY)
    assert status_of(engine, "VH-V2") is SignalStatus.GEPARKEERD
    feed(engine, zm("VH-2", early))
    for person in (bsn, early):
        case = only_case(engine, person)
        assert (case["status"], case["closed_on"]) == (CaseStatus.OVERGEDRAGEN, date(2027, 3, 1))
        assert "0363" in case["closed_reason"]
    assert only_case(engine, stays)["status"] is CaseStatus.OPEN


# --- CORRECTIE ---------------------------------------------------------------------------------


def test_correction_of_eerste_ziektedag_moves_every_wvp_date(engine):
    bsn = new_bsn()
    feed(engine, zm("CO-1", bsn, datum_melding="2027-01-14"), at=EARLY)
    feed(engine, rec("CO-C", "CORRECTIE", bsn, verwijst_naar="CO-1", eerste_ziektedag="2027-01-18",
                     datum_melding="2027-01-19", wettelijke_grondslag="ZW_38_2"), at=EARLY)
    case = only_case(engine, bsn)
    assert (case["d"], case["melding"]) == (date(2027, 1, 18), date(2027, 1, 19))
    legal = {stap: dates[1] for stap, dates in case["steps"].items()}
    assert legal == {
        Stap.RIV_WERKGEVER: date(2027, 1, 20),  # asked for at intake (EARLY), not moved by D
        Stap.PROBLEEMANALYSE: date(2027, 3, 1),  # D + 42
        Stap.PLAN_VAN_AANPAK: date(2027, 3, 15),  # + 14
        Stap.HERIJKING_1: date(2027, 7, 19),  # D + 182
        Stap.EZWB_VENSTER: date(2027, 11, 22),  # D + 308
        Stap.HERIJKING_2: date(2028, 1, 17),  # D + 364
        Stap.HERIJKING_3: date(2028, 7, 17),  # D + 546
        Stap.UWV_WIA_BRIEF: date(2028, 10, 2),  # D + 623
        Stap.RIV: date(2028, 10, 16),  # D + 637
        Stap.WIA_AANVRAAG: date(2028, 10, 30),  # D + 651
        Stap.EINDE_WACHTTIJD: date(2029, 1, 15),  # D + 728
    }
    assert not any(onverwijld for _, _, onverwijld in case["steps"].values())
    assert status_of(engine, "CO-1") is SignalStatus.GECORRIGEERD
    with store.session_scope(engine) as s:
        corrected = [e for e in store.audit_for_case(s, case["id"]) if e.action == "case.corrected"][0]
    assert corrected.details["feiten"]["eerste_ziektedag"] == {"oud": "2027-01-04", "nieuw": "2027-01-18"}
    assert corrected.details["termijnen"]["probleemanalyse"] == {"oud": "2027-02-15", "nieuw": "2027-03-01"}


def test_correction_before_its_ziekmelding_waits_then_applies(engine):
    bsn = new_bsn()
    feed(engine, rec("CB-C", "CORRECTIE", bsn, verwijst_naar="CB-1", eerste_ziektedag="2027-01-11",
                     datum_melding="2027-01-14"), at=EARLY)
    assert status_of(engine, "CB-C") is SignalStatus.GEPARKEERD
    feed(engine, zm("CB-1", bsn), at=EARLY)
    case = only_case(engine, bsn)
    assert case["d"] == date(2027, 1, 11) and case["steps"][Stap.PROBLEEMANALYSE][1] == date(2027, 2, 22)


def test_a_signal_parked_by_another_worker_after_its_cause_was_applied_is_swept_up(engine):
    """On PostgreSQL two workers can interleave: worker A applies ziekmelding SW-1 and finds nothing parked
    for it, then worker B (whose batch began earlier) parks correction SW-C that waits for SW-1. The sweep
    at the end of a drained batch applies it; nothing stays parked for ever."""
    bsn = new_bsn()
    feed(engine, zm("SW-1", bsn), at=EARLY)
    correction = rec("SW-C", "CORRECTIE", bsn, verwijst_naar="SW-1", eerste_ziektedag="2027-01-11",
                     datum_melding="2027-01-14")
    with store.session_scope(engine) as s:  # worker B's outcome, committed after A's replay check
        message, _ = store.add_raw(s, source="ib", payload=etree.tostring(fields_to_signal_element(correction)),
                                   received_at=EARLY, message_key="SW-C")
        store.mark_inbox(s, message, InboxStatus.PROCESSED)
        signal = check_signal(signal_element_to_fields(fields_to_signal_element(correction)), today=EARLY.date())
        row, _ = store.add_signal(s, signal, inbox_id=message.id, received_at=EARLY)
        store.mark_signal(s, row, SignalStatus.GEPARKEERD)
    assert status_of(engine, "SW-C") is SignalStatus.GEPARKEERD

    assert process_inbox_batch(engine, source="ib", limit=10, today=EARLY.date()).claimed == 0
    assert status_of(engine, "SW-C") is SignalStatus.VERWERKT
    assert only_case(engine, bsn)["d"] == date(2027, 1, 11)


def test_correction_with_another_bsn_goes_to_a_person_and_moves_nothing(engine):
    bsn, other = new_bsn(), new_bsn()
    feed(engine, zm("CX-1", bsn), rec("CX-C", "CORRECTIE", other, verwijst_naar="CX-1",
                                      eerste_ziektedag="2027-01-11", datum_melding="2027-01-14"))
    case = only_case(engine, bsn)
    assert case["status"] is CaseStatus.HANDMATIG and case["d"] == date(2027, 1, 4) and "BSN" in case["reden"]
    assert cases_of(engine, other) == []
    feed(engine, rec("CX-B", "BETERMELDING", bsn, datum_herstel="2027-02-10"))  # HANDMATIG stays for the person
    case = only_case(engine, bsn)
    assert (case["status"], case["closed_on"]) == (CaseStatus.HANDMATIG, date(2027, 2, 10))
    with store.session_scope(engine) as s:
        details = [e.details for e in s.scalars(select(AuditEvent))]
    assert bsn not in repr(details) and other not in repr(details)


def test_correction_of_a_betermelding_moves_the_closing_date(engine):
    bsn = new_bsn()
    feed(engine, zm("CM-1", bsn), rec("CM-B", "BETERMELDING", bsn, datum_herstel="2027-02-10"),
         rec("CM-C", "CORRECTIE", bsn, verwijst_naar="CM-B", datum_herstel="2027-02-17"))
    case = only_case(engine, bsn)
    assert (case["status"], case["closed_on"]) == (CaseStatus.GESLOTEN, date(2027, 2, 17))
    assert status_of(engine, "CM-B") is SignalStatus.GECORRIGEERD


# --- INTREKKING --------------------------------------------------------------------------------


def test_intrekking_of_the_only_ziekmelding_withdraws_the_case(engine):
    bsn = new_bsn()
    feed(engine, zm("IN-1", bsn), rec("IN-I", "INTREKKING", bsn, verwijst_naar="IN-1"))
    case = only_case(engine, bsn)
    assert (case["status"], case["closed_on"]) == (CaseStatus.INGETROKKEN, date(2027, 3, 1))
    assert "IN-1" in case["closed_reason"] and status_of(engine, "IN-1") is SignalStatus.INGETROKKEN


def test_intrekking_before_its_ziekmelding(engine):
    bsn = new_bsn()
    first = feed(engine, rec("IB-I", "INTREKKING", bsn, verwijst_naar="IB-1"), at=EARLY)
    assert first.parked == 1
    feed(engine, zm("IB-1", bsn))
    case = only_case(engine, bsn)
    assert case["status"] is CaseStatus.INGETROKKEN and case["closed_on"] is not None
    assert status_of(engine, "IB-I") is SignalStatus.VERWERKT


def test_intrekking_of_one_of_two_ziekmeldingen_keeps_the_case(engine):
    bsn = new_bsn()
    feed(engine, zm("I2-1", bsn), zm("I2-2", bsn), rec("I2-I", "INTREKKING", bsn, verwijst_naar="I2-1"))
    assert only_case(engine, bsn)["status"] is CaseStatus.OPEN
    assert status_of(engine, "I2-1") is SignalStatus.INGETROKKEN
    feed(engine, rec("I2-J", "INTREKKING", bsn, verwijst_naar="I2-2"))
    assert only_case(engine, bsn)["status"] is CaseStatus.INGETROKKEN


def test_withdrawn_betermelding_reopens_the_case_it_closed_in_any_order(engine):
    natural, reversed_ = new_bsn(), new_bsn()
    feed(engine, zm("WB-1", natural), rec("WB-B", "BETERMELDING", natural, datum_herstel="2027-02-10"),
         rec("WB-I", "INTREKKING", natural, verwijst_naar="WB-B"))
    feed(engine, rec("WR-I", "INTREKKING", reversed_, verwijst_naar="WR-B"),
         rec("WR-B", "BETERMELDING", reversed_, datum_herstel="2027-02-10"), zm("WR-1", reversed_))
    for person in (natural, reversed_):
        case = only_case(engine, person)
        assert (case["status"], case["closed_on"]) == (CaseStatus.OPEN, None)
    assert "case.reopened" in actions(engine, only_case(engine, natural)["id"])
    assert status_of(engine, "WR-B") is SignalStatus.INGETROKKEN


def test_withdrawn_correction_goes_to_a_person(engine):
    bsn = new_bsn()
    feed(engine, zm("WC-1", bsn), rec("WC-C", "CORRECTIE", bsn, verwijst_naar="WC-1", eerste_ziektedag="2027-01-11",
                                      datum_melding="2027-01-14"),
         rec("WC-I", "INTREKKING", bsn, verwijst_naar="WC-C"))
    case = only_case(engine, bsn)
    assert case["status"] is CaseStatus.HANDMATIG and "WC-C" in case["reden"]


# --- out of order, never a second active case ---------------------------------------------------


def _person_state(engine, bsn: str, prefix: str) -> tuple:
    with store.session_scope(engine) as s:
        cases = store.cases_for_person(s, G, bsn)
        signals = s.scalars(select(SignalRow).where(SignalRow.bsn == bsn)).all()
        return (
            [(c.status, c.eerste_ziektedag, c.datum_melding, c.closed_on,
              (c.closed_reason or "").replace(prefix, ""),
              [(st.stap, st.datum, st.wettelijke_datum, st.onverwijld) for st in store.steps_for(s, c)])
             for c in cases],
            sorted((r.bericht_id.replace(prefix, ""), r.status) for r in signals),
        )


_example = itertools.count()


def _scenario(prefix: str):
    a, b = new_bsn(), new_bsn()
    records = [
        zm(f"{prefix}Z", a),
        rec(f"{prefix}C", "CORRECTIE", a, verwijst_naar=f"{prefix}Z", eerste_ziektedag="2027-01-11",
            datum_melding="2027-01-14", wettelijke_grondslag="ZW_38_2"),
        rec(f"{prefix}B", "BETERMELDING", a, datum_herstel="2027-02-20"),
        zm(f"{prefix}Z2", b),
        rec(f"{prefix}I", "INTREKKING", b, verwijst_naar=f"{prefix}Z2"),
    ]
    return a, b, records


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(order=st.permutations(range(5)))
def test_any_order_converges_to_the_natural_result(engine, order):
    n = next(_example)
    nat_a, nat_b, natural = _scenario(f"N{n}-")
    per_a, per_b, records = _scenario(f"P{n}-")
    feed(engine, *natural)
    feed(engine, *[records[i] for i in order])

    state_a = _person_state(engine, per_a, f"P{n}-")
    assert state_a == _person_state(engine, nat_a, f"N{n}-")
    assert _person_state(engine, per_b, f"P{n}-") == _person_state(engine, nat_b, f"N{n}-")
    # The natural result itself, by hand: A corrected to D = 2027-01-11 and recovered; B withdrawn.
    [(status, d, _, closed_on, _, steps)] = state_a[0]
    assert (status, d, closed_on) == (CaseStatus.GESLOTEN, date(2027, 1, 11), date(2027, 2, 20))
    assert steps[1][:3] == (Stap.PROBLEEMANALYSE, date(2027, 3, 1), date(2027, 2, 22))  # D+42 passed at intake
    [(status_b, *_)] = _person_state(engine, per_b, f"P{n}-")[0]
    assert status_b is CaseStatus.INGETROKKEN
    assert all(s is not SignalStatus.GEPARKEERD for _, s in state_a[1])


_KINDS = ["Z", "Z_LATER", "B", "B_EARLY", "E", "U", "V", "C", "I"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kinds=st.lists(st.sampled_from(_KINDS), min_size=1, max_size=7))
def test_never_a_second_active_case_and_nothing_lost(engine, kinds):
    n, bsn = next(_example), new_bsn()
    made: list[str] = []
    records = []
    for i, kind in enumerate(kinds):
        bid = f"R{n}-{i}"
        ref = made[-1] if made else f"R{n}-missing"
        records.append({
            "Z": lambda: zm(bid, bsn),
            "Z_LATER": lambda: zm(bid, bsn, d="2027-02-15", datum_melding="2027-02-16"),
            "B": lambda: rec(bid, "BETERMELDING", bsn, datum_herstel="2027-02-01"),
            "B_EARLY": lambda: rec(bid, "BETERMELDING", bsn, datum_herstel="2026-12-01"),
            "E": lambda: rec(bid, "EINDE_ZW", bsn, datum_einde_zw="2027-02-20", reden_einde="MAX_DUUR"),
            "U": lambda: rec(bid, "EZWB_UITSLAG", bsn, ezwb_uitkomst="ZW_EINDIGT", ezwb_datum="2027-02-25"),
            "V": lambda: rec(bid, "VERHUIZING", bsn, nieuwe_gemeentecode="0363"),
            "C": lambda: rec(bid, "CORRECTIE", bsn, verwijst_naar=ref, eerste_ziektedag="2027-01-06",
                             datum_melding="2027-01-14", datum_herstel="2027-02-03"),
            "I": lambda: rec(bid, "INTREKKING", bsn, verwijst_naar=ref),
        }[kind]())
        made.append(bid)
    feed(engine, *records)

    with store.session_scope(engine) as s:
        active = s.scalar(select(func.count()).select_from(Case)
                          .where(Case.bsn == bsn, Case.closed_on.is_(None)))
        statuses = s.scalars(select(SignalRow.status).where(SignalRow.bsn == bsn)).all()
        inbox = s.scalars(select(InboxMessage.status).where(InboxMessage.message_key.in_(made))).all()
    assert active <= 1
    assert len(statuses) == len(records) and SignalStatus.NIEUW not in statuses
    assert set(inbox) == {InboxStatus.PROCESSED}
