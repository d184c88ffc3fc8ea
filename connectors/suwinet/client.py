"""Thin Suwinet client: zeep builds the requests from our WSDLs; answers are read raw, safely, by mappings.suwinet.

Digikoppeling WUS (addressing, and on 2W-be-S signing/verification) is a :class:`WusPlugin` per service,
registered last. No BSN ever goes into a log line or an exception message.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
import zeep
from lxml import etree
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from connectors.digikoppeling import SecurityError, WusPlugin, read_wsdl_actions
from mappings.safe_xml import UnsafeXmlError, XmlSyntaxError, parse_xml
from mappings.suwinet import (
    FwiMelding, LksPeriode, SuwiMappingError, SuwiReply, WvInfo, clean_text, fwi_tag, lks_perioden, read_fout,
    read_reply, request_parameters, wv_info,
)
from schemas.suwinet import GSD_REINTEGRATIE, UWV_WERKNEMERSVERZEKERINGEN, SuwinetService

from .errors import (
    SuwinetConfigError, SuwinetError, SuwinetProtocolError, SuwinetRejected, SuwinetSecurityError, SuwinetUnavailable,
)
from .settings import SuwinetSettings
from .transport import Response, Transport, caused_by_tls, host_of, ssl_context, tls_reason

__all__ = ["SuwinetClient"]

log = logging.getLogger(__name__)
T = TypeVar("T")
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"


@dataclass(frozen=True)
class _Port:
    service: SuwinetService
    host: str
    proxy: Any  # zeep ServiceProxy
    wus: WusPlugin


class SuwinetClient:
    """Ask Suwinet about one person. Configuration in, typed data out; no business rules.

    Extra zeep ``plugins`` run before the Digikoppeling plugin (never pass ``wsse``: it would break
    the 2W-be-S signature). Use as a context manager or call :meth:`close`.
    """

    def __init__(self, settings: SuwinetSettings, *, plugins: Sequence[zeep.Plugin] = ()) -> None:
        self.settings = settings
        self._http = httpx.Client(verify=ssl_context(settings), trust_env=False, timeout=settings.timeout_seconds,
                                  follow_redirects=False, headers={"User-Agent": "vangnet-suwinet-connector"})
        transport = Transport(self._http, settings)
        zeep_settings = zeep.Settings(strict=True, raw_response=True, xml_huge_tree=False,
                                      forbid_dtd=True, forbid_entities=True, forbid_external=True)
        self._ports: dict[str, _Port] = {}
        for service, endpoint in ((GSD_REINTEGRATIE, settings.reintegratie_endpoint),
                                  (UWV_WERKNEMERSVERZEKERINGEN, settings.werknemersverzekeringen_endpoint)):
            if endpoint is None:
                continue
            try:
                wus = WusPlugin(settings.digikoppeling, actions=read_wsdl_actions(service.wsdl_path))
            except SecurityError as exc:
                self._http.close()
                raise SuwinetSecurityError(f"Digikoppeling 2W-be-S for Suwinet cannot start: {exc}") from None
            client = zeep.Client(str(service.wsdl_path), transport=transport, settings=zeep_settings,
                                 plugins=[*plugins, wus])
            proxy = client.create_service(service.binding_qname, endpoint)
            self._ports[service.operation] = _Port(service, host_of(endpoint), proxy, wus)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> SuwinetClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- operations ------------------------------------------------------------------------------
    def reintegratie_info(self, bsn: str) -> list[LksPeriode]:
        """The person's re-integratievoorzieningen (GSDReintegratieInfo); ``[]`` for NietsGevonden.

        ``LksPeriode.is_lks`` follows ``settings.lks_type_codes``; check it before treating a period as LKS.
        """
        found = self._ask(GSD_REINTEGRATIE, bsn, lambda client: lks_perioden(
            client, lks_type_codes=self.settings.lks_type_codes, percentage_decimals=self.settings.percentage_decimals))
        return [] if found is None else found

    def werknemersverzekeringen(self, bsn: str) -> WvInfo | None:
        """First sick day and benefit relations (UWVPersoonsWvInfo); None for NietsGevonden."""
        return self._ask(UWV_WERKNEMERSVERZEKERINGEN, bsn,
                         lambda client: wv_info(client, zw_wet_codes=self.settings.zw_wet_codes))

    # -- plumbing --------------------------------------------------------------------------------
    def _ask(self, service: SuwinetService, bsn: str, mapping: Callable[[etree._Element], T]) -> T | None:
        """One question with retries; ``mapping(ClientSuwi)`` for data, None for NietsGevonden."""
        port = self._ports.get(service.operation)
        if port is None:
            raise SuwinetConfigError(f"{service.name} is not configured (no endpoint); set it in SuwinetSettings "
                                     "or do not call this operation")
        try:
            params = request_parameters(bsn)
        except ValueError as exc:
            raise SuwinetRejected(f"{service.operation} not sent: {exc}") from None
        retrying = Retrying(
            retry=retry_if_exception_type(SuwinetUnavailable),
            stop=stop_after_attempt(self.settings.max_attempts),
            wait=wait_exponential(multiplier=self.settings.retry_backoff_seconds,
                                  max=self.settings.retry_max_backoff_seconds),
            before_sleep=lambda state: log.warning(
                "Suwinet %s at %s failed (attempt %d of %d), retrying: %s", service.operation, port.host,
                state.attempt_number, self.settings.max_attempts, state.outcome.exception()),
            reraise=True,
        )
        for attempt in retrying:
            with attempt:
                reply = self._reply(port, self._call_once(port, params), bsn)
        if reply.client_suwi is None:
            return None
        try:
            return mapping(reply.client_suwi)
        except SuwiMappingError as exc:
            raise SuwinetProtocolError(f"Suwinet endpoint {port.host} answered {service.operation} outside the "
                                       f"contract: {exc}; the answer was not used") from None

    def _call_once(self, port: _Port, params: dict[str, str]) -> Response:
        op, host = port.service.operation, port.host
        try:
            return getattr(port.proxy, op)(**params)
        except SuwinetError:
            raise
        except SecurityError as exc:
            raise SuwinetSecurityError(f"could not sign {op} for Suwinet endpoint {host}: {exc}") from None
        except httpx.TimeoutException:
            raise SuwinetUnavailable(f"Suwinet endpoint {host} did not answer {op} within "
                                     f"{self.settings.timeout_seconds} s; try again later") from None
        except httpx.TransportError as exc:
            tls = caused_by_tls(exc)
            if tls is not None:
                raise SuwinetSecurityError(f"TLS with Suwinet endpoint {host} failed ({tls_reason(tls)}); check "
                                           "the CA bundle, the client certificate and that BKWI trusts it") from None
            raise SuwinetUnavailable(f"Suwinet endpoint {host} could not be reached or dropped the connection "
                                     f"during {op} ({type(exc).__name__}); try again later") from None

    def _reply(self, port: _Port, response: Response, bsn: str) -> SuwiReply:
        op, host, status = port.service.operation, port.host, response.status_code
        envelope = None
        if response.content:
            try:
                envelope = parse_xml(response.content, max_bytes=self.settings.max_message_bytes)
            except XmlSyntaxError as exc:
                if 200 <= status < 300:
                    raise SuwinetProtocolError(f"Suwinet endpoint {host} answered {op} with invalid XML: {exc}"
                                               ) from None
            except UnsafeXmlError as exc:
                raise SuwinetSecurityError(f"Suwinet endpoint {host} sent XML that was refused: {exc}") from None
        fault = envelope.find(f"{{{SOAP_ENV}}}Body/{{{SOAP_ENV}}}Fault") if envelope is not None else None
        if fault is not None:
            self._raise_fault(op, host, fault)
        if status >= 500 or status in (408, 429):
            raise SuwinetUnavailable(f"Suwinet endpoint {host} answered {op} with HTTP {status}; try again later")
        if status >= 400:
            raise SuwinetRejected(f"Suwinet endpoint {host} refused {op} with HTTP {status}; "
                                  "check the endpoint URL and client certificate")
        if status != 200 or envelope is None or envelope.tag != f"{{{SOAP_ENV}}}Envelope":
            raise SuwinetProtocolError(f"Suwinet endpoint {host} answered {op} with HTTP {status} "
                                       "but no SOAP 1.1 envelope; check the endpoint URL")
        try:  # faults are never used as answers, so only these are verified (a server often can't sign them)
            port.wus.check_response(envelope)
        except SecurityError as exc:
            raise SuwinetSecurityError(f"Suwinet endpoint {host} sent a reply that was refused: {exc}") from None
        payload = envelope.find(f"{{{SOAP_ENV}}}Body/{port.service.response_tag}")
        if payload is None:
            raise SuwinetProtocolError(f"Suwinet endpoint {host} answered {op} without {op}Response")
        try:
            reply = read_reply(payload, response_tag=port.service.response_tag, bsn=bsn)
        except SuwiMappingError as exc:
            raise SuwinetProtocolError(f"Suwinet endpoint {host} answered {op} outside the contract: {exc}") from None
        if reply.is_fwi or reply.fouten:
            raise self._fwi_error(op, host, reply.meldingen, "an FWI error" if reply.is_fwi else
                                  "data together with an FWI error (it may be incomplete, so it was not used)")
        if reply.meldingen:
            log.info("Suwinet %s at %s answered with FWI %s", op, host,
                     ", ".join(f"{m.soort} {m.code}" for m in reply.meldingen))
        return reply

    def _raise_fault(self, op: str, host: str, fault: etree._Element) -> None:
        code = (fault.findtext("faultcode") or "").strip().rpartition(":")[2].split(".")[0]
        fout = fault.find(f"detail/{fwi_tag('Fout')}")
        meldingen = (read_fout(fout),) if fout is not None else ()
        if meldingen and code != "Server":
            raise self._fwi_error(op, host, meldingen, f"a soap:{code or '?'} fault (AanvraagNietOk)")
        text = meldingen[0].omschrijving if meldingen else clean_text(fault.findtext("faultstring"))
        if code == "Server":
            raise SuwinetUnavailable(f"Suwinet endpoint {host} reported a server fault on {op}: {text}; "
                                     "try again later", fouten=meldingen)
        raise SuwinetRejected(f"Suwinet endpoint {host} refused {op} (soap:{code or '?'}): {text}; this is not "
                              "retried, check the request and configuration")

    def _fwi_error(self, op: str, host: str, meldingen: tuple[FwiMelding, ...], what: str) -> SuwinetError:
        fouten = tuple(m for m in meldingen if m.soort == "Fout") or meldingen
        summary = "; ".join(f"{m.code}: {m.omschrijving}" for m in fouten) or "no details"
        if any(m.code in self.settings.fwi_retry_codes for m in fouten):
            return SuwinetUnavailable(f"Suwinet endpoint {host} answered {op} with {what} [{summary}]; the code is "
                                      "configured as transient (fwi_retry_codes), try again later", fouten=fouten)
        return SuwinetRejected(f"Suwinet endpoint {host} answered {op} with {what} [{summary}]; not retried: check "
                               "the request, or ask BKWI what the code means", fouten=fouten)
