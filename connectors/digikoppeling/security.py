"""WS-Security X.509 signing and verification for Digikoppeling 2W-be-S (python-xmlsec).

What is signed (WB004): ``soap:Body``, ``wsu:Timestamp``, every WS-Addressing header and any
``wsse11:SignatureConfirmation``, each by its own ``ds:Reference`` to its ``wsu:Id``, with
exclusive C14N, SHA-256 digests and RSA-SHA256. The signing certificate travels in a
``wsse:BinarySecurityToken`` (WB010); the receiver only accepts it when it is byte-for-byte the
partner's configured signing certificate.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import uuid
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import xmlsec
from cryptography.hazmat.primitives import serialization
from lxml import etree

from .certificates import load_certificate
from .errors import (
    InvalidSignatureError,
    SecurityConfigError,
    SecurityHeaderError,
    TimestampError,
    UnsignedMessageError,
    UnsignedPartError,
    UntrustedCertificateError,
)
from .namespaces import (
    BASE64,
    DS,
    EXC_C14N,
    RSA_SHA256,
    SHA256,
    SOAP11,
    WSA,
    WSSE,
    WSSE11,
    WSU,
    WSU_ID,
    X509V3,
    q,
)

__all__ = ["VerifiedMessage", "sign_envelope", "verify_envelope"]

_INCLUSIVE_NAMESPACES = q(EXC_C14N, "InclusiveNamespaces")  # optional PrefixList child of the transform


@dataclass(frozen=True)
class VerifiedMessage:
    """What a successful :func:`verify_envelope` established."""

    signature_value: str
    """The message's ``ds:SignatureValue`` (a reply confirms it with SignatureConfirmation)."""
    confirmations: tuple[str, ...]
    """``Value``s of signed ``wsse11:SignatureConfirmation`` elements."""
    created: dt.datetime
    certificate_sha256: str


# -- helpers -------------------------------------------------------------------------------------
def _fingerprint(der: bytes) -> str:
    return hashlib.sha256(der).hexdigest()[:16]


def _utc(now: dt.datetime | None) -> dt.datetime:
    now = now or dt.datetime.now(dt.timezone.utc)
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(dt.timezone.utc)


def _xsd_time(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex}"


def _ensure_id(el: etree._Element, prefix: str) -> str:
    if not el.get(WSU_ID):
        el.set(WSU_ID, _new_id(prefix))
    return el.get(WSU_ID)


def _parts(envelope: etree._Element) -> tuple[etree._Element | None, etree._Element]:
    """``(Header, Body)`` of a SOAP 1.1 envelope; structural problems raise :class:`SecurityHeaderError`."""
    if envelope.tag != q(SOAP11, "Envelope"):
        raise SecurityHeaderError("not a SOAP 1.1 Envelope; Digikoppeling WUS uses SOAP 1.1 only")
    headers = envelope.findall(q(SOAP11, "Header"))
    bodies = envelope.findall(q(SOAP11, "Body"))
    if len(headers) > 1 or len(bodies) != 1:
        raise SecurityHeaderError("the envelope must have at most one soap:Header and exactly one soap:Body")
    return (headers[0] if headers else None), bodies[0]


def _wsa_headers(header: etree._Element | None) -> list[etree._Element]:
    children = header if header is not None else ()
    return [c for c in children if isinstance(c.tag, str) and c.tag.startswith(f"{{{WSA}}}")]


