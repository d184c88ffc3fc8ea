"""The data of a reliability trial and the partner simulators it runs against.

Per trial: `PEOPLE` ziekmeldingen of distinct synthetic people of our gemeente, each with an open LKS
period at Suwinet (so each case is taken over, gets a zaak, an arbodienst order and a booked consult),
plus one signal IB delivers twice (same bericht_id, a later volgnummer). The invoice feed holds, for the
orders the worker will make (order numbers are deterministic: case ids follow the IB order), one invoice
the rules approve and one they dispute (a rate above the contract; the worker's clerk approves it), and
one on an order that does not exist (rejected, never exported).

The simulators live in the parent and outlive the killed worker: IB and Suwinet over mutual TLS with
Digikoppeling 2W-be-S, the ZGW Zaken API, the arbodienst and one provider feed, wired with the same
`VANGNET_*` settings as flows/partners.py, but returned as an environment for the child instead of put
into this process's (trials may run side by side), and with one PKI for every trial.
"""

from __future__ import annotations

import json
import secrets
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from collections.abc import Iterator
from typing import Any

from flows.partners import demo_ib_environment, demo_suwinet_environment, demo_zgw_environment
from rules.identifiers import synthetic_bsn

GEMEENTE = "0518"
PEOPLE = 6
INVOICED_ORDERS = 3
FEED = "reliability-feed"
CONTRACT = "arbodienst-demo"
SETTINGS = {"VANGNET_IB_PAGE_SIZE": "2", "VANGNET_BATCH_SIZE": "3", "VANGNET_IB_MAX_ATTEMPTS": "1"}


@dataclass
class Scenario:
    """What IB, Suwinet and the feed hold, and what the invariants expect."""

    today: date
    signals: list[dict[str, Any]]
    lks: list[dict[str, Any]]
    invoices: list[tuple[str, bytes]] = field(default_factory=list)
    approved: set[str] = field(default_factory=set)
    """Invoice numbers that must reach finance (auto-approved, or disputed and approved by the clerk)."""


def make_scenario(today: date) -> Scenario:
    signals, lks = [], []
    for i in range(PEOPLE):
        bsn, sick = synthetic_bsn(900 + i), today - timedelta(days=21 + i % 5)
        signals.append({
            "bericht_id": f"REL-{i + 1:04d}", "volgnummer": i + 1, "soort": "ZIEKMELDING_VANGNETTER", "bsn": bsn,
            "gemeentecode": GEMEENTE, "eerste_ziektedag": sick.isoformat(),
            "datum_einde_dienstverband": (sick + timedelta(days=4)).isoformat(),
            "datum_melding": (sick + timedelta(days=7)).isoformat(), "wettelijke_grondslag": "ZW_38_2",
            "werkgever_loonheffingennummer": "001234567L01",
        })
        lks.append({"bsn": bsn, "begin": (today - timedelta(days=400)).isoformat(), "einde": None,
                    "loonwaarde_pct": 50 + i, "gemeentecode": GEMEENTE})
    signals.append({**signals[2], "volgnummer": PEOPLE + 1})  # IB delivers one again
    scenario = Scenario(today=today, signals=signals, lks=lks)
    _add_invoices(scenario)
    return scenario


