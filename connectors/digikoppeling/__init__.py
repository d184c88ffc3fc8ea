"""Digikoppeling WUS (2W-be, 2W-be-S) for every SOAP partner: WS-Addressing and WS-Security signing. See README.md."""

from __future__ import annotations

from .addressing import (
    Addressing,
    OperationActions,
    add_addressing,
    add_reply_addressing,
    check_reply,
    read_addressing,
    read_wsdl_actions,
    to_address,
)
from .errors import (
    AddressingError,
    InvalidSignatureError,
    SecurityConfigError,
    SecurityError,
    SecurityHeaderError,
    SignatureConfirmationError,
    TimestampError,
    UnsignedMessageError,
    UnsignedPartError,
    UntrustedCertificateError,
)
from .plugin import Exchange, WusPlugin
from .profile import DigikoppelingProfile, DigikoppelingSettings
from .certificates import check_current, check_signing_pair, load_certificate
from .security import VerifiedMessage, sign_envelope, verify_envelope

__all__ = [
    "Addressing",
    "AddressingError",
    "DigikoppelingProfile",
    "DigikoppelingSettings",
    "Exchange",
    "InvalidSignatureError",
    "OperationActions",
    "SecurityConfigError",
    "SecurityError",
    "SecurityHeaderError",
    "SignatureConfirmationError",
    "TimestampError",
    "UnsignedMessageError",
    "UnsignedPartError",
    "UntrustedCertificateError",
    "VerifiedMessage",
    "WusPlugin",
    "add_addressing",
    "add_reply_addressing",
    "check_current",
    "check_reply",
    "check_signing_pair",
    "load_certificate",
    "read_addressing",
    "read_wsdl_actions",
    "sign_envelope",
    "to_address",
    "verify_envelope",
]
