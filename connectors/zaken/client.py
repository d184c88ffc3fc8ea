"""Thin client for the VNG ZGW Zaken API: one zaak per case, its statuses and the vangnetter's rol.

Every request goes to ``settings.base_url`` or below it. Absolute URLs (a stored zaak URL, a ``next``
page link) are followed only when they lie under it; anything else raises :class:`ZakenRefusedUrl`
before a request is made. Each request carries a fresh ZGW JWT and the CRS headers.

Creating a zaak is safe to repeat: its ``identificatie`` is derived from the case, and when the API
answers ``identificatie-niet-uniek`` the existing zaak is looked up and returned.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from connectors.rest import backoff_seconds, clean, loads_json, pinned_url, read_limited, retry_after_seconds
from connectors.tls import caused_by_tls, client_ssl_context
from mappings.zgw import rol_body, status_body, zaak_body

from .auth import encode_hs256, zgw_claims
from .errors import (
    ZakenAuthError,
    ZakenError,
    ZakenProtocolError,
    ZakenRefusedUrl,
    ZakenRejected,
    ZakenUnavailable,
)
from .settings import ZakenSettings

__all__ = ["Zaak", "ZaakProgress", "ZakenClient"]

log = logging.getLogger(__name__)
CRS = "EPSG:4326"
NIET_UNIEK = "identificatie-niet-uniek"
_MAX_PAGES = 100


@dataclass(frozen=True)
class Zaak:
    """A zaak as the Zaken API knows it."""

    url: str
    identificatie: str
    uuid: str


@dataclass(frozen=True)
class ZaakProgress:
    """What a zaak already has (its current status, how many rollen, its einddatum): to learn whether a
    status or rol whose answer was lost was stored after all."""

    status: str | None
    rollen: int
    einddatum: str | None


class ZakenClient:
    """Register zaken in a ZGW Zaken API. Configuration in, typed data out; no business rules."""

    def __init__(self, settings: ZakenSettings) -> None:
        self.settings = settings
        self._base = urlsplit(settings.base_url)
        self._http = httpx.Client(
            verify=client_ssl_context(ca_bundle=settings.ca_bundle_path, client_cert=None, client_key=None),
            trust_env=False,  # no proxy/CA overrides from the environment
            timeout=settings.timeout_seconds,
            follow_redirects=False,
            headers={"User-Agent": "vangnet-zaken-connector", "Accept": "application/json"},
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ZakenClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- operations ------------------------------------------------------------------------------
    def create_zaak(self, identificatie: str, *, omschrijving: str, startdatum: date, registratiedatum: date,
                    toelichting: str | None = None) -> Zaak:
        """Create the zaak, or return the one that already has this ``identificatie`` (same bronorganisatie)."""
        s = self.settings
        body = zaak_body(identificatie=identificatie, zaaktype=s.zaaktype, bronorganisatie=s.bronorganisatie,
                         verantwoordelijke_organisatie=s.verantwoordelijke_organisatie, omschrijving=omschrijving,
                         startdatum=startdatum, registratiedatum=registratiedatum, toelichting=toelichting,
                         vertrouwelijkheidaanduiding=s.vertrouwelijkheidaanduiding)
        try:
            zaak = self._zaak(self._call("POST", "zaken", body=body, idempotent=True), "POST zaken")
        except ZakenRejected as exc:
            if exc.status != 400 or NIET_UNIEK not in exc.param_codes:
                raise
        else:
            if zaak.identificatie != identificatie:  # never store someone else's zaak on this case
                raise ZakenProtocolError(f"Zaken API {s.host} answered POST zaken with another zaak than "
                                         f"{identificatie}; the answer was not used, check the Zaken API")
            return zaak
        found = self._search(identificatie)
        if found is None:
            raise ZakenProtocolError(f"Zaken API {s.host} said zaak {identificatie} exists but does not find it "
                                     "with GET zaken?identificatie=...; ask the Zaken API's administrator")
        log.info("zaak %s was already registered at %s; using it", identificatie, s.host)
        return found

    def find_zaak(self, identificatie: str) -> Zaak | None:
        """The zaak with this ``identificatie`` in our bronorganisatie, or None."""
        return self._search(identificatie)

    def get_zaak(self, zaak_url: str) -> Zaak:
        """Read one zaak by its URL (which must lie under ``base_url``)."""
        return self._zaak(self._call("GET", zaak_url), "GET zaak")

    def zaak_progress(self, zaak_url: str) -> ZaakProgress:
        """The zaak's current status URL, number of rollen and einddatum (read-only, safe to retry)."""
        data = self._call("GET", zaak_url)
        if not isinstance(data, dict) or not isinstance(data.get("rollen", []), list):
            raise ZakenProtocolError(f"Zaken API {self.settings.host} answered GET zaak without a zaak; check base_url")
        status, einddatum = data.get("status"), data.get("einddatum")
        return ZaakProgress(status=status if isinstance(status, str) and status else None,
                            rollen=len(data.get("rollen") or []),
                            einddatum=einddatum if isinstance(einddatum, str) and einddatum else None)

    def set_status(self, zaak_url: str, statustype: str, datum_status_gezet: datetime | date,
                   toelichting: str | None = None) -> str:
        """Give the zaak a new status; returns the status URL. A date means midnight Europe/Amsterdam."""
        self._pinned(zaak_url)
        body = status_body(zaak_url=zaak_url, statustype=statustype, datum_status_gezet=datum_status_gezet,
                           toelichting=toelichting)
        return self._resource_url(self._call("POST", "statussen", body=body, idempotent=False), "POST statussen")

    def add_rol_natuurlijk_persoon(self, zaak_url: str, roltype: str, bsn: str, roltoelichting: str) -> str:
        """Add the vangnetter as a natuurlijk persoon rol; returns the rol URL. The BSN is sent in the body
        (``betrokkeneIdentificatie.inpBsn``) and nowhere else."""
        self._pinned(zaak_url)
        body = rol_body(zaak_url=zaak_url, roltype=roltype, bsn=bsn, roltoelichting=roltoelichting)
        return self._resource_url(self._call("POST", "rollen", body=body, idempotent=False), "POST rollen")

    def close_zaak(self, zaak_url: str, *, datum: datetime | date, toelichting: str | None = None) -> str:
        """Set the configured end status (``statustype_einde``); the Zaken API then sets ``einddatum``."""
        return self.set_status(zaak_url, self.settings.statustype_einde, datum, toelichting)

    # -- plumbing --------------------------------------------------------------------------------
    def _search(self, identificatie: str) -> Zaak | None:
        bron = self.settings.bronorganisatie
        target: str | None = "zaken?" + urlencode({"identificatie": identificatie, "bronorganisatie": bron})
        for _ in range(_MAX_PAGES):
            page = self._call("GET", target)
            results = page.get("results") if isinstance(page, dict) else None
            if not isinstance(results, list):
                raise ZakenProtocolError(f"Zaken API {self.settings.host} answered GET zaken without a "
                                         "'results' list; check base_url")
            for item in results:
                # Never trust the filter alone: a server that ignores it would hand us someone else's zaak.
                if isinstance(item, dict) and item.get("identificatie") == identificatie \
                        and item.get("bronorganisatie") == bron:
                    return self._zaak(item, "GET zaken")
            target = page.get("next")
            if not target:
                return None
        raise ZakenProtocolError(f"Zaken API {self.settings.host} returned over {_MAX_PAGES} pages for one "
                                 "identificatie; the search filter seems ignored")

    def _zaak(self, data: Any, endpoint: str) -> Zaak:
        fields = {k: data.get(k) if isinstance(data, dict) else None for k in ("url", "identificatie", "uuid")}
        if not all(isinstance(v, str) and v for v in fields.values()):
            raise ZakenProtocolError(f"Zaken API {self.settings.host} answered {endpoint} without a zaak "
                                     "(url, identificatie, uuid); check base_url")
        self._pinned(fields["url"])  # a zaak URL we could not use later is refused now
        return Zaak(**fields)

    def _resource_url(self, data: Any, endpoint: str) -> str:
        url = data.get("url") if isinstance(data, dict) else None
        if not isinstance(url, str) or not url:
            raise ZakenProtocolError(f"Zaken API {self.settings.host} answered {endpoint} without a url")
        return url

    def _pinned(self, target: str) -> str:
        """``target`` (relative to base_url, or absolute) as a URL under base_url, else ZakenRefusedUrl."""
        url, shown = pinned_url(self.settings.base_url, target)
        if url is None:
            raise ZakenRefusedUrl(f"refusing to call {shown}: only URLs under {self.settings.base_url} are "
                                  "used; check the stored zaak URL, or base_url if the Zaken API moved")
        return url

    def _headers(self, with_body: bool) -> dict[str, str]:
        s = self.settings
        claims = zgw_claims(client_id=s.client_id, user_id=s.user_id, user_representation=s.user_representation)
        headers = {"Authorization": f"Bearer {encode_hs256(claims, s.secret.get_secret_value())}", "Accept-Crs": CRS}
        if with_body:
            headers.update({"Content-Type": "application/json", "Content-Crs": CRS})
        return headers

    def _call(self, method: str, target: str, *, body: dict[str, Any] | None = None, idempotent: bool = True) -> Any:
        url = self._pinned(target)
        endpoint = f"{method} {urlsplit(url).path}"
        s = self.settings

        def should_retry(exc: BaseException) -> bool:
            return isinstance(exc, ZakenUnavailable) and (idempotent or not exc.maybe_processed)

        retrying = Retrying(
            retry=retry_if_exception(should_retry),
            stop=stop_after_attempt(s.max_attempts),
            wait=self._wait,
            before_sleep=lambda state: log.warning(
                "Zaken API %s failed (attempt %d of %d), retrying: %s", endpoint,
                state.attempt_number, s.max_attempts, state.outcome.exception()),
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    return self._send(method, url, body, endpoint)
        except ZakenUnavailable as exc:
            if idempotent or not exc.maybe_processed:
                raise
            raise ZakenUnavailable(f"{exc}. It may have been stored anyway: check the zaak before repeating "
                                   f"{endpoint}", retry_after=exc.retry_after) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _wait(self, state: RetryCallState) -> float:
        s = self.settings
        exc = state.outcome.exception() if state.outcome else None
        return backoff_seconds(state.attempt_number, base=s.retry_backoff_seconds, cap=s.retry_max_backoff_seconds,
                               retry_after=exc.retry_after if isinstance(exc, ZakenUnavailable) else None,
                               retry_after_cap=s.retry_after_cap_seconds)

    def _send(self, method: str, url: str, body: dict[str, Any] | None, endpoint: str) -> Any:
        host, timeout = self.settings.host, self.settings.timeout_seconds
        content = json.dumps(body).encode("utf-8") if body is not None else None
        try:
            with self._http.stream(method, url, content=content, headers=self._headers(body is not None)) as resp:
                raw = self._read(resp, endpoint)
        except ZakenError:
            raise
        except (httpx.ConnectTimeout, httpx.PoolTimeout):
            raise ZakenUnavailable(f"Zaken API {host} could not be reached for {endpoint} within {timeout} s; "
                                   "check that it is up, try again later", maybe_processed=False) from None
        except httpx.TimeoutException:
            raise ZakenUnavailable(f"Zaken API {host} did not answer {endpoint} within {timeout} s; "
                                   "try again later") from None
        except httpx.ConnectError as exc:
            if caused_by_tls(exc):
                raise ZakenError(f"TLS with Zaken API {host} failed for {endpoint}; check ca_bundle_path "
                                 "and the server certificate") from None
            raise ZakenUnavailable(f"Zaken API {host} refused the connection for {endpoint}; check base_url "
                                   "and that the API is up, try again later", maybe_processed=False) from None
        except httpx.TransportError as exc:
            raise ZakenUnavailable(f"Zaken API {host} dropped the connection during {endpoint} "
                                   f"({type(exc).__name__}); try again later") from None
        log.debug("Zaken API %s -> HTTP %d", endpoint, resp.status_code)
        return self._interpret(resp.status_code, resp.headers, raw, endpoint)

    def _read(self, resp: httpx.Response, endpoint: str) -> bytes:
        content = read_limited(resp, self.settings.max_response_bytes)
        if content is None:
            raise ZakenProtocolError(f"Zaken API {self.settings.host} answered {endpoint} with more than "
                                     f"{self.settings.max_response_bytes} bytes; refused (raise max_response_bytes "
                                     "if this is legitimate)")
        return content

    def _interpret(self, status: int, headers: httpx.Headers, raw: bytes, endpoint: str) -> Any:
        host = self.settings.host
        if 200 <= status < 300:
            try:
                return loads_json(raw) if raw else None
            except ValueError:
                raise ZakenProtocolError(f"Zaken API {host} answered {endpoint} with HTTP {status} but no "
                                         "JSON; check base_url") from None
        code, title, params = _problem(raw)
        why = f"HTTP {status}" + (f", {code}" if code else "") + (f": {title}" if title else "")
        if status in (401, 403):
            raise ZakenAuthError(f"Zaken API {host} refused {endpoint} ({why}); check client_id and secret, "
                                 "and that this client_id has the autorisaties for the zaaktype", status=status)
        if status in (408, 429) or status >= 500:
            raise ZakenUnavailable(f"Zaken API {host} answered {endpoint} with {why}; try again later",
                                   retry_after=retry_after_seconds(headers.get("Retry-After")),
                                   maybe_processed=status not in (429, 503))
        if 300 <= status < 400:
            raise ZakenProtocolError(f"Zaken API {host} redirected {endpoint} (HTTP {status}); redirects are "
                                     "not followed: set base_url to the API's real address")
        fields = "; fields: " + ", ".join(f"{n} ({c})" for n, c in params) if params else ""
        hint = " (Accept-Crs/Content-Crs missing or wrong)" if status == 412 else ""
        raise ZakenRejected(f"Zaken API {host} refused {endpoint} ({why}){hint}{fields}; not retried: check the "
                            "data and the configured catalogue URLs", status=status, code=code, title=title,
                            invalid_params=params)


def _problem(raw: bytes) -> tuple[str | None, str | None, tuple[tuple[str, str], ...]]:
    """``code``, ``title`` and ``(name, code)`` pairs of a ZGW problem answer; values are never read."""
    try:
        data = loads_json(raw)
    except ValueError:
        return None, None, ()
    if not isinstance(data, dict):
        return None, None, ()
    items = data.get("invalidParams", data.get("invalid_params")) or []
    params = tuple((clean(p.get("name", "?"), 80), clean(p.get("code", "?"), 80))
                   for p in items if isinstance(p, dict))
    code, title = data.get("code"), data.get("title")
    return (clean(code, 80) if code else None), (clean(title) if title else None), params
