"""The server side of Digikoppeling WUS for the SOAP simulators (IB, Suwinet): the simulator's 2W-be-S
keys, its reply-signing fault knobs, and building a (signed) reply envelope."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from connectors.digikoppeling import add_reply_addressing, sign_envelope

from .certs import TestPki

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
SECURITY_KNOBS = ("tamper_next", "unsigned_next", "expired_next", "wrong_cert_next")
"""Fault knobs that break the signature of the next N answers (need a simulator with security)."""


@dataclass(frozen=True)
class SimSecurity:
    """2W-be-S for the simulator: its own signing key/cert, the client's signing cert it trusts, and
    optionally an untrusted key/cert for the ``wrong_cert_next`` knob."""

    signing_key: Path
    signing_cert: Path
    trusted_client_cert: Path
    untrusted_key: Path | None = None
    untrusted_cert: Path | None = None
    timestamp_ttl_seconds: int = 300
    clock_skew_seconds: int = 60

    @classmethod
    def from_pki(cls, pki: TestPki) -> SimSecurity:
        """The server side of a :func:`simulators.certs.generate_test_pki` PKI."""
        return cls(signing_key=pki.server_sign_key, signing_cert=pki.server_sign_cert,
                   trusted_client_cert=pki.client_sign_cert, untrusted_key=pki.untrusted_sign_key,
                   untrusted_cert=pki.untrusted_sign_cert)


def reply_envelope(payload: etree._Element, *, action: str, relates_to: str | None, security: SimSecurity | None,
                   signature_confirmation: str | None, fired: set[str],
                   tamper: Callable[[etree._Element], None]) -> bytes:
    """Envelope `payload` with reply addressing and, on 2W-be-S, sign it; `fired` are the security knobs
    taking effect on this answer (`tamper` changes a signed value after signing)."""
    envelope = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soap": SOAP_ENV})
    etree.SubElement(envelope, f"{{{SOAP_ENV}}}Body").append(payload)
    add_reply_addressing(envelope, action=action, relates_to=relates_to)
    if security is not None:
        if "unsigned_next" not in fired:
            wrong = "wrong_cert_next" in fired
            now = dt.datetime.now(dt.timezone.utc)
            if "expired_next" in fired:
                now -= dt.timedelta(seconds=security.timestamp_ttl_seconds + 3600)
            sign_envelope(envelope, key_path=security.untrusted_key if wrong else security.signing_key,
                          cert_path=security.untrusted_cert if wrong else security.signing_cert,
                          timestamp_ttl_seconds=security.timestamp_ttl_seconds, now=now,
                          signature_confirmation=signature_confirmation)
        if "tamper_next" in fired:
            tamper(payload)
    return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")
