"""Thin IB client: zeep builds the SOAP requests from our WSDL; responses are read raw and safely.

zeep never deserialises a response: a page with one bad signal must still reach the inbox whole,
so each ``Signaal`` element is handed out as bytes, exactly as received (exclusive C14N).
Digikoppeling WUS (addressing, and signing on 2W-be-S) is a :class:`WusPlugin`, registered last.
"""

from __future__ import annotations

import logging
import re
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
import zeep
from lxml import etree
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from connectors.digikoppeling import SecurityError, WusPlugin, read_wsdl_actions
from connectors.tls import TlsFilesError, caused_by_tls, client_ssl_context, tls_reason
from mappings.ib_signal import SIGNAAL_TAG, ib_tag
from mappings.safe_xml import UnsafeXmlError, XmlSyntaxError, parse_xml
from schemas.ib import BINDING_QNAME

from .errors import IbError, IbProtocolError, IbRejected, IbSecurityError, IbUnavailable
from .settings import IbSettings

__all__ = ["IbClient", "RawSignal", "SignalPage"]

log = logging.getLogger(__name__)
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"


@dataclass(frozen=True)
class RawSignal:
    """One ``Signaal`` element as received. ``volgnummer``/``bericht_id`` are best effort (None if unreadable)."""

    volgnummer: int | None
    bericht_id: str | None
    xml: bytes = field(repr=False)  # carries a BSN: keep it out of reprs and logs


@dataclass(frozen=True)
class SignalPage:
    """One ``HaalSignalen`` answer. Duplicates and gaps are passed on as delivered, not hidden."""

    signals: list[RawSignal]
    highest_available: int
    more: bool


@dataclass(frozen=True)
class _Response:
    status_code: int
    headers: httpx.Headers
    content: bytes


class _Transport(zeep.Transport):
    """zeep transport over a pinned httpx client: local WSDL/XSD only, one endpoint, bounded answers."""

    def __init__(self, http: httpx.Client, settings: IbSettings) -> None:
        super().__init__(cache=None)
        self.session.close()  # zeep's own requests session is never used
        self._http = http
        self._settings = settings

    def load(self, url: str) -> bytes:
        if urlsplit(url).scheme not in ("", "file"):
            raise ValueError(f"refusing to fetch {url}: the IB WSDL and XSD must be local files")
        return super().load(url)

    def get(self, address: str, params: Any, headers: Any) -> Any:
        raise NotImplementedError("the IB contract only uses HTTP POST")

    def post(self, address: str, message: bytes, headers: dict[str, str]) -> _Response:
        host, limit = self._settings.endpoint_host, self._settings.max_message_bytes
        if address != self._settings.endpoint:
            raise IbSecurityError(f"refusing to send to {urlsplit(address).hostname}: only {host} is configured")
        with self._http.stream("POST", address, content=message, headers=headers) as response:
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > limit:
                raise _too_large(host, limit)
            content = bytearray()
            for chunk in response.iter_bytes():
                content += chunk
                if len(content) > limit:
                    raise _too_large(host, limit)
        return _Response(response.status_code, response.headers, bytes(content))


def _too_large(host: str, limit: int) -> IbProtocolError:
    return IbProtocolError(
        f"IB endpoint {host} sent a response over {limit} bytes; refused. "
        "Ask for smaller pages or raise max_message_bytes."
    )


def _ssl_context(settings: IbSettings) -> ssl.SSLContext:
    try:
        return client_ssl_context(ca_bundle=settings.ca_bundle_path, client_cert=settings.client_cert_path,
                                  client_key=settings.client_key_path)
    except TlsFilesError as exc:
        raise IbSecurityError(f"IB: {exc}") from None


def _clean(text: str) -> str:
    """Fault text for messages: long digit runs (possible BSNs) masked, length capped."""
    return re.sub(r"\d{9,}", "<number>", " ".join(text.split()))[:200]


