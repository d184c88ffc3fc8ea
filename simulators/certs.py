"""Throwaway test PKI generated at runtime: a CA, TLS certs for server and client, and RSA signing certs.

TLS (mutual): ``ca.pem``, ``server.pem``/``server-key.pem``, ``client.pem``/``client-key.pem`` (EC P-256).
Digikoppeling 2W-be-S message signing (RSA 2048, RSA-SHA256): ``client-sign.pem``/``client-sign-key.pem``
(vangnet signs requests), ``server-sign.pem``/``server-sign-key.pem`` (the partner signs replies) and
``untrusted-sign.pem``/``untrusted-sign-key.pem``: issued by the same CA, but configured as nobody's
sender certificate, so it must be refused (signatures are pinned to one certificate, not to the CA).

For tests and demos only. Nothing here is ever committed; write into a temporary directory.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["TestPki", "client_ssl_context", "generate_test_pki", "server_ssl_context"]


@dataclass(frozen=True)
class TestPki:
    """Paths of the generated PEM files."""

    __test__ = False  # not a pytest test class

    directory: Path
    ca_cert: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    client_sign_cert: Path
    """vangnet's 2W-be-S signing certificate (the client signs requests with its key)."""
    client_sign_key: Path
    server_sign_cert: Path
    """The partner's 2W-be-S signing certificate (the simulator signs replies with its key)."""
    server_sign_key: Path
    untrusted_sign_cert: Path
    """Same CA, trusted by nobody as a sender: for wrong-certificate tests."""
    untrusted_sign_key: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "vangnet test PKI"),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])


_Key = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


def _write_key(path: Path, key: _Key) -> None:
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)


def _issue(
    subject: str,
    key: _Key,
    issuer_name: x509.Name,
    issuer_key: _Key,
    *,
    days: int,
    ca: bool = False,
    signing: bool = False,
    usage: ExtendedKeyUsageOID | None = None,
    hosts: tuple[str, ...] = (),
) -> x509.Certificate:
    now = dt.datetime.now(dt.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
    else:
        # digitalSignature; signing certs also nonRepudiation (contentCommitment), as PKIoverheid issues them
        builder = builder.add_extension(
            x509.KeyUsage(True, signing, False, False, False, False, False, False, False), critical=True
        ).add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False
        )
    if usage is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    if hosts:
        names: list[x509.GeneralName] = []
        for host in hosts:
            try:
                names.append(x509.IPAddress(ipaddress.ip_address(host)))
            except ValueError:
                names.append(x509.DNSName(host))
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def generate_test_pki(
    directory: str | os.PathLike[str],
    *,
    hosts: tuple[str, ...] = ("127.0.0.1", "localhost"),
    days: int = 2,
    client_name: str = "vangnet-test-client",
) -> TestPki:
    """Create a fresh CA, TLS certificates (EC P-256) and signing certificates (RSA 2048) in ``directory``.

    Every call makes a new CA, so two calls give two PKIs that do not trust each other.
    Keys are written unencrypted with mode 0600.
    """
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("vangnet test CA")
    ca_cert = _issue("vangnet test CA", ca_key, ca_name, ca_key, days=days, ca=True)

    server_key = ec.generate_private_key(ec.SECP256R1())
    server_cert = _issue(hosts[0], server_key, ca_name, ca_key, days=days,
                         usage=ExtendedKeyUsageOID.SERVER_AUTH, hosts=hosts)
    client_key = ec.generate_private_key(ec.SECP256R1())
    client_cert = _issue(client_name, client_key, ca_name, ca_key, days=days,
                         usage=ExtendedKeyUsageOID.CLIENT_AUTH)

    pki = TestPki(
        directory=out,
        ca_cert=out / "ca.pem",
        server_cert=out / "server.pem",
        server_key=out / "server-key.pem",
        client_cert=out / "client.pem",
        client_key=out / "client-key.pem",
        client_sign_cert=out / "client-sign.pem",
        client_sign_key=out / "client-sign-key.pem",
        server_sign_cert=out / "server-sign.pem",
        server_sign_key=out / "server-sign-key.pem",
        untrusted_sign_cert=out / "untrusted-sign.pem",
        untrusted_sign_key=out / "untrusted-sign-key.pem",
    )
    pairs: list[tuple[Path, Path | None, x509.Certificate, _Key | None]] = [
        (pki.ca_cert, None, ca_cert, None),
        (pki.server_cert, pki.server_key, server_cert, server_key),
        (pki.client_cert, pki.client_key, client_cert, client_key),
    ]
    signers = ((pki.client_sign_cert, pki.client_sign_key, f"{client_name}-signing"),
               (pki.server_sign_cert, pki.server_sign_key, "vangnet-test-ib-signing"),
               (pki.untrusted_sign_cert, pki.untrusted_sign_key, "vangnet-test-untrusted-signing"))
    for cert_path, key_path, name in signers:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pairs.append((cert_path, key_path, _issue(name, key, ca_name, ca_key, days=days, signing=True), key))
    for cert_path, key_path, cert, key in pairs:
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        if key_path is not None and key is not None:
            _write_key(key_path, key)
    return pki


def server_ssl_context(pki: TestPki, *, require_client_cert: bool = True) -> ssl.SSLContext:
    """Server-side context; with ``require_client_cert`` only clients with a cert from ``pki``'s CA get in."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(pki.server_cert, pki.server_key)
    if require_client_cert:
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(cafile=pki.ca_cert)
    return ctx


def client_ssl_context(pki: TestPki, *, with_client_cert: bool = True) -> ssl.SSLContext:
    """Client-side context trusting only ``pki``'s CA, optionally presenting the client cert."""
    ctx = ssl.create_default_context(cafile=str(pki.ca_cert))
    if with_client_cert:
        ctx.load_cert_chain(pki.client_cert, pki.client_key)
    return ctx
