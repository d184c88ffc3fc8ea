"""Contract rates with yearly indexation (rules.tariffs), numbers worked out by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from rules.tariffs import TariffError, index_amount, indexed_rates, rate_on, traject_price_on, vat
from schemas.orders import ProviderContract


def contract(**overrides) -> ProviderContract:
    fields = {"provider_id": "kvk:90000002", "naam": "Demo", "basisjaar": 2026,
              "rollen": {"casemanager": "125.00", "bedrijfsarts": "240.00", "re-integratieconsulent": "115.00"},
              "indexatie": {"2027": "3.10", "2028": "2.50"}, "btw_pct": "21.00",
              "trajecten": {"2e-spoor-12": {"prijs": "4800.00", "maanden": 12}}}
    return ProviderContract.model_validate({**fields, **overrides})


def test_base_year_rate_is_the_contract_rate_all_year():
    c = contract()
    assert rate_on(c, "casemanager", date(2026, 1, 1)) == D("125.00")
    assert rate_on(c, "casemanager", date(2026, 12, 31)) == D("125.00")


def test_indexation_compounds_and_rounds_half_up_per_year():
    c = contract()
    # 125.00 × 1.031 = 128.875 → 128.88 (half-up; banker's rounding would give 128.88 too, see below)
    assert rate_on(c, "casemanager", date(2027, 1, 1)) == D("128.88")
    # 128.88 × 1.025 = 132.102 → 132.10 (from the rounded 2027 rate, not 125 × 1.031 × 1.025 = 132.096875)
    assert rate_on(c, "casemanager", date(2028, 6, 30)) == D("132.10")
    # 240.00 × 1.031 = 247.44; × 1.025 = 253.626 → 253.63
    assert rate_on(c, "bedrijfsarts", date(2027, 3, 1)) == D("247.44")
    assert rate_on(c, "bedrijfsarts", date(2028, 3, 1)) == D("253.63")
    # 115.00 × 1.031 = 118.565 → 118.57 (half-up; half-even would give 118.56)
    assert rate_on(c, "re-integratieconsulent", date(2027, 1, 1)) == D("118.57")


def test_a_year_without_indexation_is_zero_percent():
    c = contract(indexatie={"2028": "2.50"})  # nothing for 2027
    assert rate_on(c, "casemanager", date(2027, 5, 1)) == D("125.00")
    assert rate_on(c, "casemanager", date(2028, 5, 1)) == D("128.13")  # 125 × 1.025 = 128.125 → 128.13
    assert rate_on(c, "casemanager", date(2030, 1, 1)) == D("128.13")  # no indexation after 2028


def test_indexed_rates_and_traject_price_and_vat():
    c = contract()
    assert indexed_rates(c, 2027) == {"casemanager": D("128.88"), "bedrijfsarts": D("247.44"),
                                      "re-integratieconsulent": D("118.57")}
    # 4800.00 × 1.031 = 4948.80; × 1.025 = 5072.52
    assert traject_price_on(c, "2e-spoor-12", date(2027, 4, 1)) == D("4948.80")
    assert traject_price_on(c, "2e-spoor-12", date(2028, 4, 1)) == D("5072.52")
    assert vat(c, D("128.88")) == D("27.06")  # 128.88 × 0.21 = 27.0648
    assert index_amount(contract(indexatie={"2027": "-1.00"}), D("125.00"), 2027) == D("123.75")


def test_before_the_base_year_unknown_role_and_traject_are_errors():
    c = contract()
    with pytest.raises(TariffError, match="vanaf 2026"):
        rate_on(c, "casemanager", date(2025, 12, 31))
    with pytest.raises(TariffError, match="geen tarief voor de rol 'jobcoach'"):
        rate_on(c, "jobcoach", date(2027, 1, 1))
    with pytest.raises(TariffError, match="kent het traject '2e-spoor-9' niet"):
        traject_price_on(c, "2e-spoor-9", date(2027, 1, 1))
