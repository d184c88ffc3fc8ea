"""`vangnet invoices ...` through typer's CliRunner: the acceptance run of `validate --json` over the whole
SimplerInvoicing test set, `check` against stored orders (storing nothing), structural-only mode, and a
clerk's review, list and show."""

from __future__ import annotations

import json
from decimal import Decimal as D

import pytest
from typer.testing import CliRunner

import einvoicing
import store
from flows import runtime
from flows.cli_invoices import invoices_app
from simulators.ubl_factory import Line
from store import invoices as invoice_store
from test_einvoicing_testset import DEVIATIONS, FILES, OUTCOME, RULE_ID, VERDICT, _reported
from test_invoice_service import CASEMANAGER, RULES, check, deliver, order, ubl

pytestmark = pytest.mark.skipif(RULES is None, reason="the e-invoicing corpus is absent")
runner = CliRunner()


@pytest.fixture
def home(local_home, monkeypatch):
    for name in ("VANGNET_PROVIDER_CONTRACTS_DIR", "VANGNET_EINVOICE_RULES_DIR"):
        monkeypatch.delenv(name, raising=False)
    return local_home

def test_validate_json_gives_every_testset_file_the_verdict_its_name_states(home):
    result = runner.invoke(invoices_app, ["validate", "--json", *map(str, FILES)])
    assert result.exit_code == 1  # the set holds INVALID files
    printed = {entry["file"]: entry for entry in json.loads(result.stdout)}
    assert len(printed) == len(FILES) > 80
    for path in FILES:
        entry = printed[str(path)]
        codes = {f["code"] for f in entry["findings"]}
        assert all(set(f) == {"code", "severity", "source", "line", "message", "location"} for f in entry["findings"])
        deviation = DEVIATIONS.get(path.name)
        if deviation is not None:
            assert entry["verdict"] == deviation.verdict and deviation.present <= codes, path.name
            continue
        outcome = OUTCOME.search(path.name).group(1)
        assert entry["verdict"] == VERDICT[outcome], (path.name, entry["findings"])
        rule_id = RULE_ID.search(path.name)
        if rule_id is not None and outcome != "ok":
            assert _reported(codes, rule_id.group(1)), (path.name, codes)


def test_check_reconciles_against_stored_orders_and_stores_nothing(home, tmp_path):
    number = order(home)
    good, unknown = tmp_path / "good.xml", tmp_path / "unknown.xml"
    good.write_bytes(ubl("K-1", number, [Line(role="casemanager", hours=D("2"), rate=CASEMANAGER)]))
    unknown.write_bytes(ubl("K-2", "OPD-0518-999999-01", [Line(role="casemanager", hours=D("1"), rate=CASEMANAGER)]))
    result = runner.invoke(invoices_app, ["check", "--json", str(good), str(unknown)])
    assert result.exit_code == 1, result.output
    by_file = {e["file"]: e for e in json.loads(result.stdout)}
    assert by_file[str(good)]["verdict"] == "APPROVED" and by_file[str(good)]["findings"] == []
    rejected = by_file[str(unknown)]
    assert rejected["verdict"] == "REJECTED" and rejected["order"] == "OPD-0518-999999-01"
    assert [(f["code"], f["severity"], f["source"]) for f in rejected["findings"]] == [
        ("ORDER_UNKNOWN", "fatal", "RECONCILE")]
    with store.session_scope(home) as s:
        assert invoice_store.list_invoices(s) == [] and s.query(store.InboxMessage).count() == 0
    text = runner.invoke(invoices_app, ["check", str(good)])
    assert text.exit_code == 0 and "APPROVED" in text.stdout


def test_without_rules_only_structural_checks_run_and_it_says_so(home, tmp_path, monkeypatch):
    monkeypatch.setattr(einvoicing, "default_rules_dir", lambda: None)
    runtime._validator.cache_clear()
    try:
        doc = tmp_path / "k.xml"
        doc.write_bytes(ubl("K-3", "OPD-0518-000001-01", [Line(role="casemanager", hours=D("1"), rate=CASEMANAGER)]))
        result = runner.invoke(invoices_app, ["validate", "--json", str(doc)])
        assert result.exit_code == 0, result.output
        assert "No e-invoicing rules configured: only structural checks run" in result.stderr
        [entry] = json.loads(result.stdout)
        assert entry["verdict"] == "VALID_WITH_WARNINGS"
        assert [f["code"] for f in entry["findings"]] == ["RULES-NOT-CONFIGURED"]
    finally:
        runtime._validator.cache_clear()


def test_review_list_and_show(home):
    number = order(home)
    deliver(home, ubl("K-4", number, [Line(role="casemanager", hours=D("2"), rate=CASEMANAGER + 10)]))
    check(home, runtime.invoice_validator(runtime.Settings()))
    listed = json.loads(runner.invoke(invoices_app, ["list", "--json", "--verdict", "disputed"]).stdout)
    assert [(i["invoice"], i["verdict"], i["findings"]) for i in listed] == [("K-4", "DISPUTED", "RATE_MISMATCH")]
    invoice_id = str(listed[0]["id"])
    both = runner.invoke(invoices_app, ["review", invoice_id, "--approve", "--reject"])
    assert both.exit_code == 1 and "exactly one" in str(both.exception)
    no_reason = runner.invoke(invoices_app, ["review", invoice_id, "--partial", "257.76"])
    assert no_reason.exit_code == 1 and "reden" in str(no_reason.exception)
    done = runner.invoke(invoices_app, ["review", invoice_id, "--partial", "257.76", "--reason", "contracttarief"])
    assert done.exit_code == 0, done.output
    shown = runner.invoke(invoices_app, ["show", invoice_id])
    assert "APPROVED (rules: DISPUTED)" in shown.stdout and "partial" in shown.stdout and "RATE_MISMATCH" in shown.stdout
    exported = runner.invoke(invoices_app, ["export"])
    assert exported.exit_code == 0 and "boekingen-" in exported.stdout