def _add_invoices(scenario: Scenario) -> None:
    from flows.runtime import DEMO_CONTRACTS
    from mappings.provider_contract import find_contract
    from rules.orders import order_number
    from rules.tariffs import rate_on
    from schemas.orders import provider_scheme
    from simulators.ubl_factory import Line, make_invoice

    contract = find_contract(DEMO_CONTRACTS, CONTRACT)
    _, kvk = provider_scheme(contract.provider_id)
    today, period = scenario.today, (scenario.today, scenario.today)

    def invoice(number: str, order: str, line) -> tuple[str, bytes]:
        return number, make_invoice(supplier_kvk=kvk, supplier_name=contract.naam, number=number, issue_date=today,
                                    order_number=order, period=period, lines=[line])

    for case_id in range(1, INVOICED_ORDERS + 1):
        order = order_number(GEMEENTE, case_id, 1)
        cm, ba = rate_on(contract, "casemanager", today), rate_on(contract, "bedrijfsarts", today)
        scenario.invoices.append(invoice(f"REL-{case_id}-A", order, Line(role="casemanager", hours=Decimal("2"),
                                                                           rate=cm)))
        scenario.invoices.append(invoice(f"REL-{case_id}-D", order, Line(
            role="bedrijfsarts", hours=Decimal("1.5"), rate=ba + Decimal("20.00"))))
        scenario.approved |= {f"REL-{case_id}-A", f"REL-{case_id}-D"}
    scenario.invoices.append(invoice("REL-X-R", "OPD-0000-999999-99", Line(role="casemanager", hours=Decimal("1"),
                                                                             rate=rate_on(contract, "casemanager",
                                                                                          today))))


@dataclass
class Sims:
    """The running simulators of one trial, and the environment that points the worker at them."""

    ib: Any
    suwinet: Any
    zgw: Any
    arbo: Any
    feed: Any
    env: dict[str, str]


def make_pki(workdir: Path):
    """One throwaway PKI (mutual TLS, 2W-be-S signing) for every trial of a run."""
    from simulators.certs import generate_test_pki

    return generate_test_pki(workdir / "pki")


@contextmanager
def running_sims(scenario: Scenario, pki, database_url: str, home: Path) -> Iterator[Sims]:
    """Start IB, Suwinet, ZGW, arbodienst and the invoice feed, seeded from `scenario`."""
    from simulators.arbodienst import ArbodienstSimulator
    from simulators.certs import server_ssl_context
    from simulators.harness import SimServer
    from simulators.ib import IbSimulator, SimSecurity
    from simulators.providers import ProviderFeedSimulator
    from simulators.suwinet import SuwinetSimulator
    from simulators.zgw import ZgwSimulator

    security, tls = SimSecurity.from_pki(pki), server_ssl_context(pki)
    secret = secrets.token_urlsafe(24)
    ib = IbSimulator(scenario.signals, security=security)
    suwinet = SuwinetSimulator(scenario.lks, {}, security=security)
    zgw = ZgwSimulator({"vangnet": secret})
    arbo = ArbodienstSimulator(token=secret, start_date=scenario.today)
    feed = ProviderFeedSimulator(token=secret)
    for number, document in scenario.invoices:
        feed.add_document(document, number)
    with ExitStack() as stack:
        for app in (ib, suwinet):
            stack.enter_context(SimServer(app, tls=tls))
        for app in (zgw, arbo, feed):
            stack.enter_context(SimServer(app))
        env = {
            "VANGNET_HOME": str(home), "VANGNET_DATABASE_URL": database_url, "VANGNET_GEMEENTECODE": GEMEENTE,
            "VANGNET_IB_ENDPOINT": ib.endpoint, **demo_ib_environment(pki),
            **demo_suwinet_environment(suwinet.reintegratie_endpoint, suwinet.werknemersverzekeringen_endpoint, pki),
            **demo_zgw_environment(zgw.api_root, secret),
            "VANGNET_SUWINET_SAFETY_NET": "false",
            "VANGNET_ARBODIENST_CONTRACT": CONTRACT, "VANGNET_ARBODIENST_NAME": CONTRACT,
            "VANGNET_ARBODIENST_BASE_URL": arbo.api_root, "VANGNET_ARBODIENST_TOKEN": secret,
            "VANGNET_PROVIDER_FEEDS": json.dumps({FEED: feed.api_root}),
            "VANGNET_PROVIDER_FEED_TOKENS": json.dumps({FEED: secret}),
            **SETTINGS,
        }
        yield Sims(ib=ib, suwinet=suwinet, zgw=zgw, arbo=arbo, feed=feed, env=env)