class IbClient:
    """Pull signals from IB and confirm them. Configuration in, typed data out; no business rules.

    Every request gets the Digikoppeling WS-Addressing headers and every reply must relate to it;
    with ``settings.digikoppeling.profile == "2W-be-S"`` requests are signed and replies verified
    (see ``connectors/digikoppeling``). Extra zeep ``plugins`` run before that; ``wsse`` is only
    allowed on 2W-be, because zeep applies it after the plugins and would break our signature.
    """

    def __init__(self, settings: IbSettings, *, plugins: Sequence[zeep.Plugin] = (), wsse: Any = None) -> None:
        self.settings = settings
        self._host = settings.endpoint_host
        if wsse is not None and settings.digikoppeling.signed:
            raise ValueError("IbClient signs itself on 2W-be-S; do not pass wsse as well")
        try:
            self._wus = WusPlugin(settings.digikoppeling, actions=read_wsdl_actions(settings.wsdl_path))
        except SecurityError as exc:
            raise IbSecurityError(f"Digikoppeling 2W-be-S for IB cannot start: {exc}") from None
        self._http = httpx.Client(
            verify=_ssl_context(settings),
            trust_env=False,  # no proxy/CA overrides from the environment
            timeout=settings.timeout_seconds,
            follow_redirects=False,
            headers={"User-Agent": "vangnet-ib-connector"},
        )
        zeep_settings = zeep.Settings(
            strict=True, raw_response=True, xml_huge_tree=False,
            forbid_dtd=True, forbid_entities=True, forbid_external=True,
        )
        client = zeep.Client(
            str(settings.wsdl_path), transport=_Transport(self._http, settings),
            settings=zeep_settings, plugins=[*plugins, self._wus], wsse=wsse,
        )
        self._service = client.create_service(BINDING_QNAME, settings.endpoint)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> IbClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- operations ------------------------------------------------------------------------------
    def fetch_page(self, after: int, max_count: int) -> SignalPage:
        """Signals with volgnummer > ``after``, at most ``max_count`` (1..1000), as raw XML."""
        if after < 0 or not 1 <= max_count <= 1000:
            raise ValueError("fetch_page needs after >= 0 and 1 <= max_count <= 1000")
        payload = self._call("HaalSignalen", VanafVolgnummer=after, MaxAantal=max_count)
        highest = _int(payload.findtext(ib_tag("HoogsteVolgnummer")))
        more = {"true": True, "1": True, "false": False, "0": False}.get(
            (payload.findtext(ib_tag("Meer")) or "").strip())
        if highest is None or more is None:
            raise IbProtocolError(f"IB endpoint {self._host} sent a page without a valid HoogsteVolgnummer/Meer")
        return SignalPage([_raw_signal(el) for el in payload.iterchildren(SIGNAAL_TAG)], highest, more)

    def acknowledge(self, upto: int) -> None:
        """Tell IB everything up to and including ``upto`` is stored. Safe to repeat."""
        payload = self._call("BevestigSignalen", TotEnMetVolgnummer=upto)
        confirmed = _int(payload.findtext(ib_tag("BevestigdTotEnMet")))
        if confirmed is None or confirmed < upto:
            raise IbProtocolError(f"IB endpoint {self._host} did not confirm up to volgnummer {upto}")

    # -- plumbing --------------------------------------------------------------------------------
    def _call(self, operation: str, **params: int) -> etree._Element:
        retrying = Retrying(
            retry=retry_if_exception_type(IbUnavailable),
            stop=stop_after_attempt(self.settings.max_attempts),
            wait=wait_exponential(multiplier=self.settings.retry_backoff_seconds,
                                  max=self.settings.retry_max_backoff_seconds),
            before_sleep=lambda state: log.warning(
                "IB %s at %s failed (attempt %d of %d), retrying: %s", operation, self._host,
                state.attempt_number, self.settings.max_attempts, state.outcome.exception()),
            reraise=True,
        )
        for attempt in retrying:
            with attempt:
                return self._call_once(operation, params)
        raise AssertionError("unreachable")  # pragma: no cover

    def _call_once(self, operation: str, params: dict[str, int]) -> etree._Element:
        host, timeout = self._host, self.settings.timeout_seconds
        try:
            response = getattr(self._service, operation)(**params)
        except IbError:
            raise
        except SecurityError as exc:
            raise IbSecurityError(f"could not sign {operation} for IB endpoint {host}: {exc}") from None
        except httpx.TimeoutException:
            raise IbUnavailable(f"IB endpoint {host} did not answer {operation} within {timeout} s; "
                                "check that IB is reachable, try again later") from None
        except httpx.TransportError as exc:
            tls = caused_by_tls(exc)
            if tls is not None:
                raise IbSecurityError(f"TLS with IB endpoint {host} failed ({tls_reason(tls)}); check the "
                                      "CA bundle, the client certificate and that IB trusts it") from None
            raise IbUnavailable(f"IB endpoint {host} could not be reached or dropped the connection "
                                f"during {operation} ({type(exc).__name__}); try again later") from None
        return self._payload(operation, response)

    def _payload(self, operation: str, response: _Response) -> etree._Element:
        host, status = self._host, response.status_code
        envelope = None
        if response.content:
            try:
                envelope = parse_xml(response.content, max_bytes=self.settings.max_message_bytes)
            except XmlSyntaxError as exc:
                if 200 <= status < 300:
                    raise IbProtocolError(f"IB endpoint {host} answered {operation} with invalid XML: {exc}") from None
            except UnsafeXmlError as exc:
                raise IbSecurityError(f"IB endpoint {host} sent XML that was refused: {exc}") from None
        fault = envelope.find(f"{{{SOAP_ENV}}}Body/{{{SOAP_ENV}}}Fault") if envelope is not None else None
        if fault is not None:
            code = (fault.findtext("faultcode") or "").strip().rpartition(":")[2].split(".")[0]
            text = _clean(fault.findtext("faultstring") or "")
            if code == "Server":
                raise IbUnavailable(f"IB endpoint {host} reported a server fault on {operation}: {text}; "
                                    "try again later")
            raise IbRejected(f"IB endpoint {host} refused {operation} (soap:{code or '?'}): {text}; "
                             "this is not retried, check the request and configuration")
        if status >= 500 or status in (408, 429):
            raise IbUnavailable(f"IB endpoint {host} answered {operation} with HTTP {status}; "
                                "try again later")
        if status >= 400:
            raise IbRejected(f"IB endpoint {host} refused {operation} with HTTP {status}; "
                             "check the endpoint URL and client certificate")
        if status != 200 or envelope is None or envelope.tag != f"{{{SOAP_ENV}}}Envelope":
            raise IbProtocolError(f"IB endpoint {host} answered {operation} with HTTP {status} "
                                  "but no SOAP 1.1 envelope; check the endpoint URL")
        self._check_envelope(envelope)
        payload = envelope.find(f"{{{SOAP_ENV}}}Body/{ib_tag(operation + 'Response')}")
        if payload is None:
            raise IbProtocolError(f"IB endpoint {host} answered {operation} without {operation}Response")
        return payload

    def _check_envelope(self, envelope: etree._Element) -> None:
        """Digikoppeling checks on a non-fault reply: signature (2W-be-S), RelatesTo and Action.

        Faults are not checked: they are never used as an answer, and a server often cannot sign
        the fault about a bad request signature.
        """
        try:
            self._wus.check_response(envelope)
        except SecurityError as exc:
            raise IbSecurityError(f"IB endpoint {self._host} sent a reply that was refused: {exc}") from None


def _int(text: str | None) -> int | None:
    text = (text or "").strip()
    return int(text) if text.isascii() and text.isdigit() else None


MAX_BERICHT_ID = 64  # ib-signalen.xsd BerichtId maxLength; the inbox keys messages by it


def _raw_signal(el: etree._Element) -> RawSignal:
    bericht_id = (el.findtext(ib_tag("BerichtId")) or "").strip() or None
    if bericht_id is not None and len(bericht_id) > MAX_BERICHT_ID:
        bericht_id = None  # outside the contract: stored without a key, the intake quarantines it
    xml = etree.tostring(el, method="c14n", exclusive=True, with_comments=True)
    return RawSignal(volgnummer=_int(el.findtext(ib_tag("Volgnummer"))), bericht_id=bericht_id, xml=xml)
