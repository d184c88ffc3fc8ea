"""Pure signal-effect rules: dates worked out by hand, no database."""

from __future__ import annotations

from datetime import date

import pytest

from rules.signal_effects import (
    CaseFacts,
    EffectKind,
    Withdrawal,
    correction_problem,
    ending_effect,
    fact_changes,
    illness_period,
    last_closer,
    status_after,
    withdrawal_effect,
)
from schemas.case import CaseStatus
from schemas.signal import SignaalSoort, Signal

BSN = "999990019"
D = date(2027, 1, 4)
INTAKE = date(2027, 3, 1)
ACTIVE = CaseFacts(id=1, status=CaseStatus.OPEN, gemeentecode="0518", bsn=BSN, eerste_ziektedag=D, opened_on=INTAKE)


def sig(soort: str, **fields) -> Signal:
    return Signal(bericht_id="B-1", volgnummer=1, soort=soort, bsn=BSN, gemeentecode="0518", **fields)


def closed_case(case_id: int, start: date, end: date, status=CaseStatus.GESLOTEN) -> CaseFacts:
    return CaseFacts(id=case_id, status=status, gemeentecode="0518", bsn=BSN, eerste_ziektedag=start,
                     opened_on=start, closed_on=end)


def test_betermelding_closes_on_datum_herstel():
    effect = ending_effect(sig("BETERMELDING", datum_herstel=date(2027, 2, 10)), ACTIVE, [], received_on=INTAKE)
    assert (effect.kind, effect.status, effect.on, effect.case_id) == (EffectKind.CLOSE, CaseStatus.GESLOTEN,
                                                                      date(2027, 2, 10), 1)
    assert effect.reason == "herstel gemeld per 2027-02-10"


def test_betermelding_on_the_first_sick_day_still_closes_but_the_day_before_does_not():
    same_day = ending_effect(sig("BETERMELDING", datum_herstel=D), ACTIVE, [], received_on=INTAKE)
    day_before = ending_effect(sig("BETERMELDING", datum_herstel=date(2027, 1, 3)), ACTIVE, [], received_on=INTAKE)
    assert same_day.kind is EffectKind.CLOSE
    assert day_before.kind is EffectKind.NOTE and not day_before.link and "eerdere ziekteperiode" in day_before.reason


def test_end_signals_without_a_case_wait():
    for signal in (sig("BETERMELDING", datum_herstel=D), sig("EINDE_ZW", datum_einde_zw=D, reden_einde="WIA"),
                   sig("EZWB_UITSLAG", ezwb_uitkomst="ZW_LOOPT_DOOR"), sig("VERHUIZING", nieuwe_gemeentecode="0363")):
        assert ending_effect(signal, None, [], received_on=INTAKE).kind is EffectKind.PARK


def test_end_date_inside_a_closed_period_is_noted_there_not_on_the_new_case():
    old = closed_case(7, date(2026, 9, 1), date(2026, 10, 1))
    late_repeat = sig("BETERMELDING", datum_herstel=date(2026, 10, 1))
    effect = ending_effect(late_repeat, ACTIVE, [old], received_on=INTAKE)
    assert (effect.kind, effect.case_id) == (EffectKind.NOTE, 7)
    withdrawn = closed_case(8, date(2026, 9, 1), date(2026, 10, 1), status=CaseStatus.INGETROKKEN)
    assert ending_effect(late_repeat, None, [withdrawn], received_on=INTAKE).kind is EffectKind.PARK


def test_einde_zw_names_reason_and_date():
    effect = ending_effect(sig("EINDE_ZW", datum_einde_zw=date(2027, 6, 1), reden_einde="MAX_DUUR"), ACTIVE, [],
                           received_on=INTAKE)
    assert effect.kind is EffectKind.CLOSE and effect.on == date(2027, 6, 1)
    assert "MAX_DUUR" in effect.reason and "2027-06-01" in effect.reason


@pytest.mark.parametrize(("fields", "kind"), [
    ({"ezwb_uitkomst": "ZW_LOOPT_DOOR"}, EffectKind.NOTE),
    ({"ezwb_uitkomst": "ZW_EINDIGT", "ezwb_datum": date(2028, 2, 1)}, EffectKind.CLOSE),
    ({"ezwb_uitkomst": "ZW_EINDIGT"}, EffectKind.FLAG),
])
def test_ezwb_outcomes(fields, kind):
    effect = ending_effect(sig("EZWB_UITSLAG", **fields), ACTIVE, [], received_on=INTAKE)
    assert effect.kind is kind
    if kind is EffectKind.CLOSE:
        assert effect.reason == "EZWb: ZW eindigt per 2028-02-01" and effect.on == date(2028, 2, 1)


