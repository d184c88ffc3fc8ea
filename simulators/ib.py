"""Inlichtingenbureau stand-in: serves our WSDL/XSD and answers HaalSignalen/BevestigSignalen (SOAP 1.1).

Seed it with canonical signal records (dicts, domain.md §4). Records are NOT validated: tests and
demos deliberately include bad ones (a BSN failing the 11-proef, an impossible date); whatever is
given is written as text. Only ``volgnummer`` must be an integer, because it orders the feed.

Digikoppeling: replies always carry WS-Addressing (To anonymous, Action, MessageID, RelatesTo when
the request had a MessageID). With ``security=SimSecurity(...)`` it is a 2W-be-S service: request
signatures are verified against the client's signing certificate (``soap:Client`` fault otherwise)
and replies are signed, confirming the request's signature.
"""

from __future__ import annotations

import copy
import json
import threading
import time
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree

from connectors.digikoppeling import (
    AddressingError,
    SecurityError,
    UnsignedMessageError,
    read_addressing,
    read_wsdl_actions,
    verify_envelope,
)
from connectors.digikoppeling.namespaces import WSA_FAULT_ACTION
from mappings.ib_signal import IB_NAMESPACE, fields_to_signal_element, ib_tag
from mappings.safe_xml import UnsafeXmlError, parse_xml
from schemas.ib import WSDL_PATH, XSD_PATH

from simulators.harness import AppFaults
from simulators.wus import SECURITY_KNOBS, SOAP_ENV, SimSecurity, reply_envelope

__all__ = ["IbSimulator", "ReceivedOperation", "SimSecurity", "load_signal_records"]

WSDL_SOAP = "http://schemas.xmlsoap.org/wsdl/soap/"
DEFAULT_PATH = "/ib/signalen"
_XML_HEADERS = {"Content-Type": "text/xml; charset=utf-8"}


@dataclass(frozen=True)
class ReceivedOperation:
    """A SOAP operation the simulator accepted (``params`` are the request's numbers)."""

    name: str
    params: dict[str, int]
    at: float = field(default_factory=time.time)


@dataclass(frozen=True)
class _Request:
    """What a reply must echo: the request's MessageID and (2W-be-S) SignatureValue."""

    message_id: str | None = None
    signature_value: str | None = None


@dataclass
class IbFaults:
    """IB-specific knobs (set via ``SimServer.set_faults`` or ``POST /__faults``)."""

    soap_fault_next: int = 0
    """Answer the next N SOAP requests with a SOAP fault instead of the real answer."""
    soap_fault_code: str = "Server"
    """``Server`` (transient) or ``Client`` (request refused)."""
    duplicate_next: int = 0
    """In the next N non-empty pages, deliver the page's first signal twice."""
    gap_next: int = 0
    """In the next N non-empty pages, leave one signal out (the second, or the only one)."""
    tamper_next: int = 0
    """2W-be-S: in the next N answers, change a signed number in the Body after signing."""
    unsigned_next: int = 0
    """2W-be-S: send the next N answers without a Security header."""
    expired_next: int = 0
    """2W-be-S: sign the next N answers with a timestamp that expired an hour ago."""
    wrong_cert_next: int = 0
    """2W-be-S: sign the next N answers with the untrusted key and certificate."""




def load_signal_records(path: str | Path) -> list[dict[str, Any]]:
    """Read records from JSON (a list, or a scenario object with ``signalen``) or JSONL."""
    text = Path(path).read_text(encoding="utf-8")
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        data = [json.loads(line) for line in text.splitlines() if line.strip()]
    if isinstance(data, dict):
        data = data["signalen"] if "signalen" in data else [data]
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise ValueError(f"{path}: expected a JSON list of signal objects, a scenario with 'signalen', or JSONL")
    return data


