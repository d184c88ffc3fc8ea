"""HTTP plumbing for the Suwinet client: pinned TLS, local WSDL only, configured endpoints only, bounded answers.

Mirrors the IB connector's transport (a candidate to share via ``connectors/digikoppeling``).
Nothing here logs: zeep's own transport, which logs request bodies at DEBUG, is never used to send.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
import zeep

from connectors.tls import TlsFilesError, caused_by_tls, client_ssl_context, tls_reason

from .errors import SuwinetProtocolError, SuwinetSecurityError
from .settings import SuwinetSettings

__all__ = ["Response", "Transport", "caused_by_tls", "host_of", "ssl_context", "tls_reason"]


@dataclass(frozen=True)
class Response:
    """What zeep gets back with ``raw_response=True``."""

    status_code: int
    headers: httpx.Headers
    content: bytes


def host_of(url: str) -> str:
    """Host name only, for messages and logs."""
    return urlsplit(url).hostname or "?"


class Transport(zeep.Transport):
    """zeep transport over one shared httpx client; WSDL/XSD from disk, POST to ``endpoints`` only."""

    def __init__(self, http: httpx.Client, settings: SuwinetSettings) -> None:
        super().__init__(cache=None)
        self.session.close()  # zeep's own requests session is never used
        self._http = http
        self._limit = settings.max_message_bytes
        self._endpoints = {e for e in (settings.reintegratie_endpoint, settings.werknemersverzekeringen_endpoint) if e}

    def load(self, url: str) -> bytes:
        if urlsplit(url).scheme not in ("", "file"):
            raise ValueError(f"refusing to fetch {url}: the Suwinet WSDL and XSD must be local files")
        return super().load(url)

    def get(self, address: str, params: Any, headers: Any) -> Any:
        raise NotImplementedError("the Suwinet services only use HTTP POST")

    def post(self, address: str, message: bytes, headers: dict[str, str]) -> Response:
        host = host_of(address)
        if address not in self._endpoints:
            raise SuwinetSecurityError(f"refusing to send to {host}: it is not a configured Suwinet endpoint")
        with self._http.stream("POST", address, content=message, headers=headers) as response:
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > self._limit:
                raise self._too_large(host)
            content = bytearray()
            for chunk in response.iter_bytes():
                content += chunk
                if len(content) > self._limit:
                    raise self._too_large(host)
        return Response(response.status_code, response.headers, bytes(content))

    def _too_large(self, host: str) -> SuwinetProtocolError:
        return SuwinetProtocolError(f"Suwinet endpoint {host} sent a response over {self._limit} bytes; refused. "
                                    "Raise max_message_bytes if such answers are legitimate.")


def ssl_context(settings: SuwinetSettings) -> ssl.SSLContext:
    """TLS 1.2+, the configured CA bundle only (when set) and our client certificate."""
    try:
        return client_ssl_context(ca_bundle=settings.ca_bundle_path, client_cert=settings.client_cert_path,
                                  client_key=settings.client_key_path)
    except TlsFilesError as exc:
        raise SuwinetSecurityError(f"Suwinet: {exc}") from None
