"""Provider contract files: the demo contracts parse; a bad file names the file and the field."""

from __future__ import annotations

import json
from decimal import Decimal as D
from pathlib import Path

import pytest

from flows.runtime import DEMO_CONTRACTS
from mappings.provider_contract import ContractError, find_contract, load_contracts, parse_contract
from schemas.orders import normalise_provider_id, provider_scheme

GOOD = {"provider_id": "kvk:12345678", "naam": "Arbo", "rollen": {"bedrijfsarts": "240.00"}, "basisjaar": 2026,
        "indexatie": {"2027": "3.10"}, "btw_pct": "21.00"}


def bad(**changes) -> str:
    data = {**GOOD, **changes}
    return json.dumps({k: v for k, v in data.items() if v is not None})


def test_demo_contracts():
    contracts = load_contracts(DEMO_CONTRACTS)
    arbo, reintegratie = contracts["kvk:90000001"], contracts["kvk:90000002"]
    assert set(arbo.rollen) == {"bedrijfsarts", "casemanager"} and arbo.trajecten == {}
    assert arbo.rapportages.start_weken is None and not arbo.rapportages.afronding
    assert reintegratie.rollen == {"arbeidsdeskundige": D("135.00"), "re-integratieconsulent": D("115.00")}
    assert reintegratie.trajecten["2e-spoor-12"].prijs == D("4800.00")
    assert reintegratie.rapportages.start_weken == (6, 8) and reintegratie.indexatie == {2027: D("3.10"), 2028: D("2.50")}


def test_provider_ids():
    assert normalise_provider_id("KVK:12345678") == "kvk:12345678"
    assert normalise_provider_id("0190:00000001234567890000") == "oin:00000001234567890000"
    assert provider_scheme("kvk:12345678") == ("0106", "12345678")
    with pytest.raises(ValueError, match="8 cijfers"):
        normalise_provider_id("kvk:1234567")


@pytest.mark.parametrize("content, reason", [
    (bad(rollen={"bedrijfsarts": "twee"}), "veld rollen.bedrijfsarts: is geen bedrag"),
    (bad(rollen={"bedrijfsarts": "240.001"}), "veld rollen.bedrijfsarts: heeft meer dan 2 decimalen"),
    (bad(rollen={"bedrijfsarts": "0"}), "het uurtarief van bedrijfsarts moet groter dan 0 zijn"),
    (bad(rollen={"Bedrijfs Arts": "240"}), "veld rollen.Bedrijfs Arts.[key]: heeft een ongeldige naam"),
    (bad(rollen={}), "veld rollen: mag niet leeg zijn"),
    (bad(naam=None), "veld naam: ontbreekt"),
    (bad(provider_id="12345678"), "veld provider_id: verwacht 'kvk:' + 8 cijfers"),
    (bad(indexatie={"2026": "1.00"}), "indexatie voor 2026 ligt niet na het basisjaar 2026"),
    (bad(btw_pct="121"), "veld btw_pct: moet hoogstens 100 zijn"),
    (bad(tarieven={}), "veld tarieven: is onbekend"),
    (bad(trajecten={"2e-spoor": {"prijs": "4800.00"}}), "veld trajecten.2e-spoor.maanden: ontbreekt"),
    (bad(rapportages={"start_weken": [8, 6]}), "veld rapportages.start_weken"),
    ('{"provider_id": ', "geen geldige JSON (regel 1"),
    ("[]", "verwacht een JSON-object"),
    (b"\xff\xfe", "geen UTF-8"),
])
def test_bad_contract_names_file_and_field(content, reason):
    with pytest.raises(ContractError) as caught:
        parse_contract(content, source="arbo.json")
    assert str(caught.value).startswith("arbo.json: ") and reason in str(caught.value), str(caught.value)


def test_json_numbers_are_read_exactly():
    assert parse_contract('{"provider_id": "kvk:12345678", "naam": "A", "rollen": {"casemanager": 125.10}, '
                          '"basisjaar": 2026, "btw_pct": 21}', source="a.json").rollen["casemanager"] == D("125.10")


def test_find_contract_by_file_name_or_provider_id(tmp_path: Path):
    (tmp_path / "arbo.json").write_text(bad())
    assert find_contract(tmp_path, "arbo").naam == "Arbo"
    assert find_contract(tmp_path, str(tmp_path / "arbo.json")).provider_id == "kvk:12345678"
    assert find_contract(tmp_path, "kvk:12345678").naam == "Arbo"
    with pytest.raises(ContractError, match=r"geen contract voor kvk:87654321 in .* \(wel voor: kvk:12345678\)"):
        find_contract(tmp_path, "kvk:87654321")
    (tmp_path / "arbo-kopie.json").write_text(bad())
    with pytest.raises(ContractError, match="arbo.json: provider kvk:12345678 staat ook in arbo-kopie.json"):
        load_contracts(tmp_path)