# -- signing -------------------------------------------------------------------------------------
def sign_envelope(
    envelope: etree._Element,
    *,
    key_path: str | Path,
    cert_path: str | Path,
    timestamp_ttl_seconds: int = 300,
    now: dt.datetime | None = None,
    signature_confirmation: str | None = None,
) -> str:
    """Add a signed ``wsse:Security`` header (mustUnderstand=1) in place; returns the ``SignatureValue``.

    Call it last, after every header is in place: later changes to a signed part break the
    signature. ``signature_confirmation`` is the request's SignatureValue when signing a reply.
    """
    header, body = _parts(envelope)
    if header is None:
        header = etree.Element(q(SOAP11, "Header"))
        envelope.insert(0, header)
    if header.find(q(WSSE, "Security")) is not None:
        raise ValueError("the envelope already has a wsse:Security header; sign once, as the last step")
    cert = load_certificate(cert_path)
    now = _utc(now)

    security = etree.Element(q(WSSE, "Security"), nsmap={"wsse": WSSE, "wsu": WSU})
    security.set(q(SOAP11, "mustUnderstand"), "1")
    header.insert(0, security)
    timestamp = etree.SubElement(security, q(WSU, "Timestamp"))
    etree.SubElement(timestamp, q(WSU, "Created")).text = _xsd_time(now)
    expires = now + dt.timedelta(seconds=timestamp_ttl_seconds)
    etree.SubElement(timestamp, q(WSU, "Expires")).text = _xsd_time(expires)
    token = etree.SubElement(security, q(WSSE, "BinarySecurityToken"), ValueType=X509V3, EncodingType=BASE64)
    token.text = base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode("ascii")
    token_id = _ensure_id(token, "X509")
    signed = [body, timestamp, *_wsa_headers(header)]
    if signature_confirmation is not None:
        confirmation = etree.SubElement(security, q(WSSE11, "SignatureConfirmation"), nsmap={"wsse11": WSSE11})
        confirmation.set("Value", signature_confirmation)
        signed.append(confirmation)

    signature = xmlsec.template.create(envelope, xmlsec.Transform.EXCL_C14N, xmlsec.Transform.RSA_SHA256, ns="ds")
    security.append(signature)
    ctx = xmlsec.SignatureContext()
    for part in signed:
        part_id = _ensure_id(part, etree.QName(part).localname)
        ref = xmlsec.template.add_reference(signature, xmlsec.Transform.SHA256, uri=f"#{part_id}")
        xmlsec.template.add_transform(ref, xmlsec.Transform.EXCL_C14N)
        ctx.register_id(part, "Id", WSU)
    key_info = xmlsec.template.ensure_key_info(signature)
    str_el = etree.SubElement(key_info, q(WSSE, "SecurityTokenReference"))
    etree.SubElement(str_el, q(WSSE, "Reference"), URI=f"#{token_id}", ValueType=X509V3)
    try:
        ctx.key = xmlsec.Key.from_file(str(key_path), xmlsec.KeyFormat.PEM)
        ctx.sign(signature)
    except xmlsec.Error as exc:
        security.getparent().remove(security)
        raise SecurityConfigError(f"signing with key {key_path} failed ({exc}); it must be the unencrypted PEM "
                                  "RSA key of the signing certificate") from None
    return signature.findtext(q(DS, "SignatureValue")) or ""


# -- verification --------------------------------------------------------------------------------
def _one(parent: etree._Element, tag: str, what: str) -> etree._Element:
    found = parent.findall(tag)
    if len(found) != 1:
        raise SecurityHeaderError(f"the Security header must contain exactly one {what}, found {len(found)}")
    return found[0]


def _parse_time(el: etree._Element | None, what: str) -> dt.datetime | None:
    if el is None:
        return None
    text = (el.text or "").strip()
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise TimestampError(f"wsu:{what} is not an xsd:dateTime; the sender must use UTC, "
                             "e.g. 2030-01-31T12:00:00Z") from None
    if moment.tzinfo is None or moment.utcoffset() != dt.timedelta(0):
        raise TimestampError(f"wsu:{what} is not in UTC (Digikoppeling WB002 requires a Z time); "
                             "ask the sender to fix it")
    return moment


def _id_index(envelope: etree._Element) -> dict[str, list[etree._Element]]:
    """Every element per value of any attribute that could act as an XML ID (Id, ID, id, xml:id)."""
    index: dict[str, list[etree._Element]] = defaultdict(list)
    for el in envelope.iter(tag=etree.Element):
        for name, value in el.attrib.items():
            if etree.QName(name).localname in ("Id", "ID", "id"):
                index[value].append(el)
    return index


