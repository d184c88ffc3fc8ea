"""Suwinet (BKWI) stand-in: GSDDossierReintegratie and UWVDossierWerknemersverzekeringenGSD on one server.

Seeded from scenario data (README, ``../shared/scenarios``):

- ``lks``: records ``{"bsn", "begin", "einde"?, "loonwaarde_pct"?, "gemeentecode", "type_code"?}``, served by
  ``GSDReintegratieInfo`` as ``ReIntegratievoorziening`` elements grouped per gemeente (``AtlRelatie``);
- ``suwinet_wv``: ``{"<bsn>": {"eerste_ao_dag", "einde_uitkering"?, "reden_einde"?}}``, served by
  ``UWVPersoonsWvInfo`` as ``DatEersteAoDag`` and one ZW ``Uitkeringsverhouding``. Optional extra keys:
  ``begin_uitkering`` (default: eerste_ao_dag), ``max_duur_einde``, ``wet_code`` (default ``ZW``), or
  ``uitkeringsverhoudingen`` (a list of ``{begin, einde, reden_einde, max_duur_einde, wet_code}``).

Dates are ``YYYY-MM-DD`` or SuwiML ``YYYYMMDD`` with zeros for unknown parts (``20270100``). Records are
checked on load so every answer is valid against the official schemas. Unknown BSNs get ``NietsGevonden``.
Digikoppeling as the IB simulator: WS-Addressing always, 2W-be-S with ``security=SimSecurity(...)``.
Only operation names are recorded (:attr:`SuwinetSimulator.operations`), never a BSN.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import threading
import time
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from lxml import etree

from connectors.digikoppeling import (
    AddressingError, SecurityError, UnsignedMessageError, read_addressing, verify_envelope,
)
from connectors.digikoppeling.namespaces import WSA_FAULT_ACTION
from mappings.safe_xml import UnsafeXmlError, parse_xml
from mappings.suwinet import (
    DEFAULT_LKS_TYPE_CODES, DEFAULT_PERCENTAGE_DECIMALS, format_percentage, format_suwi_date, fwi_tag,
    parse_suwi_date,
)
from schemas.suwinet import FWI_NAMESPACE, GSD_REINTEGRATIE, SUWINET_DIR, UWV_WERKNEMERSVERZEKERINGEN, SuwinetService

from simulators.harness import AppFaults
from simulators.wus import SECURITY_KNOBS, SOAP_ENV, SimSecurity, reply_envelope

__all__ = ["GSD_PATH", "ReceivedOperation", "SimSecurity", "SuwinetSimulator", "UWV_PATH", "load_suwinet_seed"]

WSDL_SOAP = "http://schemas.xmlsoap.org/wsdl/soap/"
GSD_PATH = "/suwibroker/soap/GSDDossierReintegratie-v0200"
UWV_PATH = "/suwibroker/soap/UWVDossierWerknemersverzekeringenGSD-v0200"
KOLOM_GSD = "3"  # CdKolomSuwi put in AtlRelatie/Bron: a placeholder, BKWI's value for gemeenten is not known here
FWI_BRON_DN = "cn=suwinet-simulator,o=vangnet"
_XML = {"Content-Type": "text/xml; charset=utf-8"}
_JSON = {"Content-Type": "application/json"}
_WV_KEYS = {"eerste_ao_dag", "einde_uitkering", "reden_einde", "begin_uitkering", "max_duur_einde", "wet_code",
            "uitkeringsverhoudingen"}


@dataclass(frozen=True)
class ReceivedOperation:
    """A SOAP operation the simulator accepted (name and time only: no BSN)."""

    name: str
    at: float = field(default_factory=time.time)


@dataclass
class SuwinetFaults:
    """Suwinet knobs (``SimServer.set_faults`` or ``POST /__faults``); ``*_next`` counters apply to valid requests."""

    soap_fault_next: int = 0
    """Answer with a plain SOAP fault (no detail)."""
    soap_fault_code: str = "Server"
    fout_fault_next: int = 0
    """Answer with the contract's AanvraagNietOk fault: SOAP fault with ``fwi:Fout`` detail."""
    fout_fault_code: str = "Client"
    fwi_next: int = 0
    """Answer with an FWI error block (``fwi:FWI/Fout``) instead of data."""
    fwi_code: str = "SIM-FWI-001"
    fwi_tekst: str = "Gesimuleerde fout: de bron kon de vraag niet beantwoorden"
    warning_next: int = 0
    """Add an ``fwi:FWI/Waarschuwing`` after the data of the next N data answers."""
    tamper_next: int = 0
    unsigned_next: int = 0
    expired_next: int = 0
    wrong_cert_next: int = 0


