"""TLS for partner connections (two-sided where a client certificate is set): one way to build the client context, one way to spot TLS
failures in an exception chain. Each connector maps `TlsFilesError` to its own security error."""

from __future__ import annotations

import ssl
from pathlib import Path


class TlsFilesError(ValueError):
    """The CA bundle, client certificate or key could not be loaded."""


def client_ssl_context(*, ca_bundle: Path | None, client_cert: Path | None, client_key: Path | None) -> ssl.SSLContext:
    """TLS 1.2+, trusting only the configured CA bundle when one is set (environment CA overrides such
    as SSL_CERT_FILE play no part), presenting our client certificate when one is set."""
    try:
        ctx = ssl.create_default_context(cafile=str(ca_bundle) if ca_bundle is not None else None)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        if client_cert is not None:
            ctx.load_cert_chain(client_cert, client_key)
    except (OSError, ssl.SSLError) as exc:
        raise TlsFilesError(
            f"could not load the TLS files ({exc}); check ca_bundle_path, client_cert_path and client_key_path "
            "(PEM, readable by this process)"
        ) from None
    return ctx


def tls_reason(error: ssl.SSLError) -> str:
    """A short reason for messages: OpenSSL's reason code and, for a server certificate that failed
    verification, why (``Hostname mismatch, ...``, ``unable to get local issuer certificate``)."""
    reason = error.reason or type(error).__name__
    verify = getattr(error, "verify_message", None)
    return f"{reason}: {verify}" if verify else reason


def caused_by_tls(exc: BaseException) -> ssl.SSLError | None:
    """The `ssl.SSLError` somewhere in the exception's chain, if any."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None
