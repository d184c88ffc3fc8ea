"""vangnet's own IB signal contract (WSDL + XSD), shipped as package data.

IB's real specification is not public (domain.md §4); this contract stands in for it.
Keep the namespace stable: stored raw signals carry it.
"""

from __future__ import annotations

from pathlib import Path

IB_NAMESPACE = "urn:vangnet:ib:signalen:v1"
"""Target namespace of ib-signalen.xsd/.wsdl (elementFormDefault qualified)."""

IB_DIR = Path(__file__).resolve().parent
WSDL_PATH = IB_DIR / "ib-signalen.wsdl"
XSD_PATH = IB_DIR / "ib-signalen.xsd"

BINDING_QNAME = f"{{{IB_NAMESPACE}}}IbSignalenBinding"
"""The one SOAP 1.1 binding, for zeep's ``create_service``."""

ACTIONS = {
    "HaalSignalen": f"{IB_NAMESPACE}:HaalSignalen",
    "BevestigSignalen": f"{IB_NAMESPACE}:BevestigSignalen",
}
"""Request action per operation (soapAction == wsam:Action); responses append ``Response``."""