@dataclass(frozen=True)
class _Request:
    message_id: str | None = None
    signature_value: str | None = None


def _datum(value: Any, what: str, *, required: bool = False) -> str | None:
    """A seed date (date, ``YYYY-MM-DD`` or SuwiML ``YYYYMMDD``) as SuwiML text; checked."""
    if value is None or value == "":
        if required:
            raise ValueError(f"{what} is required")
        return None
    if isinstance(value, dt.date):
        return format_suwi_date(value)
    text = str(value)
    if len(text) == 10 and text[4] == "-":
        try:
            return format_suwi_date(dt.date.fromisoformat(text))
        except ValueError:
            raise ValueError(f"{what} is not a real date (YYYY-MM-DD)") from None
    parse_suwi_date(text, element=what)  # raises a ValueError for anything but YYYYMMDD with zeros
    return text


def _lks_record(record: Mapping[str, Any], decimals: int) -> dict[str, Any]:
    bsn = str(record.get("bsn", ""))
    gemeentecode = str(record.get("gemeentecode", ""))
    type_code = str(record.get("type_code") or sorted(DEFAULT_LKS_TYPE_CODES)[0])
    if len(bsn) != 9 or not bsn.isdigit() or len(gemeentecode) != 4 or not gemeentecode.isdigit():
        raise ValueError("an lks record needs a 9-digit bsn and a 4-digit gemeentecode")
    if len(type_code) != 2:
        raise ValueError("an lks type_code (CdTypeRvGsd) has exactly 2 characters")
    pct = record.get("loonwaarde_pct")
    return {"bsn": bsn, "begin": _datum(record.get("begin"), "lks begin", required=True),
            "einde": _datum(record.get("einde"), "lks einde"), "gemeentecode": gemeentecode, "type_code": type_code,
            "percentage": None if pct is None else format_percentage(Decimal(str(pct)), decimals=decimals)}


def _relation(raw: Mapping[str, Any]) -> dict[str, Any]:
    reden = raw.get("reden_einde")
    if reden is not None and len(str(reden)) > 100:
        raise ValueError("reden_einde (OmsRedenEindeUitkeringsverh) is at most 100 characters")
    wet = str(raw.get("wet_code") or "ZW")
    if not 1 <= len(wet) <= 5 or any(c.isdigit() for c in wet):
        raise ValueError("wet_code (CdSzWet) is 1 to 5 non-digit characters")
    return {"begin": _datum(raw.get("begin"), "begin_uitkering"), "einde": _datum(raw.get("einde"), "einde_uitkering"),
            "reden_einde": None if reden is None else str(reden), "wet_code": wet,
            "max_duur_einde": _datum(raw.get("max_duur_einde"), "max_duur_einde")}


