"""Thin client for vangnet's arbodienst booking API (``schemas/arbodienst/openapi.yaml``).

Every request goes to ``settings.base_url`` or below it; anything else (a booking id that walks out
with ``..``) raises :class:`ArbodienstRefusedUrl` before a request is made. Redirects are not followed.
Every POST carries the caller's ``Idempotency-Key``, so every call, POSTs included, is retried on
transient failures: the arbodienst answers a repeat with the result of the first.

Nothing personal is logged or put in an error: logs and messages name the arbodienst, the endpoint
path and the HTTP status / problem code, never a body (a booking body may carry a BSN, an advice is
health data).
"""

from __future__ import annotations

import json
import logging
import ssl
from datetime import date
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from connectors.rest import (
    backoff_seconds, clean, loads_json, pinned_url, problem_code_title, read_limited, retry_after_seconds,
)
from connectors.tls import TlsFilesError, caused_by_tls, client_ssl_context
from mappings.arbodienst import (
    Booking,
    BookingStatus,
    MappingError,
    Person,
    Slot,
    booking_from_json,
    booking_request_body,
    check_idempotency_key,
    reschedule_body,
    slots_from_json,
)

from .errors import (
    ArbodienstAuthError,
    ArbodienstError,
    ArbodienstProtocolError,
    ArbodienstRefusedUrl,
    ArbodienstRejected,
    ArbodienstSlotTaken,
    ArbodienstUnavailable,
)
from .settings import ArbodienstSettings

__all__ = ["ArbodienstClient", "Booking", "BookingStatus", "Person", "Slot"]

log = logging.getLogger(__name__)

SLOT_TAKEN = "slot-bezet"
ADVICE_NOT_YET = "advies-nog-niet-beschikbaar"
MAX_RESPONSE_BYTES = 5 * 1024 * 1024