def _check_signed_info(signature: etree._Element) -> list[str]:
    """Allowed algorithms only; returns the referenced ids."""
    signed_info = _one(signature, q(DS, "SignedInfo"), "ds:SignedInfo")
    c14n = signed_info.find(q(DS, "CanonicalizationMethod"))
    method = signed_info.find(q(DS, "SignatureMethod"))
    if c14n is None or c14n.get("Algorithm") != EXC_C14N:
        raise SecurityHeaderError("the signature must use exclusive C14N for SignedInfo (Digikoppeling WB007)")
    if method is None or method.get("Algorithm") != RSA_SHA256:
        raise SecurityHeaderError("the signature must use RSA-SHA256; other signature algorithms are refused")
    ids: list[str] = []
    for ref in signed_info.iterfind(q(DS, "Reference")):
        uri = ref.get("URI") or ""
        transforms = ref.findall(f"{q(DS, 'Transforms')}/{q(DS, 'Transform')}")
        digest = ref.find(q(DS, "DigestMethod"))
        if not uri.startswith("#") or len(uri) < 2:
            raise SecurityHeaderError("every signature reference must point to a wsu:Id in the message (#id)")
        if [t.get("Algorithm") for t in transforms] != [EXC_C14N] or any(
            c.tag != _INCLUSIVE_NAMESPACES for t in transforms for c in t if isinstance(c.tag, str)
        ):
            raise SecurityHeaderError("every signature reference must use exactly one transform: exclusive C14N")
        if digest is None or digest.get("Algorithm") != SHA256:
            raise SecurityHeaderError("every signature reference must use a SHA-256 digest")
        ids.append(uri[1:])
    if not ids:
        raise SecurityHeaderError("the signature references nothing")
    if len(set(ids)) != len(ids):
        raise SecurityHeaderError("the signature references the same part twice")
    return ids


def _token_der(security: etree._Element, signature: etree._Element, index: dict[str, list[etree._Element]]) -> bytes:
    ref = signature.find(f"{q(DS, 'KeyInfo')}/{q(WSSE, 'SecurityTokenReference')}/{q(WSSE, 'Reference')}")
    uri = ref.get("URI", "") if ref is not None else ""
    targets = index.get(uri[1:], []) if uri.startswith("#") else []
    token = targets[0] if len(targets) == 1 else None
    if token is None or token.tag != q(WSSE, "BinarySecurityToken") or token.getparent() is not security:
        raise SecurityHeaderError("the signature's KeyInfo must reference the wsse:BinarySecurityToken in the "
                                  "Security header (direct reference, Digikoppeling WB010)")
    if token.get("ValueType") != X509V3 or token.get("EncodingType", BASE64) != BASE64:
        raise SecurityHeaderError("the BinarySecurityToken must be an X.509v3 certificate in Base64Binary")
    try:
        return base64.b64decode("".join((token.text or "").split()), validate=True)
    except (binascii.Error, ValueError):
        raise SecurityHeaderError("the BinarySecurityToken is not valid Base64") from None


