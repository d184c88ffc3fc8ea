"""`vangnet orders ...` through typer's CliRunner on a temporary VANGNET_HOME with a migrated SQLite store."""

from __future__ import annotations

from datetime import date

import pytest
from typer.testing import CliRunner

import store
from flows.cli_orders import orders_app
from flows.errors import VangnetError
from test_orders import BSN, open_case

runner = CliRunner()


@pytest.fixture
def home(local_home, monkeypatch):
    monkeypatch.delenv("VANGNET_PROVIDER_CONTRACTS_DIR", raising=False)  # the demo contracts
    return local_home

def run(*args: str):
    result = runner.invoke(orders_app, list(args))
    assert BSN not in result.output
    return result


def test_create_list_show_and_report_received(home):
    ref = open_case(home)
    made = run("create", ref, "--provider", "reintegratie-demo", "--kind", "traject", "--traject", "2e-spoor-6",
               "--start", "2027-03-15", "--today", "2027-03-15", "--door", "inkoper-1")
    assert made.exit_code == 0, made.output
    assert "Created order OPD-0518-000001-01 for VN-000001 at Re-integratiebedrijf Demo B.V." in made.output
    assert "3608.50" in made.output
    again = run("create", ref, "--provider", "kvk:90000002", "--kind", "traject", "--traject", "2e-spoor-6",
                "--start", "2027-03-15", "--today", "2027-03-16")
    assert "Already there: order OPD-0518-000001-01" in again.output
    regie = run("create", "VN-000001", "--provider", "arbodienst-demo", "--kind", "regie",
                "--hours", "bedrijfsarts=3, casemanager=10", "--start", "2027-03-02", "--today", "2027-03-02")
    assert "OPD-0518-000001-02" in regie.output and "2031.12" in regie.output

    listed = run("list", "--case", ref)
    assert listed.exit_code == 0 and "OPD-0518-000001-01" in listed.output and "OPD-0518-000001-02" in listed.output

    received = run("report-received", "OPD-0518-000001-01", "START", "--due", "2027-05-10", "--op", "2027-05-12",
                   "--today", "2027-05-20")
    assert received.exit_code == 0, received.output
    shown = run("show", "OPD-0518-000001-01")
    assert shown.exit_code == 0, shown.output
    for text in ("kvk:90000002", "arbeidsdeskundige", "139.19", "fixed price (excl. VAT): 3608.50",
                 "START", "2027-05-10", "2027-05-12", "VOORTGANG", "2027-07-15", "AFRONDING", "2027-09-15"):
        assert text in shown.output, text
    with store.session_scope(home) as s:
        assert store.get_report(s, store.get_order(s, "OPD-0518-000001-01"), "START", date(2027, 5, 10)).received_on \
            == date(2027, 5, 12)


@pytest.mark.parametrize("args, message", [
    (("create", "VN-000001", "--provider", "reintegratie-demo", "--kind", "regie", "--hours", "bedrijfsarts=3",
      "--start", "2027-03-15", "--today", "2027-03-15"), "levert geen 'bedrijfsarts'"),
    (("create", "VN-000001", "--provider", "kvk:12345678", "--kind", "regie", "--hours", "casemanager=3",
      "--start", "2027-03-15"), "geen contract voor kvk:12345678"),
    (("create", "VN-000001", "--provider", "arbodienst-demo", "--kind", "regie", "--hours", "casemanager",
      "--start", "2027-03-15"), "--hours 'casemanager' is not role=hours"),
    (("create", "VN-000001", "--provider", "arbodienst-demo", "--kind", "uur", "--start", "2027-03-15"),
     "--kind 'uur' is not an order kind"),
    (("create", "VN-000001", "--provider", "arbodienst-demo", "--kind", "regie", "--hours", "casemanager=3",
      "--start", "15-03-2027"), "--start '15-03-2027' is not a date"),
    (("show", "OPD-0518-000009-01"), "er is geen opdracht 'OPD-0518-000009-01'"),
    (("list", "--case", "VN-000042"), "er is geen zaak 'VN-000042'"),
])
def test_errors_are_for_people(home, args, message):
    open_case(home)
    result = run(*args)
    assert isinstance(result.exception, VangnetError), result.output
    assert message in result.exception.message


def test_contract_folder_from_the_environment(home, tmp_path, monkeypatch):
    folder = tmp_path / "contracten"
    folder.mkdir()
    (folder / "arbo.json").write_text('{"provider_id": "kvk:12345678", "naam": "Arbo Elders", "basisjaar": 2027, '
                                      '"rollen": {"casemanager": "100.00"}, "btw_pct": "21.00"}')
    monkeypatch.setenv("VANGNET_PROVIDER_CONTRACTS_DIR", str(folder))
    open_case(home)
    result = run("create", "VN-000001", "--provider", "kvk:12345678", "--kind", "regie", "--hours", "casemanager=2",
                 "--start", "2027-03-15", "--today", "2027-03-15")
    assert "Arbo Elders" in result.output and "200.00" in result.output
    bad = run("create", "VN-000001", "--provider", "arbodienst-demo", "--kind", "regie", "--hours", "casemanager=2",
              "--start", "2027-03-15")
    assert isinstance(bad.exception, VangnetError) and "arbodienst-demo" in bad.exception.message