class IbSimulator(AppFaults):
    """The IB app for :class:`simulators.harness.SimServer`.

    ``GET <path>?wsdl`` returns the WSDL with its address set to this server; the XSD is served
    next to it. ``POST <path>`` takes SOAP 1.1 requests. Admin: ``POST /__signals`` (JSON list)
    adds signals, ``GET /__ib`` shows state. ``security`` makes it a Digikoppeling 2W-be-S service.
    """

    faults_type = IbFaults
    faults_label = "IB"

    def __init__(self, records: Iterable[Mapping[str, Any]] = (), *, path: str = DEFAULT_PATH,
                 max_request_bytes: int = 1024 * 1024, security: SimSecurity | None = None) -> None:
        self.path = path
        self.max_request_bytes = max_request_bytes
        self.security = security
        self._actions = read_wsdl_actions(WSDL_PATH)
        self._received: deque[bytes] = deque(maxlen=1000)
        self.acknowledged_upto = 0
        self.faults = IbFaults()
        self._lock = threading.Lock()
        self._signals: dict[int, etree._Element] = {}
        self._operations: list[ReceivedOperation] = []
        self._base_url: str | None = None
        self._schema = etree.XMLSchema(etree.parse(str(XSD_PATH)))
        self.add_signals(records)

    # -- public state ----------------------------------------------------------------------------
    def add_signals(self, records: Iterable[Mapping[str, Any]]) -> None:
        """Add signal records; a record without ``volgnummer`` gets the next free number."""
        with self._lock:
            staged: dict[int, etree._Element] = {}
            for record in records:
                record = dict(record)
                if record.get("volgnummer") is None:
                    record["volgnummer"] = max([*self._signals, *staged], default=0) + 1
                try:
                    number = int(record["volgnummer"])
                except (TypeError, ValueError):
                    raise ValueError("the IB simulator needs an integer volgnummer to order its feed") from None
                if number in self._signals or number in staged:
                    raise ValueError(f"volgnummer {number} is already in the simulator")
                staged[number] = fields_to_signal_element(record)
            self._signals.update(staged)  # all or nothing

    @property
    def operations(self) -> list[ReceivedOperation]:
        """Operations received so far (copy)."""
        with self._lock:
            return list(self._operations)

    @property
    def received_envelopes(self) -> list[bytes]:
        """Raw bodies of the last 1000 SOAP POSTs as received, faults included (copy)."""
        with self._lock:
            return list(self._received)

    @property
    def highest(self) -> int:
        with self._lock:
            return max(self._signals, default=0)

    @property
    def wsdl_url(self) -> str:
        if self._base_url is None:
            raise RuntimeError("IbSimulator is not bound to a running server")
        return f"{self._base_url}{self.path}?wsdl"

    @property
    def endpoint(self) -> str:
        """The SOAP endpoint URL once the server runs."""
        if self._base_url is None:
            raise RuntimeError("IbSimulator is not bound to a running server")
        return f"{self._base_url}{self.path}"

    # -- harness hooks ---------------------------------------------------------------------------
    def bind(self, base_url: str) -> None:
        self._base_url = base_url

    def _check_knob(self, name: str, value: Any) -> None:
        if name == "soap_fault_code":
            if value not in ("Server", "Client"):
                raise ValueError("soap_fault_code must be 'Server' or 'Client'")
        else:
            super()._check_knob(name, value)
        if name in SECURITY_KNOBS and value and self.security is None:
            raise ValueError(f"IB fault knob {name!r} needs a simulator with security (2W-be-S)")
        if name == "wrong_cert_next" and value and self.security.untrusted_key is None:
            raise ValueError("wrong_cert_next needs SimSecurity.untrusted_key and untrusted_cert")

    def __call__(self, method: str, path: str, headers: Mapping[str, str], body: bytes):
        route, _, query = path.partition("?")
        if route == "/__signals" and method == "POST":
            try:
                self.add_signals(json.loads(body))
            except (ValueError, TypeError, AttributeError) as exc:
                return 400, {"Content-Type": "application/json"}, json.dumps({"error": str(exc)}).encode()
            return 200, {"Content-Type": "application/json"}, json.dumps({"highest": self.highest}).encode()
        if route == "/__ib" and method == "GET":
            state = {"highest": self.highest, "acknowledged_upto": self.acknowledged_upto,
                     "operations": [op.name for op in self.operations]}
            return 200, {"Content-Type": "application/json"}, json.dumps(state).encode()
        if method == "GET" and route == self.path and query.lower() == "wsdl":
            return 200, _XML_HEADERS, self._wsdl()
        if method == "GET" and route.rsplit("/", 1)[-1] == XSD_PATH.name:
            return 200, _XML_HEADERS, XSD_PATH.read_bytes()
        if route != self.path:
            return 404, {"Content-Type": "text/plain"}, b"not found\n"
        if method != "POST":
            return 405, {"Content-Type": "text/plain", "Allow": "GET, POST"}, b"use POST for SOAP\n"
        return self._soap(headers, body)

    # -- SOAP ------------------------------------------------------------------------------------
    def _wsdl(self) -> bytes:
        doc = etree.parse(str(WSDL_PATH))
        for address in doc.iter(f"{{{WSDL_SOAP}}}address"):
            address.set("location", self.endpoint)
        return etree.tostring(doc, xml_declaration=True, encoding="UTF-8")

    def _soap(self, headers: Mapping[str, str], body: bytes):
        with self._lock:
            self._received.append(body)
        content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
        if not content_type.lower().startswith("text/xml"):
            return self._fault("Client", "SOAP 1.1 requests must have Content-Type text/xml")
        try:
            envelope = parse_xml(body, max_bytes=self.max_request_bytes)
        except UnsafeXmlError as exc:
            return self._fault("Client", f"request refused: {exc}")
        if envelope.tag != f"{{{SOAP_ENV}}}Envelope":
            return self._fault("VersionMismatch", "expected a SOAP 1.1 Envelope")
        try:
            wsa = read_addressing(envelope)
        except AddressingError as exc:
            return self._fault("Client", f"request refused: {exc}")
        request = _Request(message_id=wsa.message_id)
        if self.security is not None:
            try:
                verified = verify_envelope(envelope, trusted_cert_path=self.security.trusted_client_cert,
                                           clock_skew_seconds=self.security.clock_skew_seconds)
            except UnsignedMessageError as exc:
                return self._fault("Client", f"signature required: {exc}", request)
            except SecurityError as exc:
                return self._fault("Client", f"signature invalid: {exc}", request)
            request = _Request(message_id=wsa.message_id, signature_value=verified.signature_value)
            if not wsa.message_id or not wsa.action:
                return self._fault("Client", "2W-be-S requests need wsa:MessageID and wsa:Action", request)
        soap_body = envelope.find(f"{{{SOAP_ENV}}}Body")
        payload = list(soap_body.iterchildren(tag=etree.Element)) if soap_body is not None else []
        if len(payload) != 1:
            return self._fault("Client", "the SOAP Body must contain exactly one request element", request)
        operation = etree.QName(payload[0]).localname
        if not self._schema.validate(payload[0]):
            error = self._schema.error_log.last_error
            return self._fault("Client", f"request does not match ib-signalen.xsd: {error.message if error else ''}",
                               request)
        if wsa.action is not None and wsa.action != getattr(self._actions.get(operation), "request", None):
            return self._fault("Client", "wsa:Action does not match the operation in the Body", request)
        with self._lock:
            forced = self.faults.soap_fault_next > 0
            if forced:
                self.faults.soap_fault_next -= 1
                code = self.faults.soap_fault_code
        if forced:
            return self._fault(code, "injected fault: the IB service is temporarily unable to answer"
                               if code == "Server" else "injected fault: request refused", request)
        if operation == "HaalSignalen":
            result = self._haal(payload[0])
        elif operation == "BevestigSignalen":
            result = self._bevestig(payload[0])
        else:
            return self._fault("Client", f"unknown operation {operation}", request)
        if isinstance(result, str):
            return self._fault("Client", result, request)
        return self._reply(result, request, action=self._actions[operation].response)

    def _haal(self, request: etree._Element):
        after = int(request.findtext(ib_tag("VanafVolgnummer")))
        max_count = int(request.findtext(ib_tag("MaxAantal")))
        with self._lock:
            self._operations.append(ReceivedOperation("HaalSignalen", {"VanafVolgnummer": after, "MaxAantal": max_count}))
            candidates = sorted(n for n in self._signals if n > after)
            numbers = candidates[:max_count]
            page = [copy.deepcopy(self._signals[n]) for n in numbers]
            highest = max(self._signals, default=0)
            if page and self.faults.duplicate_next > 0:
                self.faults.duplicate_next -= 1
                if len(page) == max_count > 1:  # stay within MaxAantal; the last one comes next page
                    page.pop()
                    numbers.pop()
                page.insert(1, copy.deepcopy(page[0]))
            if page and self.faults.gap_next > 0:
                self.faults.gap_next -= 1
                page.pop(1 if len(page) > 1 else 0)
        more = len(candidates) > len(numbers)
        response = etree.Element(ib_tag("HaalSignalenResponse"), nsmap={None: IB_NAMESPACE})
        response.extend(page)
        etree.SubElement(response, ib_tag("HoogsteVolgnummer")).text = str(highest)
        etree.SubElement(response, ib_tag("Meer")).text = "true" if more else "false"
        return response

    def _bevestig(self, request: etree._Element):
        upto = int(request.findtext(ib_tag("TotEnMetVolgnummer")))
        with self._lock:
            self._operations.append(ReceivedOperation("BevestigSignalen", {"TotEnMetVolgnummer": upto}))
            highest = max(self._signals, default=0)
            if upto > highest:
                refuse = True
            else:
                refuse = False
                self.acknowledged_upto = max(self.acknowledged_upto, upto)
                confirmed = self.acknowledged_upto
        if refuse:
            return f"cannot confirm beyond the highest volgnummer {highest}"
        response = etree.Element(ib_tag("BevestigSignalenResponse"), nsmap={None: IB_NAMESPACE})
        etree.SubElement(response, ib_tag("BevestigdTotEnMet")).text = str(confirmed)
        return response


    def _reply(self, payload: etree._Element, request: _Request, *, action: str, status: int = 200,
               knobs: bool = True) -> tuple[int, dict[str, str], bytes]:
        """Envelope ``payload`` with reply addressing; on 2W-be-S sign it (fault knobs apply to answers only)."""
        fired = self._take_security_knobs() if knobs and self.security is not None else set()
        return status, _XML_HEADERS, reply_envelope(
            payload, action=action, relates_to=request.message_id, security=self.security,
            signature_confirmation=request.signature_value, fired=fired, tamper=_tamper)

    def _take_security_knobs(self) -> set[str]:
        with self._lock:
            fired = {name for name in SECURITY_KNOBS if getattr(self.faults, name) > 0}
            for name in fired:
                setattr(self.faults, name, getattr(self.faults, name) - 1)
        return fired

    def _fault(self, code: str, message: str, request: _Request = _Request()) -> tuple[int, dict[str, str], bytes]:
        """A SOAP 1.1 fault; HTTP 500 for every fault, as the SOAP 1.1 HTTP binding prescribes."""
        fault = etree.Element(f"{{{SOAP_ENV}}}Fault")
        etree.SubElement(fault, "faultcode").text = f"soap:{code}"
        faultstring = etree.SubElement(fault, "faultstring")
        faultstring.text = message
        faultstring.set("{http://www.w3.org/XML/1998/namespace}lang", "en")
        return self._reply(fault, request, action=WSA_FAULT_ACTION, status=500, knobs=False)


def _tamper(payload: etree._Element) -> None:
    """Change the last number in ``payload`` (HoogsteVolgnummer / BevestigdTotEnMet), as an attacker would."""
    leaf = [el for el in payload.iter() if len(el) == 0 and (el.text or "").strip().isdigit()][-1]
    leaf.text = str(int(leaf.text) + 1)
