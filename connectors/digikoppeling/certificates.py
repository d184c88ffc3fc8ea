"""Loading and checking the certificates and keys used for Digikoppeling signing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from .errors import SecurityConfigError, UntrustedCertificateError

__all__ = ["check_current", "check_signing_pair", "load_certificate"]


def load_certificate(path: str | Path) -> x509.Certificate:
    """Read a PEM (or DER) certificate; :class:`SecurityConfigError` with the path when that fails."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise SecurityConfigError(f"cannot read certificate {path} ({exc.strerror}); "
                                  "check the path and permissions") from None
    try:
        return x509.load_pem_x509_certificate(data) if b"-----BEGIN" in data else x509.load_der_x509_certificate(data)
    except ValueError:
        raise SecurityConfigError(f"{path} is not an X.509 certificate (PEM or DER)") from None


def check_signing_pair(key_path: str | Path, cert_path: str | Path) -> None:
    """Fail early, with a clear message, when the signing key and certificate cannot be used together."""
    cert = load_certificate(cert_path)
    try:
        key = serialization.load_pem_private_key(Path(key_path).read_bytes(), password=None)
    except OSError as exc:
        raise SecurityConfigError(f"cannot read signing key {key_path} ({exc.strerror}); "
                                  "check the path and permissions") from None
    except (ValueError, TypeError):
        raise SecurityConfigError(f"{key_path} is not an unencrypted PEM private key") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise SecurityConfigError(f"{key_path} is not an RSA key; Digikoppeling signing uses RSA-SHA256")
    if key.public_key().public_numbers() != cert.public_key().public_numbers():
        raise SecurityConfigError(f"signing key {key_path} does not belong to certificate {cert_path}")


def check_current(path: str | Path, *, now: dt.datetime | None = None, clock_skew_seconds: int = 0) -> None:
    """:class:`UntrustedCertificateError` unless the partner's signing certificate at ``path`` is valid at
    ``now`` (default: the clock), give or take the clock skew. Pinning a certificate does not make it valid
    for ever: a message signed under an expired certificate is refused, as any WS-Security receiver would."""
    cert = load_certificate(path)
    now = now or dt.datetime.now(dt.timezone.utc)
    skew = dt.timedelta(seconds=clock_skew_seconds)
    if cert.not_valid_after_utc < now - skew:
        raise UntrustedCertificateError(
            f"the partner's signing certificate {path} expired on {cert.not_valid_after_utc:%Y-%m-%d}; the message "
            "was not used: install the partner's renewed certificate after checking it out of band")
    if cert.not_valid_before_utc > now + skew:
        raise UntrustedCertificateError(
            f"the partner's signing certificate {path} is not valid before {cert.not_valid_before_utc:%Y-%m-%d}; "
            "the message was not used: check this machine's clock (NTP) and the configured certificate")
