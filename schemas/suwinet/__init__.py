"""vangnet's Suwinet contracts (WSDL + XSD), shipped as package data.

Subsets of two BKWI SuwiML services, with the official namespaces, element names and structure
(the official files live in ``../shared/contracts`` and are never copied here):

- GSDDossierReintegratie v0200, operation ``GSDReintegratieInfo`` (loonkostensubsidie periods);
- UWVDossierWerknemersverzekeringenGSD v0200, operation ``UWVPersoonsWvInfo`` (ZW, first sick day).

``tests/test_suwinet_contract.py`` proves that what we send and what the simulator answers is
valid against the official schemas, and that answers built to the official schemas are read.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["FWI_NAMESPACE", "GSD_REINTEGRATIE", "SERVICES", "SML_NAMESPACE", "SUWINET_DIR", "SuwinetService",
           "UWV_WERKNEMERSVERZEKERINGEN"]

SUWINET_DIR = Path(__file__).resolve().parent
FWI_NAMESPACE = "http://bkwi.nl/SuwiML/FWI/v0205"
SML_NAMESPACE = "http://bkwi.nl/SuwiML/Basisschema/v0801"


@dataclass(frozen=True)
class SuwinetService:
    """One Suwinet service as vangnet uses it: one operation, request element == operation name."""

    name: str
    """Service name as BKWI publishes it, e.g. ``GSDDossierReintegratie``."""
    operation: str
    binding: str

    @property
    def namespace(self) -> str:
        """Target namespace of the service's body elements."""
        return f"http://bkwi.nl/SuwiML/Diensten/{self.name}/v0200"

    @property
    def wsdl_path(self) -> Path:
        return SUWINET_DIR / f"{self.name}-v0200.wsdl"

    @property
    def xsd_path(self) -> Path:
        return SUWINET_DIR / f"{self.name}-v0200.xsd"

    @property
    def binding_qname(self) -> str:
        """The SOAP 1.1 binding, for zeep's ``create_service``."""
        return f"{{{self.namespace}}}{self.binding}"

    @property
    def action_base(self) -> str:
        """Prefix of the wsa:Actions: ``<base>/<Operation>``, ``<base>/<Operation>Response``, ``<base>/Fout``."""
        return f"http://bkwi.nl/SuwiML/Diensten/{self.name}-v0200"

    @property
    def request_tag(self) -> str:
        return f"{{{self.namespace}}}{self.operation}"

    @property
    def response_tag(self) -> str:
        return f"{{{self.namespace}}}{self.operation}Response"


GSD_REINTEGRATIE = SuwinetService("GSDDossierReintegratie", "GSDReintegratieInfo", "GSDReintegratieBinding")
UWV_WERKNEMERSVERZEKERINGEN = SuwinetService(
    "UWVDossierWerknemersverzekeringenGSD", "UWVPersoonsWvInfo", "UWVBinding")
SERVICES = (GSD_REINTEGRATIE, UWV_WERKNEMERSVERZEKERINGEN)