def test_verhuizing_transfers_only_to_another_gemeente():
    away = ending_effect(sig("VERHUIZING", nieuwe_gemeentecode="0363"), ACTIVE, [], received_on=date(2027, 4, 2))
    assert (away.kind, away.status, away.on) == (EffectKind.CLOSE, CaseStatus.OVERGEDRAGEN, date(2027, 4, 2))
    assert "0363" in away.reason
    inside = ending_effect(sig("VERHUIZING", nieuwe_gemeentecode="0518"), ACTIVE, [], received_on=INTAKE)
    assert inside.kind is EffectKind.NOTE


def test_handmatig_is_kept_by_automatic_effects():
    assert status_after(CaseStatus.HANDMATIG, CaseStatus.GESLOTEN) is CaseStatus.HANDMATIG
    assert status_after(CaseStatus.OPEN, CaseStatus.INGETROKKEN) is CaseStatus.INGETROKKEN


def test_new_illness_less_than_four_weeks_after_recovery_counts_as_one():
    first = closed_case(3, date(2027, 1, 4), date(2027, 2, 1))
    within = illness_period(date(2027, 2, 28), [first])  # 27 days after recovery
    assert (within.eerste_ziektedag, within.samengeteld_met, within.same_case) == (date(2027, 1, 4), (3,), None)
    after = illness_period(date(2027, 3, 1), [first])  # 28 days: a new illness
    assert (after.eerste_ziektedag, after.samengeteld_met) == (date(2027, 3, 1), ())


def test_first_sick_day_inside_a_closed_period_is_that_case():
    first = closed_case(3, date(2027, 1, 4), date(2027, 2, 1))
    assert illness_period(date(2027, 1, 20), [first]).same_case == 3
    transferred = closed_case(4, date(2027, 1, 4), date(2027, 2, 1), status=CaseStatus.OVERGEDRAGEN)
    assert illness_period(date(2027, 1, 20), [transferred]).same_case is None


def test_correction_problems():
    good = sig("CORRECTIE", verwijst_naar="X", eerste_ziektedag=D)
    assert correction_problem(ACTIVE, good) is None
    other_person = good.model_copy(update={"bsn": "999990020"})
    reason = correction_problem(ACTIVE, other_person)
    assert reason and "BSN" in reason and "999990020" not in reason and BSN not in reason
    assert "0363" in correction_problem(ACTIVE, good.model_copy(update={"gemeentecode": "0363"}))


def test_fact_changes_lists_only_what_differs():
    old = {"eerste_ziektedag": D, "datum_melding": date(2027, 1, 14), "datum_einde_dienstverband": None}
    new = {**old, "eerste_ziektedag": date(2027, 1, 11)}
    assert fact_changes(old, new) == {"eerste_ziektedag": (D, date(2027, 1, 11))}


def test_last_closer_follows_reopening():
    assert last_closer([("case.opened", "Z"), ("case.closed", "B")]) == "B"
    assert last_closer([("case.closed", "B"), ("case.reopened", "I")]) is None
    assert last_closer([("case.closed", "B"), ("case.reopened", "I"), ("case.transferred", "V")]) == "V"


@pytest.mark.parametrize(("soort", "kwargs", "expected"), [
    (SignaalSoort.ZIEKMELDING_VANGNETTER, {"applied": True}, Withdrawal.WITHDRAW_CASE),
    (SignaalSoort.ZIEKMELDING_VANGNETTER, {"applied": True, "other_ziekmeldingen": 1}, Withdrawal.MARK_ONLY),
    (SignaalSoort.BETERMELDING, {"applied": False}, Withdrawal.MARK_ONLY),
    (SignaalSoort.BETERMELDING, {"applied": True, "closed_the_case": True}, Withdrawal.REOPEN),
    (SignaalSoort.EINDE_ZW, {"applied": True, "closed_the_case": True, "other_active_case": True}, Withdrawal.FLAG),
    (SignaalSoort.EZWB_UITSLAG, {"applied": True}, Withdrawal.MARK_ONLY),
    (SignaalSoort.CORRECTIE, {"applied": True}, Withdrawal.FLAG),
    (SignaalSoort.ZIEKMELDING_VANGNETTER, {"applied": True, "same_person": False}, Withdrawal.FLAG),
])
def test_withdrawal_effect(soort, kwargs, expected):
    assert withdrawal_effect(soort, **{"same_person": True, **kwargs}) is expected