def _segment(value: Any, name: str) -> str:
    """``value`` as one percent-encoded path segment."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} must be a non-empty string")
    return quote(value, safe="")


class ArbodienstClient:
    """Book bedrijfsarts consults at one arbodienst. Configuration in, typed data out; no business rules.

    ``transport`` replaces the network (an ``httpx.MockTransport`` in tests); TLS settings then do not apply.
    """

    def __init__(self, settings: ArbodienstSettings, *, transport: httpx.BaseTransport | None = None) -> None:
        self.settings = settings
        self._base = urlsplit(settings.base_url)
        verify: ssl.SSLContext | bool = True if transport is not None else self._tls_context()
        self._http = httpx.Client(
            transport=transport,
            verify=verify,
            trust_env=False,  # no proxy/CA overrides from the environment
            timeout=settings.timeout_seconds,
            follow_redirects=False,
            headers={"User-Agent": "vangnet-arbodienst-connector", "Accept": "application/json"},
        )

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> ArbodienstClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- operations ------------------------------------------------------------------------------
    def list_slots(self, van: date, tot: date, *, regio: str | None = None) -> list[Slot]:
        """Free slots from ``van`` to ``tot`` (both inclusive) in ``regio`` (default: the configured one),
        ordered by start."""
        if not isinstance(van, date) or not isinstance(tot, date) or van > tot:
            raise ValueError("list_slots needs two dates with van <= tot")
        query = urlencode({"regio": regio or self.settings.regio, "van": van.isoformat(), "tot": tot.isoformat()})
        data = self._call("GET", f"slots?{query}")
        return self._map(slots_from_json, data, "GET slots")

    def book(self, *, consult_ref: str, case_ref: str, doel: str, slot_id: str, uiterste_datum: date,
             idempotency_key: str, person: Person | None = None) -> Booking:
        """Book ``slot_id`` for the consult. Repeating it with the same ``idempotency_key`` (and the same
        data) returns the same booking, never a second. :class:`ArbodienstSlotTaken` when the slot is gone.
        The BSN (``person``) goes into the request body only."""
        body = booking_request_body(consult_ref=consult_ref, case_ref=case_ref, doel=doel, slot_id=slot_id,
                                    uiterste_datum=uiterste_datum, person=person)
        data = self._call("POST", "bookings", body=body, key=idempotency_key, slot_id=slot_id)
        booking = self._map(booking_from_json, data, "POST bookings")
        if booking.consult_ref != consult_ref or booking.slot_id != slot_id:
            raise ArbodienstProtocolError(f"arbodienst {self.settings.name} answered POST bookings with a booking "
                                          "for another consult or slot; check the Idempotency-Key handling there")
        return booking

    def get_booking(self, booking_id: str) -> Booking:
        """The booking with its current status."""
        data = self._call("GET", f"bookings/{_segment(booking_id, 'booking_id')}")
        return self._checked(self._map(booking_from_json, data, "GET booking"), booking_id)

    def cancel(self, booking_id: str, *, idempotency_key: str) -> Booking:
        """Cancel the booking; cancelling a cancelled booking returns it unchanged."""
        data = self._call("POST", f"bookings/{_segment(booking_id, 'booking_id')}/cancel", key=idempotency_key)
        return self._checked(self._map(booking_from_json, data, "POST cancel"), booking_id)

    def reschedule(self, booking_id: str, *, slot_id: str, idempotency_key: str) -> Booking:
        """Move the booking to ``slot_id``. :class:`ArbodienstSlotTaken` when that slot is gone."""
        data = self._call("POST", f"bookings/{_segment(booking_id, 'booking_id')}/reschedule",
                          body=reschedule_body(slot_id), key=idempotency_key, slot_id=slot_id)
        booking = self._checked(self._map(booking_from_json, data, "POST reschedule"), booking_id)
        if booking.slot_id != slot_id:
            raise ArbodienstProtocolError(f"arbodienst {self.settings.name} answered POST reschedule with "
                                          "another slot than asked for")
        return booking

    def get_advice(self, booking_id: str) -> dict[str, Any] | None:
        """The bedrijfsarts' advice document as sent, or None while it is not available yet.

        The document holds health data, medical fields included: pass it straight to the guard that keeps
        only the allowed fields; never log it.
        """
        try:
            data = self._call("GET", f"bookings/{_segment(booking_id, 'booking_id')}/advies")
        except ArbodienstRejected as exc:
            if exc.status == 404 and exc.code == ADVICE_NOT_YET:
                return None
            raise
        if not isinstance(data, dict) or data.get("booking_id") != booking_id:
            raise ArbodienstProtocolError(f"arbodienst {self.settings.name} answered GET advies without an "
                                          "advice document for this booking")
        return data

    # -- plumbing --------------------------------------------------------------------------------
    def _tls_context(self) -> ssl.SSLContext:
        s = self.settings
        try:
            return client_ssl_context(ca_bundle=s.ca_bundle_path, client_cert=s.client_cert_path,
                                      client_key=s.client_key_path)
        except TlsFilesError as exc:
            raise ArbodienstError(f"arbodienst {s.name}: {exc}") from None

    def _map(self, parse: Any, data: Any, endpoint: str) -> Any:
        try:
            return parse(data)
        except MappingError as exc:
            raise ArbodienstProtocolError(f"arbodienst {self.settings.name} answered {endpoint} outside the "
                                          f"contract: {exc}") from None

    def _checked(self, booking: Booking, booking_id: str) -> Booking:
        if booking.booking_id != booking_id:
            raise ArbodienstProtocolError(f"arbodienst {self.settings.name} answered with another booking than "
                                          "asked for; check base_url")
        return booking

    def _pinned(self, target: str) -> str:
        """``target`` (relative to base_url, or absolute) as a URL under base_url, else ArbodienstRefusedUrl."""
        url, shown = pinned_url(self.settings.base_url, target)
        if url is None:
            raise ArbodienstRefusedUrl(f"refusing to call {shown}: only URLs under {self.settings.base_url} are "
                                       f"used for arbodienst {self.settings.name}; check the booking id, or "
                                       "base_url if the API moved")
        return url

    def _headers(self, body: bool, key: str | None) -> dict[str, str]:
        headers: dict[str, str] = {}
        if self.settings.token is not None:
            headers["Authorization"] = f"Bearer {self.settings.token.get_secret_value()}"
        if body:
            headers["Content-Type"] = "application/json"
        if key is not None:
            headers["Idempotency-Key"] = key
        return headers

    def _call(self, method: str, target: str, *, body: dict[str, Any] | None = None, key: str | None = None,
              slot_id: str | None = None) -> Any:
        url = self._pinned(target)
        if method == "POST":
            key = check_idempotency_key(key)
        endpoint = f"{method} {urlsplit(url).path}"
        s = self.settings
        content = json.dumps(body).encode("utf-8") if body is not None else None
        retrying = Retrying(
            retry=retry_if_exception_type(ArbodienstUnavailable),
            stop=stop_after_attempt(s.max_attempts),
            wait=self._wait,
            before_sleep=lambda state: log.warning(
                "arbodienst %s: %s failed (attempt %d of %d), retrying: %s", s.name, endpoint,
                state.attempt_number, s.max_attempts, state.outcome.exception()),
            reraise=True,
        )
        for attempt in retrying:
            with attempt:
                return self._send(method, url, content, key, endpoint, slot_id)
        raise AssertionError("unreachable")  # pragma: no cover

    def _wait(self, state: RetryCallState) -> float:
        s = self.settings
        exc = state.outcome.exception() if state.outcome else None
        return backoff_seconds(state.attempt_number, base=s.retry_backoff_seconds, cap=s.retry_max_backoff_seconds,
                               retry_after=exc.retry_after if isinstance(exc, ArbodienstUnavailable) else None,
                               retry_after_cap=s.retry_after_cap_seconds)

    def _send(self, method: str, url: str, content: bytes | None, key: str | None, endpoint: str,
              slot_id: str | None) -> Any:
        name, timeout = self.settings.name, self.settings.timeout_seconds
        try:
            with self._http.stream(method, url, content=content, headers=self._headers(content is not None, key)) \
                    as resp:
                raw = self._read(resp, endpoint)
        except ArbodienstError:
            raise
        except (httpx.ConnectTimeout, httpx.PoolTimeout):
            raise ArbodienstUnavailable(f"arbodienst {name} could not be reached for {endpoint} within {timeout} s; "
                                        "check that it is up, try again later") from None
        except httpx.TimeoutException:
            raise ArbodienstUnavailable(f"arbodienst {name} did not answer {endpoint} within {timeout} s; "
                                        "try again later (with the same Idempotency-Key)") from None
        except httpx.ConnectError as exc:
            if caused_by_tls(exc):
                raise ArbodienstError(f"TLS with arbodienst {name} failed for {endpoint}; check ca_bundle_path, "
                                      "the client certificate and the server certificate") from None
            raise ArbodienstUnavailable(f"arbodienst {name} refused the connection for {endpoint}; check base_url "
                                        "and that the API is up, try again later") from None
        except httpx.TransportError as exc:
            if caused_by_tls(exc):  # TLS 1.3: a refused client certificate shows on the first read, not on connect
                raise ArbodienstError(f"TLS with arbodienst {name} failed for {endpoint}; check ca_bundle_path, "
                                      "the client certificate and the server certificate") from None
            raise ArbodienstUnavailable(f"arbodienst {name} dropped the connection during {endpoint} "
                                        f"({type(exc).__name__}); try again later") from None
        log.debug("arbodienst %s: %s -> HTTP %d", name, endpoint, resp.status_code)
        return self._interpret(resp.status_code, resp.headers, raw, endpoint, slot_id)

    def _read(self, resp: httpx.Response, endpoint: str) -> bytes:
        content = read_limited(resp, MAX_RESPONSE_BYTES)
        if content is None:
            raise ArbodienstProtocolError(f"arbodienst {self.settings.name} answered {endpoint} with more than "
                                          f"{MAX_RESPONSE_BYTES} bytes; refused")
        return content

    def _interpret(self, status: int, headers: httpx.Headers, raw: bytes, endpoint: str, slot_id: str | None) -> Any:
        name = self.settings.name
        if 200 <= status < 300:
            try:
                return loads_json(raw) if raw else None
            except ValueError:
                raise ArbodienstProtocolError(f"arbodienst {name} answered {endpoint} with HTTP {status} but no "
                                              "JSON; check base_url") from None
        code, title = problem_code_title(raw)
        why = f"HTTP {status}" + (f", {code}" if code else "") + (f": {title}" if title else "")
        if status in (401, 403):
            raise ArbodienstAuthError(f"arbodienst {name} refused {endpoint} ({why}); check the token and the "
                                      "client certificate agreed with the arbodienst", status=status)
        if status in (408, 429) or status >= 500:
            raise ArbodienstUnavailable(f"arbodienst {name} answered {endpoint} with {why}; try again later",
                                        retry_after=retry_after_seconds(headers.get("Retry-After")))
        if status == 409 and code == SLOT_TAKEN:
            which = f"slot {clean(slot_id, 130)}" if slot_id else "the slot"
            raise ArbodienstSlotTaken(f"arbodienst {name}: {which} is no longer free ({endpoint}); list the free "
                                      "slots and pick another", slot_id=slot_id)
        if 300 <= status < 400:
            raise ArbodienstProtocolError(f"arbodienst {name} redirected {endpoint} (HTTP {status}); redirects "
                                          "are not followed: set base_url to the API's real address")
        raise ArbodienstRejected(f"arbodienst {name} refused {endpoint} ({why}); not retried: check the data "
                                 "and the configuration", status=status, code=code, title=title)
