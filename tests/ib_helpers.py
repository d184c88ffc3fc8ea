"""Shared helpers for the IB and simulator tests (records, XSD, throwaway PKI)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from lxml import etree

from schemas.ib import XSD_PATH
from simulators.certs import TestPki, generate_test_pki
from rules.identifiers import synthetic_bsn

IB_SCHEMA = etree.XMLSchema(etree.parse(str(XSD_PATH)))


valid_bsn = synthetic_bsn  # the name the tests use


def record(volgnummer: int, **overrides: Any) -> dict[str, Any]:
    """A well-formed ZIEKMELDING_VANGNETTER record with canonical field names."""
    rec: dict[str, Any] = {
        "bericht_id": f"IB-{volgnummer:05d}",
        "volgnummer": volgnummer,
        "soort": "ZIEKMELDING_VANGNETTER",
        "bsn": valid_bsn(volgnummer),
        "gemeentecode": "0518",
        "eerste_ziektedag": "2027-01-04",
        "datum_einde_dienstverband": "2027-01-15",
        "datum_melding": "2027-01-14",
        "wettelijke_grondslag": "ZW_38_2",
        "werkgever_loonheffingennummer": "001234567L01",
    }
    rec.update(overrides)
    return rec


def wait_for(predicate: Callable[[], bool], timeout: float = 2.0) -> bool:
    """Poll ``predicate`` until true or ``timeout``; for server-side counters that trail the client."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def assert_valid(element: etree._Element) -> None:
    """Validate against ib-signalen.xsd with a readable failure."""
    if not IB_SCHEMA.validate(element):
        raise AssertionError(f"not valid against ib-signalen.xsd: {IB_SCHEMA.error_log}")


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestPki]:
    """A throwaway CA + server/client certs for this test session."""
    yield generate_test_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="session")
def other_pki(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestPki]:
    """A second, unrelated PKI (nobody trusts it)."""
    yield generate_test_pki(tmp_path_factory.mktemp("other-pki"))


def header_counts(raw: bytes) -> dict[str, int]:
    """How often each SOAP header block (by local name; wsa:* prefixed) occurs in a raw envelope."""
    from mappings.safe_xml import parse_xml

    header = parse_xml(raw, max_bytes=10**7).find("{http://schemas.xmlsoap.org/soap/envelope/}Header")
    counts: dict[str, int] = {}
    for child in header if header is not None else ():
        qname = etree.QName(child)
        wsa = qname.namespace == "http://www.w3.org/2005/08/addressing"
        name = f"wsa:{qname.localname}" if wsa else qname.localname
        counts[name] = counts.get(name, 0) + 1
    return counts