def verify_envelope(
    envelope: etree._Element,
    *,
    trusted_cert_path: str | Path,
    now: dt.datetime | None = None,
    clock_skew_seconds: int = 60,
    max_age_seconds: int = 300,
) -> VerifiedMessage:
    """Verify a received envelope signed by the partner whose certificate is ``trusted_cert_path``.

    Checks, in order: a Security header with one Signature; one Timestamp; allowed algorithms;
    every reference resolves to exactly one element; Body, Timestamp, every WS-Addressing header
    and any SignatureConfirmation in place are the referenced elements; the token is the trusted
    certificate; the signature verifies with its key; the Timestamp is fresh (``Expires``, or
    ``Created`` + ``max_age_seconds`` when there is no Expires, each with ``clock_skew_seconds``).
    Raises a :class:`~connectors.digikoppeling.errors.SecurityError` subclass otherwise.
    """
    header, body = _parts(envelope)
    securities = header.findall(q(WSSE, "Security")) if header is not None else []
    if not securities:
        raise UnsignedMessageError("the message has no wsse:Security header: it is unsigned; Digikoppeling 2W-be-S "
                                   "requires a signature (check the partner uses the 2W-be-S profile)")
    if len(securities) > 1:
        raise SecurityHeaderError("the message has more than one wsse:Security header; refused")
    security = securities[0]
    signatures = security.findall(q(DS, "Signature"))
    if not signatures:
        raise UnsignedMessageError("the Security header has no ds:Signature: the message is unsigned; "
                                   "Digikoppeling 2W-be-S requires one")
    if len(signatures) > 1:
        raise SecurityHeaderError("the Security header has more than one ds:Signature; refused")
    signature = signatures[0]
    timestamps = security.findall(q(WSU, "Timestamp"))
    if len(timestamps) != 1:
        raise TimestampError(f"the Security header must contain exactly one wsu:Timestamp, found {len(timestamps)}; "
                             "Digikoppeling WB002 requires a signed timestamp")
    timestamp = timestamps[0]

    ids = _check_signed_info(signature)
    index = _id_index(envelope)
    for part_id in ids:
        if len(index.get(part_id, [])) != 1:
            raise SecurityHeaderError("a signature reference does not resolve to exactly one element in the message "
                                      "(missing or duplicated id, possible signature wrapping); refused")
    signed = set(ids)
    confirmations = security.findall(q(WSSE11, "SignatureConfirmation"))
    required = [("soap:Body", body), ("wsu:Timestamp", timestamp)]
    required += [(f"wsa:{etree.QName(h).localname} header", h) for h in _wsa_headers(header)]
    required += [("wsse11:SignatureConfirmation", c) for c in confirmations]
    for name, part in required:
        part_id = part.get(WSU_ID)
        if part_id not in signed or index.get(part_id) != [part]:
            raise UnsignedPartError(f"the {name} is not covered by the signature; Digikoppeling WB004 requires "
                                    "Body, Timestamp and every WS-Addressing header to be signed; refused")

    token = _token_der(security, signature, index)
    trusted = load_certificate(trusted_cert_path)
    trusted_der = trusted.public_bytes(serialization.Encoding.DER)
    if token != trusted_der:
        raise UntrustedCertificateError(
            f"the message is signed with certificate {_fingerprint(token)}… (SHA-256), not the configured sender "
            f"certificate {_fingerprint(trusted_der)}… ({trusted_cert_path}); if the partner renewed its "
            "certificate, install the new one after checking it out of band")

    ctx = xmlsec.SignatureContext()
    for part_id in ids:
        ctx.register_id(index[part_id][0], "Id", WSU)
    try:
        pem = trusted.public_bytes(serialization.Encoding.PEM)
        ctx.key = xmlsec.Key.from_memory(pem, xmlsec.KeyFormat.CERT_PEM)
        ctx.verify(signature)
    except xmlsec.Error:
        raise InvalidSignatureError("the signature does not verify: the signed parts were changed after signing or "
                                    "the signature is broken; the message was not used") from None

    now = _utc(now)
    skew = dt.timedelta(seconds=clock_skew_seconds)
    created = _parse_time(timestamp.find(q(WSU, "Created")), "Created")
    expires = _parse_time(timestamp.find(q(WSU, "Expires")), "Expires")
    if created is None:
        raise TimestampError("the wsu:Timestamp has no Created (Digikoppeling WB002 requires it)")
    if expires is not None and expires < created:
        raise TimestampError("the wsu:Timestamp expires before it was created; refused")
    if created > now + skew:
        ahead = (created - now).total_seconds()
        raise TimestampError(f"the message timestamp was created {ahead:.0f} s in the future, "
                             f"more than the allowed clock skew of {clock_skew_seconds} s; check both clocks (NTP)")
    deadline = expires if expires is not None else created + dt.timedelta(seconds=max_age_seconds)
    if now > deadline + skew:
        raise TimestampError(f"the message timestamp expired {(now - deadline).total_seconds():.0f} s ago (allowed "
                             f"clock skew {clock_skew_seconds} s): the message is stale or replayed, or a clock is "
                             "wrong; check both clocks (NTP) and try again")
    return VerifiedMessage(
        signature_value=(signature.findtext(q(DS, "SignatureValue")) or "").strip(),
        confirmations=tuple(c.get("Value", "") for c in confirmations),
        created=created,
        certificate_sha256=hashlib.sha256(token).hexdigest(),
    )
