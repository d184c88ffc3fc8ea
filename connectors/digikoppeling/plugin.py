"""zeep plugin applying a Digikoppeling WUS profile: address (and sign) requests, check (and verify) replies.

Register it as the LAST plugin and pass no ``wsse`` to zeep: zeep 4.3 applies plugins and then
``wsse``, and only serialises the envelope after that (``etree.tostring``, no pretty printing), so
a signature made here is exactly what goes on the wire.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import zeep
from lxml import etree

from .addressing import OperationActions, add_addressing, check_reply, to_address
from .errors import AddressingError, SignatureConfirmationError
from .profile import DigikoppelingSettings
from .certificates import check_current, check_signing_pair, load_certificate
from .security import sign_envelope, verify_envelope

__all__ = ["Exchange", "WusPlugin"]


@dataclass(frozen=True)
class Exchange:
    """What a reply must match: our request's MessageID, the expected reply Action and our SignatureValue."""

    operation: str
    message_id: str
    response_action: str
    signature_value: str | None = None


class WusPlugin(zeep.Plugin):
    """Digikoppeling WUS for a zeep client (2W-be: addressing; 2W-be-S: addressing and signing).

    ``actions`` maps operation names to their WSDL ``wsam:Action``s (see
    :func:`~connectors.digikoppeling.addressing.read_wsdl_actions`). The request in flight is
    remembered per thread, so one plugin can serve a client shared between threads as long as
    each thread checks its own reply. With ``raw_response=True`` zeep skips ingress plugins:
    call :meth:`check_response` yourself.
    """

    def __init__(self, settings: DigikoppelingSettings, *, actions: Mapping[str, OperationActions]) -> None:
        self.settings = settings
        self.actions = dict(actions)
        self._pending = threading.local()
        if settings.signed:  # fail at start-up, not at the first call
            check_signing_pair(settings.signing_key_path, settings.signing_cert_path)
            load_certificate(settings.trusted_sender_cert_path)

    def egress(self, envelope: etree._Element, http_headers: dict, operation: Any, binding_options: dict):
        """Replace zeep's WS-Addressing headers by the full Digikoppeling set; sign last on 2W-be-S."""
        actions = self.actions.get(operation.name)
        if actions is None:
            raise ValueError(f"no wsam:Action known for operation {operation.name}; is it in the WSDL?")
        message_id = add_addressing(
            envelope, action=actions.request, to=to_address(binding_options["address"], self.settings.receiver_oin),
            from_address=self.settings.from_uri,
        )
        signature_value = None
        if self.settings.signed:
            signature_value = sign_envelope(
                envelope, key_path=self.settings.signing_key_path, cert_path=self.settings.signing_cert_path,
                timestamp_ttl_seconds=self.settings.timestamp_ttl_seconds,
            )
        self._pending.exchange = Exchange(operation.name, message_id, actions.response, signature_value)
        return envelope, http_headers

    def ingress(self, envelope: etree._Element, http_headers: dict, operation: Any):
        """Verify and check a reply (zeep calls this only without ``raw_response``)."""
        self.check_response(envelope)
        return envelope, http_headers

    def check_response(self, envelope: etree._Element) -> Exchange:
        """Check the reply to this thread's last request; raises a ``SecurityError`` subclass.

        2W-be-S first verifies the signature (so the addressing headers read next are authentic) and that
        the partner's pinned certificate is valid now, then the SignatureConfirmation; every profile then
        checks RelatesTo and Action.
        """
        exchange: Exchange | None = getattr(self._pending, "exchange", None)
        self._pending.exchange = None  # one reply per request
        if exchange is None:
            raise AddressingError("a reply arrived but no request is in flight on this thread; it was not used")
        if self.settings.signed:
            verified = verify_envelope(
                envelope, trusted_cert_path=self.settings.trusted_sender_cert_path,
                clock_skew_seconds=self.settings.clock_skew_seconds,
                max_age_seconds=self.settings.timestamp_ttl_seconds,
            )
            check_current(self.settings.trusted_sender_cert_path, clock_skew_seconds=self.settings.clock_skew_seconds)
            if self.settings.require_signature_confirmation and verified.confirmations != (exchange.signature_value,):
                raise SignatureConfirmationError(
                    "the reply does not confirm the signature of our request (wsse11:SignatureConfirmation, "
                    "Digikoppeling WB014): it may answer another request; ask the partner to enable it, or set "
                    "require_signature_confirmation=False if agreed")
        check_reply(envelope, message_id=exchange.message_id, action=exchange.response_action)
        return exchange
