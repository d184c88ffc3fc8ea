"""Shared data, settings and the official-schema loader for the Suwinet tests (this module has no tests).

The official BKWI contracts are read from ``../shared/contracts`` (or ``$VANGNET_CONTRACTS_DIR``), never
copied. When they are missing the contract tests FAIL with a message saying where to put them.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import pytest
from lxml import etree

from connectors.suwinet import SuwinetSettings
from ib_helpers import valid_bsn
from schemas.suwinet import GSD_REINTEGRATIE, UWV_WERKNEMERSVERZEKERINGEN, SuwinetService
from simulators.harness import SimServer
from simulators.suwinet import SuwinetSimulator

REPO = Path(__file__).resolve().parents[1]
_OFFICIAL = {  # service name -> folder of its build under open-formulieren__open-forms/src/suwinet/wsdls
    GSD_REINTEGRATIE.name: ("GSDDossierReintegratie-v0200-b04", "Diensten/GSDDossierReintegratie/v0200-b04"),
    UWV_WERKNEMERSVERZEKERINGEN.name: ("UWVDossierWerknemersverzekeringenGSD-v0200-b01",
                                       "Diensten/UWVDossierWerknemersverzekeringenGSD/v0200-b01"),
}

BSN = valid_bsn(501)  # LKS in two gemeenten, and a ZW benefit
BSN_PARTIAL = valid_bsn(502)  # partial SuwiML dates
BSN_UNKNOWN = valid_bsn(503)  # nothing anywhere: NietsGevonden
LKS = [
    {"bsn": BSN, "begin": "2025-05-01", "einde": "2027-01-15", "loonwaarde_pct": 55, "gemeentecode": "0518"},
    {"bsn": BSN, "begin": "2021-03-01", "einde": "2022-02-28", "loonwaarde_pct": "42.5", "gemeentecode": "0363",
     "type_code": "XX"},
    {"bsn": BSN_PARTIAL, "begin": "20240300", "einde": "20250000", "gemeentecode": "0518"},
]
WV = {
    BSN: {"eerste_ao_dag": "2027-01-04", "einde_uitkering": "2027-03-01", "reden_einde": "Herstel",
          "max_duur_einde": "2029-01-03"},
    BSN_PARTIAL: {"eerste_ao_dag": "20270100", "einde_uitkering": "20270300"},
}
FAST = {"retry_backoff_seconds": 0.001, "retry_max_backoff_seconds": 0.01, "timeout_seconds": 2.0}
OIN_US, OIN_BKWI = "00000001001234567000", "00000001003214345000"


def contracts_dir() -> Path:
    """The shared contracts folder; fails the calling test (never skips) when it is missing."""
    path = Path(os.environ.get("VANGNET_CONTRACTS_DIR") or REPO.parent / "shared" / "contracts")
    wsdls = path / "open-formulieren__open-forms" / "src" / "suwinet" / "wsdls"
    if not wsdls.is_dir():
        pytest.fail(f"the official Suwinet WSDL/XSD files are missing ({wsdls}): the Suwinet contract tests check "
                    "our messages against them. Put ../shared/contracts next to the repository (see its "
                    "MANIFEST.md) or set VANGNET_CONTRACTS_DIR; do not copy them into the repository.")
    return wsdls


def official_dir(service: SuwinetService) -> Path:
    """The official ``Diensten/<Service>/<build>`` folder of ``service``."""
    build, diensten = _OFFICIAL[service.name]
    return contracts_dir() / build / diensten


@functools.cache
def _schema(path: str) -> etree.XMLSchema:
    parser = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False)
    return etree.XMLSchema(etree.parse(path, parser))  # imports resolve relative to the file


def official_schema(service: SuwinetService, name: str) -> etree.XMLSchema:
    """``BodyAction``, ``BodyReaction`` or ``FWI`` of the official contract, compiled offline."""
    path = official_dir(service) / "../../../FWI/v0205/FWI.xsd" if name == "FWI" else \
        official_dir(service) / f"{name}.xsd"
    return _schema(str(path.resolve()))


def official_errors(element: etree._Element, service: SuwinetService, name: str) -> str | None:
    """None when ``element`` (copied into its own document) is valid against the official schema."""
    schema = official_schema(service, name)
    doc = etree.fromstring(etree.tostring(element))
    return None if schema.validate(doc) else str(schema.error_log)


def assert_official(element: etree._Element, service: SuwinetService, name: str) -> None:
    errors = official_errors(element, service, name)
    assert errors is None, f"not valid against the official {service.name} {name}.xsd: {errors}"


def plain_settings(sim: SuwinetSimulator, **overrides) -> SuwinetSettings:
    """Both endpoints over plain HTTP (2W-be)."""
    return SuwinetSettings(**{"reintegratie_endpoint": sim.reintegratie_endpoint,
                              "werknemersverzekeringen_endpoint": sim.werknemersverzekeringen_endpoint,
                              **FAST, **overrides})


def signed_settings(sim: SuwinetSimulator, pki, **overrides) -> SuwinetSettings:
    """Mutual TLS + Digikoppeling 2W-be-S against a simulator built with ``SimSecurity.from_pki(pki)``."""
    dk = {"profile": "2W-be-S", "own_oin": OIN_US, "receiver_oin": OIN_BKWI,
          "signing_key_path": pki.client_sign_key, "signing_cert_path": pki.client_sign_cert,
          "trusted_sender_cert_path": pki.server_sign_cert}
    return plain_settings(sim, **{"ca_bundle_path": pki.ca_cert, "client_cert_path": pki.client_cert,
                                  "client_key_path": pki.client_key, "digikoppeling": dk, **overrides})


@pytest.fixture
def suwinet():
    """A plain-HTTP simulator seeded with LKS and WV; yields ``(sim, server)``."""
    sim = SuwinetSimulator(LKS, WV)
    with SimServer(sim, seed=1) as server:
        yield sim, server
