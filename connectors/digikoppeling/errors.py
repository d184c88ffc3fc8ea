"""Errors of the Digikoppeling layer. Messages say what is wrong and what to do; never message content."""

from __future__ import annotations

__all__ = [
    "AddressingError",
    "InvalidSignatureError",
    "SecurityConfigError",
    "SecurityError",
    "SecurityHeaderError",
    "SignatureConfirmationError",
    "TimestampError",
    "UnsignedMessageError",
    "UnsignedPartError",
    "UntrustedCertificateError",
]


class SecurityError(Exception):
    """A Digikoppeling WS-Security or WS-Addressing check failed. The message must not be used."""


class SecurityConfigError(SecurityError):
    """Our own signing key, certificate or the partner's certificate could not be loaded or do not fit."""


class UnsignedMessageError(SecurityError):
    """The message carries no WS-Security header or no signature at all."""


class SecurityHeaderError(SecurityError):
    """The Security header is malformed: duplicated parts, unsupported algorithms, dangling references."""


class TimestampError(SecurityError):
    """The wsu:Timestamp is missing, unreadable, expired, or created too far in the future."""


class UnsignedPartError(SecurityError):
    """A part that must be signed (Body, Timestamp, a WS-Addressing header) is not covered by the signature."""


class UntrustedCertificateError(SecurityError):
    """The message was signed with a certificate other than the partner's configured signing certificate."""


class InvalidSignatureError(SecurityError):
    """The signature does not verify: the signed parts were changed after signing, or it is broken."""


class SignatureConfirmationError(SecurityError):
    """The response does not confirm the signature of our request (WS-Security 1.1 SignatureConfirmation)."""


class AddressingError(SecurityError):
    """WS-Addressing headers are missing, duplicated, or the reply does not belong to our request.

    A reply that does not relate to the request we sent may be a replayed or misrouted message:
    it is treated as a security failure, never retried.
    """