def _wv_record(fields: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(fields) - _WV_KEYS
    if unknown:
        raise ValueError(f"unknown suwinet_wv field(s) {sorted(unknown)}; known: {sorted(_WV_KEYS)}")
    if "uitkeringsverhoudingen" in fields:
        relations = [_relation(r) for r in fields["uitkeringsverhoudingen"] or ()]
    else:
        relations = [_relation({"begin": fields.get("begin_uitkering", fields.get("eerste_ao_dag")),
                                "einde": fields.get("einde_uitkering"), "reden_einde": fields.get("reden_einde"),
                                "max_duur_einde": fields.get("max_duur_einde"), "wet_code": fields.get("wet_code")})]
    return {"eerste_ao_dag": _datum(fields.get("eerste_ao_dag"), "eerste_ao_dag"), "relations": relations,
            "fields": dict(fields)}


def load_suwinet_seed(path: str | Path) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """``(lks, suwinet_wv)`` from a scenario JSON object (other keys such as ``signalen`` are ignored)."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if isinstance(data, list):
        data = {"lks": data}
    if not isinstance(data, dict) or not isinstance(data.get("lks", []), list) \
            or not isinstance(data.get("suwinet_wv", {}), dict):
        raise ValueError(f"{path}: expected a JSON object with 'lks' (a list) and/or 'suwinet_wv' (an object by bsn)")
    return list(data.get("lks", [])), dict(data.get("suwinet_wv", {}))


def _sub(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
    el = etree.SubElement(parent, tag)
    el.text = text
    return el


def _melding(el: etree._Element, code: str, tekst: str) -> etree._Element:
    """Fill an FWI Melding (Fout / Waarschuwing / Informatie)."""
    _sub(el, "Code", code)
    _sub(el, "Tekst", tekst)
    _sub(_sub(el, "Bron"), "DN", FWI_BRON_DN)
    return el


class SuwinetSimulator(AppFaults):
    """The Suwinet app for :class:`simulators.harness.SimServer`: both services, on ``GSD_PATH`` and ``UWV_PATH``.

    ``GET <path>?wsdl`` returns our WSDL with its address set to this server. Admin: ``POST /__suwinet/lks``
    (JSON list, added), ``POST /__suwinet/wv`` (JSON object by bsn, fields merged), ``GET /__suwinet`` (counts).
    """

    faults_type = SuwinetFaults
    faults_label = "Suwinet"

    def __init__(self, lks: Iterable[Mapping[str, Any]] = (), wv: Mapping[str, Mapping[str, Any]] | None = None, *,
                 security: SimSecurity | None = None, percentage_decimals: int = DEFAULT_PERCENTAGE_DECIMALS,
                 max_request_bytes: int = 1024 * 1024) -> None:
        self.security = security
        self.percentage_decimals = percentage_decimals
        self.max_request_bytes = max_request_bytes
        self.faults = SuwinetFaults()
        self._lock = threading.Lock()
        self._lks: list[dict[str, Any]] = []
        self._wv: dict[str, dict[str, Any]] = {}
        self._queued: deque[etree._Element] = deque()
        self._operations: list[ReceivedOperation] = []
        self._received: deque[bytes] = deque(maxlen=1000)
        self._sent: deque[bytes] = deque(maxlen=1000)
        self._base_url: str | None = None
        self._services = {GSD_PATH: GSD_REINTEGRATIE, UWV_PATH: UWV_WERKNEMERSVERZEKERINGEN}
        self._schemas = {s.operation: etree.XMLSchema(etree.parse(str(s.xsd_path))) for s in self._services.values()}
        self.add_lks(lks)
        for bsn, fields in (wv or {}).items():
            self.set_wv(bsn, fields)

    # -- data ------------------------------------------------------------------------------------
    def add_lks(self, records: Iterable[Mapping[str, Any]]) -> None:
        """Add LKS records (all or nothing)."""
        staged = [_lks_record(r, self.percentage_decimals) for r in records]
        with self._lock:
            self._lks.extend(staged)

    def set_lks(self, records: Iterable[Mapping[str, Any]]) -> None:
        """Replace all LKS records."""
        staged = [_lks_record(r, self.percentage_decimals) for r in records]
        with self._lock:
            self._lks = staged

    def set_wv(self, bsn: str, fields: Mapping[str, Any]) -> None:
        """Set (replace) the UWV data of one person."""
        if not (isinstance(bsn, str) and len(bsn) == 9 and bsn.isdigit()):
            raise ValueError("suwinet_wv is keyed by 9-digit BSN strings")
        record = _wv_record(fields)
        with self._lock:
            self._wv[bsn] = record

    def update_wv(self, bsn: str, **changes: Any) -> None:
        """Change some UWV fields of one person between polls, e.g. ``update_wv(bsn, eerste_ao_dag="2027-02-01")``."""
        with self._lock:
            current = dict(self._wv.get(str(bsn), {}).get("fields", {}))
        self.set_wv(bsn, {**current, **changes})

    def remove_wv(self, bsn: str) -> None:
        """Forget a person's UWV data: the next answer is NietsGevonden."""
        with self._lock:
            self._wv.pop(str(bsn), None)

    def queue_payload(self, payload: etree._Element) -> None:
        """Answer the next valid request with ``payload`` as Body content (addressed and signed as usual)."""
        with self._lock:
            self._queued.append(payload)

    # -- observation -----------------------------------------------------------------------------
    @property
    def operations(self) -> list[ReceivedOperation]:
        """Operations accepted so far (copy)."""
        with self._lock:
            return list(self._operations)

    def operation_counts(self) -> dict[str, int]:
        """Accepted requests per operation name."""
        counts: dict[str, int] = {}
        for op in self.operations:
            counts[op.name] = counts.get(op.name, 0) + 1
        return counts

    @property
    def received_envelopes(self) -> list[bytes]:
        """Raw bodies of the last 1000 SOAP POSTs (test use; they contain BSNs, never log them)."""
        with self._lock:
            return list(self._received)

    @property
    def sent_envelopes(self) -> list[bytes]:
        """Raw bodies of the last 1000 SOAP answers, faults included."""
        with self._lock:
            return list(self._sent)

    def _url(self, path: str) -> str:
        if self._base_url is None:
            raise RuntimeError("SuwinetSimulator is not bound to a running server")
        return f"{self._base_url}{path}"

    @property
    def reintegratie_endpoint(self) -> str:
        return self._url(GSD_PATH)

    @property
    def werknemersverzekeringen_endpoint(self) -> str:
        return self._url(UWV_PATH)

    # -- harness hooks ---------------------------------------------------------------------------
    def bind(self, base_url: str) -> None:
        self._base_url = base_url

    def _check_knob(self, name: str, value: Any) -> None:
        if name in ("soap_fault_code", "fout_fault_code"):
            if value not in ("Server", "Client"):
                raise ValueError(f"{name} must be 'Server' or 'Client'")
        elif name in ("fwi_code", "fwi_tekst"):
            if not isinstance(value, str) or not value:
                raise ValueError(f"{name} needs a non-empty string")
        else:
            super()._check_knob(name, value)
        if name in SECURITY_KNOBS and value and self.security is None:
            raise ValueError(f"Suwinet fault knob {name!r} needs a simulator with security (2W-be-S)")

    def __call__(self, method: str, path: str, headers: Mapping[str, str], body: bytes):
        route, _, query = path.partition("?")
        if route.startswith("/__suwinet"):
            return self._admin(method, route, body)
        service = self._services.get(route)
        if method == "GET" and service is not None and query.lower() == "wsdl":
            return 200, _XML, self._wsdl(service, route)
        name = route.rsplit("/", 1)[-1]
        if method == "GET" and name.endswith(".xsd") and (SUWINET_DIR / name).is_file():
            return 200, _XML, (SUWINET_DIR / name).read_bytes()
        if service is None:
            return 404, {"Content-Type": "text/plain"}, b"not found\n"
        if method != "POST":
            return 405, {"Content-Type": "text/plain", "Allow": "GET, POST"}, b"use POST for SOAP\n"
        with self._lock:
            self._received.append(body)
        status, out_headers, out = self._soap(service, headers, body)
        with self._lock:
            self._sent.append(out)
        return status, out_headers, out

    def _admin(self, method: str, route: str, body: bytes):
        try:
            if route == "/__suwinet/lks" and method == "POST":
                self.add_lks(json.loads(body))
            elif route == "/__suwinet/wv" and method == "POST":
                for bsn, fields in json.loads(body).items():
                    self.update_wv(bsn, **fields)
            elif not (route == "/__suwinet" and method == "GET"):
                return 404, _JSON, b'{"error": "unknown admin path"}'
        except (ValueError, TypeError, AttributeError) as exc:
            return 400, _JSON, json.dumps({"error": str(exc)}).encode()
        with self._lock:
            state = {"lks_records": len(self._lks), "wv_persons": len(self._wv)}
        return 200, _JSON, json.dumps({**state, "operations": self.operation_counts()}).encode()

    def _wsdl(self, service: SuwinetService, route: str) -> bytes:
        doc = etree.parse(str(service.wsdl_path))
        for address in doc.iter(f"{{{WSDL_SOAP}}}address"):
            address.set("location", self._url(route))
        return etree.tostring(doc, xml_declaration=True, encoding="UTF-8")

    # -- SOAP ------------------------------------------------------------------------------------
    def _soap(self, service: SuwinetService, headers: Mapping[str, str], body: bytes):
        content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
        if not content_type.lower().startswith("text/xml"):
            return self._fault("Client", "SOAP 1.1 requests must have Content-Type text/xml")
        try:
            envelope = parse_xml(body, max_bytes=self.max_request_bytes)
            wsa = read_addressing(envelope)
        except (UnsafeXmlError, AddressingError) as exc:
            return self._fault("Client", f"request refused: {exc}")
        if envelope.tag != f"{{{SOAP_ENV}}}Envelope":
            return self._fault("VersionMismatch", "expected a SOAP 1.1 Envelope")
        request = _Request(message_id=wsa.message_id)
        if self.security is not None:
            try:
                verified = verify_envelope(envelope, trusted_cert_path=self.security.trusted_client_cert,
                                           clock_skew_seconds=self.security.clock_skew_seconds)
            except UnsignedMessageError as exc:
                return self._fault("Client", f"signature required: {exc}", request)
            except SecurityError as exc:
                return self._fault("Client", f"signature invalid: {exc}", request)
            request = _Request(wsa.message_id, verified.signature_value)
        soap_body = envelope.find(f"{{{SOAP_ENV}}}Body")
        payload = list(soap_body.iterchildren(tag=etree.Element)) if soap_body is not None else []
        if len(payload) != 1 or payload[0].tag != service.request_tag:
            return self._fault("Client", f"the SOAP Body must contain exactly one {service.operation}", request)
        schema = self._schemas[service.operation]
        if not schema.validate(payload[0]):
            return self._fault("Client", f"request does not match the {service.name} schema", request)
        if wsa.action != f"{service.action_base}/{service.operation}":
            return self._fault("Client", "wsa:Action is missing or does not match the operation", request)
        bsn = payload[0].findtext("Burgerservicenr")
        with self._lock:
            self._operations.append(ReceivedOperation(service.operation))
            forced = next((k for k in ("soap_fault_next", "fout_fault_next", "fwi_next") if getattr(self.faults, k)),
                          None)
            if forced:
                setattr(self.faults, forced, getattr(self.faults, forced) - 1)
            faults = SuwinetFaults(**vars(self.faults))
            queued = self._queued.popleft() if self._queued and not forced else None
        if forced == "soap_fault_next":
            return self._fault(faults.soap_fault_code, "injected fault: Suwinet is temporarily unable to answer"
                               if faults.soap_fault_code == "Server" else "injected fault: request refused", request)
        if forced == "fout_fault_next":
            return self._fout_fault(service, faults, request)
        response = etree.Element(service.response_tag, nsmap={"smls": service.namespace})
        if forced == "fwi_next":
            fwi = etree.SubElement(response, fwi_tag("FWI"), nsmap={"fwi": FWI_NAMESPACE})
            _melding(etree.SubElement(fwi, "Fout"), faults.fwi_code, faults.fwi_tekst)
        elif queued is not None:
            response = queued
        elif not self._answer(service, bsn, response):
            etree.SubElement(response, fwi_tag("NietsGevonden"), nsmap={"fwi": FWI_NAMESPACE})
        elif self._take("warning_next"):
            fwi = etree.SubElement(response, fwi_tag("FWI"), nsmap={"fwi": FWI_NAMESPACE})
            _melding(etree.SubElement(fwi, "Waarschuwing"), "SIM-W-001",
                     "Gesimuleerde waarschuwing: gegevens mogelijk onvolledig")
        return self._reply(response, request, action=f"{service.action_base}/{service.operation}Response")

    def _answer(self, service: SuwinetService, bsn: str, response: etree._Element) -> bool:
        """Fill ``response`` with the person's data; False when there is none (NietsGevonden)."""
        with self._lock:
            lks = [r for r in self._lks if r["bsn"] == bsn] if service is GSD_REINTEGRATIE else []
            wv = self._wv.get(bsn) if service is UWV_WERKNEMERSVERZEKERINGEN else None
        if not lks and wv is None:
            return False
        client = _sub(response, "ClientSuwi")
        _sub(client, "Burgerservicenr", bsn)
        for gemeente in dict.fromkeys(r["gemeentecode"] for r in lks):
            relatie = _sub(client, "AtlRelatie")
            for r in (r for r in lks if r["gemeentecode"] == gemeente):
                rv = _sub(relatie, "ReIntegratievoorziening")
                _sub(rv, "DatBRv", r["begin"])
                if r["einde"]:
                    _sub(rv, "DatERv", r["einde"])
                _sub(rv, "CdTypeRvGsd", r["type_code"])
                if r["percentage"] is not None:
                    _sub(_sub(_sub(rv, "Loonkostensubsidie"), "PercLoonwaardeTovWml"), "Percentage", r["percentage"])
            bron = _sub(relatie, "Bron")
            _sub(bron, "CdKolomSuwi", KOLOM_GSD)
            _sub(bron, "CdPartijSuwi", gemeente)
        if wv is not None:
            if wv["eerste_ao_dag"]:
                _sub(_sub(client, "ArbeidsgeschiktheidClient"), "DatEersteAoDag", wv["eerste_ao_dag"])
            for rel in wv["relations"]:
                uv = _sub(client, "Uitkeringsverhouding")
                for tag, key in (("DatBUitkeringsverhouding", "begin"), ("DatEUitkeringsverhouding", "einde"),
                                 ("OmsRedenEindeUitkeringsverh", "reden_einde"),
                                 ("DatEMaximaleUitkeringsduur", "max_duur_einde")):
                    if rel[key]:
                        _sub(uv, tag, rel[key])
                _sub(_sub(uv, "SzWet"), "CdSzWet", rel["wet_code"])
        return True

    def _take(self, knob: str) -> bool:
        with self._lock:
            if getattr(self.faults, knob) > 0:
                setattr(self.faults, knob, getattr(self.faults, knob) - 1)
                return True
        return False

    def _reply(self, payload: etree._Element, request: _Request, *, action: str, status: int = 200,
               knobs: bool = True) -> tuple[int, dict[str, str], bytes]:
        """Envelope ``payload`` with reply addressing; on 2W-be-S sign it (security knobs apply to answers only)."""
        fired = {k for k in SECURITY_KNOBS if knobs and self._take(k)} if self.security is not None else set()
        return status, _XML, reply_envelope(
            payload, action=action, relates_to=request.message_id, security=self.security,
            signature_confirmation=request.signature_value, fired=fired, tamper=_tamper_last_leaf)

    def _fault(self, code: str, message: str, request: _Request = _Request()) -> tuple[int, dict[str, str], bytes]:
        """A plain SOAP 1.1 fault (HTTP 500, as the SOAP 1.1 HTTP binding prescribes)."""
        fault = etree.Element(f"{{{SOAP_ENV}}}Fault")
        _sub(fault, "faultcode", f"soap:{code}")
        _sub(fault, "faultstring", message)
        return self._reply(fault, request, action=WSA_FAULT_ACTION, status=500, knobs=False)

    def _fout_fault(self, service: SuwinetService, faults: SuwinetFaults, request: _Request):
        """The contract's ``AanvraagNietOk`` fault: ``fwi:Fout`` as SOAP fault detail."""
        fault = etree.Element(f"{{{SOAP_ENV}}}Fault")
        _sub(fault, "faultcode", f"soap:{faults.fout_fault_code}")
        _sub(fault, "faultstring", "AanvraagNietOk")
        detail = _sub(fault, "detail")
        _melding(etree.SubElement(detail, fwi_tag("Fout"), nsmap={"fwi": FWI_NAMESPACE}), faults.fwi_code,
                 faults.fwi_tekst)
        return self._reply(fault, request, action=f"{service.action_base}/Fout", status=500, knobs=False)


# -- command line (python -m simulators suwinet) --------------------------------------------------
def add_cli_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``python -m simulators suwinet``."""
    parser.add_argument("--seed", required=True, help="scenario JSON with 'lks' and/or 'suwinet_wv'")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--random-seed", type=int, default=None, help="seed for probabilistic faults")
    parser.add_argument("--tls-dir", default=None,
                        help="serve HTTPS with mutual TLS (and 2W-be-S signing), generating a throwaway test PKI here")
    parser.add_argument("--profile", choices=("2W-be", "2W-be-S"), default="2W-be-S",
                        help="Digikoppeling profile with --tls-dir (default 2W-be-S: signed messages)")


def run_cli(args: argparse.Namespace) -> int:
    """Serve in the foreground until SIGTERM/Ctrl-C; the first stdout line is the base URL."""
    from .certs import generate_test_pki, server_ssl_context
    from .harness import mtls_note, serve_until_stopped

    lks, wv = load_suwinet_seed(args.seed)
    tls = security = None
    if args.tls_dir:
        pki = generate_test_pki(args.tls_dir)
        tls = server_ssl_context(pki)
        security = SimSecurity.from_pki(pki) if args.profile == "2W-be-S" else None
    app = SuwinetSimulator(lks, wv, security=security)
    mtls = f"; {mtls_note(args.tls_dir, signing=security is not None)}, profile {args.profile}" if args.tls_dir else ""
    return serve_until_stopped(app, host=args.host, port=args.port, tls=tls, seed=args.random_seed, banner=lambda _: (
        f"Suwinet endpoints {app.reintegratie_endpoint} and {app.werknemersverzekeringen_endpoint} "
        f"(WSDL: add ?wsdl){mtls}; Ctrl-C to stop"))


def _tamper_last_leaf(payload: etree._Element) -> None:
    """Change the last value in ``payload`` after signing, as an attacker would."""
    leaf = [el for el in payload.iter() if len(el) == 0][-1]
    leaf.text = (leaf.text or "") + "0"
