"""WS-Addressing 1.0 (2006/05) headers as Digikoppeling WUS uses them: To, Action, MessageID, ReplyTo, From, RelatesTo.

Every header we add gets a ``wsu:Id`` so 2W-be-S can sign it. Headers are direct children of
``soap:Header``; zeep's own WS-Addressing headers are replaced, so each appears exactly once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from lxml import etree

from .errors import AddressingError
from .namespaces import SOAP11, WSA, WSA_ANONYMOUS, WSA_REPLY, WSAM, WSDL, WSU, WSU_ID, q

__all__ = [
    "Addressing",
    "OperationActions",
    "add_addressing",
    "add_reply_addressing",
    "check_reply",
    "new_message_id",
    "read_addressing",
    "read_wsdl_actions",
    "to_address",
]

_SINGLE = ("To", "Action", "MessageID", "RelatesTo")
_EPR = ("ReplyTo", "From", "FaultTo")


@dataclass(frozen=True)
class OperationActions:
    """The ``wsam:Action`` of an operation's input (request) and output (response)."""

    request: str
    response: str


@dataclass(frozen=True)
class Addressing:
    """WS-Addressing headers of one message (``None`` when absent)."""

    to: str | None = None
    action: str | None = None
    message_id: str | None = None
    relates_to: str | None = None
    relationship: str | None = None
    reply_to: str | None = None
    from_address: str | None = None


def new_message_id() -> str:
    """A fresh ``urn:uuid:`` message id."""
    return f"urn:uuid:{uuid.uuid4()}"


def to_address(endpoint: str, receiver_oin: str | None = None) -> str:
    """``wsa:To``: the endpoint, with ``OIN=<receiver>`` added to its query string when given."""
    if not receiver_oin:
        return endpoint
    return f"{endpoint}{'&' if urlsplit(endpoint).query else '?'}OIN={receiver_oin}"


def read_wsdl_actions(wsdl_path: str | Path) -> dict[str, OperationActions]:
    """``wsam:Action`` of input and output per operation of the (local, trusted) WSDL's portType."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    doc = etree.parse(str(wsdl_path), parser)
    actions: dict[str, OperationActions] = {}
    for op in doc.iterfind(f"{q(WSDL, 'portType')}/{q(WSDL, 'operation')}"):
        request = op.find(q(WSDL, "input"))
        response = op.find(q(WSDL, "output"))
        req = request.get(q(WSAM, "Action")) if request is not None else None
        res = response.get(q(WSAM, "Action")) if response is not None else None
        if not req or not res:
            raise ValueError(f"{wsdl_path}: operation {op.get('name')} lacks a wsam:Action on its input or output "
                             "(Digikoppeling WS008 requires both)")
        actions[op.get("name")] = OperationActions(req, res)
    return actions


def _header(envelope: etree._Element) -> etree._Element:
    header = envelope.find(q(SOAP11, "Header"))
    if header is None:
        header = etree.Element(q(SOAP11, "Header"))
        envelope.insert(0, header)
    return header


def _strip_wsa(header: etree._Element) -> None:
    for child in list(header):
        if isinstance(child.tag, str) and etree.QName(child).namespace == WSA:
            header.remove(child)


def _add(header: etree._Element, local: str, value: str, *, epr: bool = False) -> etree._Element:
    el = etree.SubElement(header, q(WSA, local), nsmap={"wsa": WSA, "wsu": WSU})
    el.set(WSU_ID, f"{local}-{uuid.uuid4().hex}")
    if epr:
        etree.SubElement(el, q(WSA, "Address")).text = value
    else:
        el.text = value
    return el


def add_addressing(
    envelope: etree._Element,
    *,
    action: str,
    to: str,
    message_id: str | None = None,
    from_address: str | None = None,
    reply_to: str = WSA_ANONYMOUS,
) -> str:
    """Give a request ``To``, ``Action``, ``MessageID``, ``ReplyTo`` and (when given) ``From``; returns the MessageID.

    Existing ``wsa:*`` headers (zeep adds some for a WSDL with ``wsam:Action``) are removed first.
    """
    message_id = message_id or new_message_id()
    header = _header(envelope)
    _strip_wsa(header)
    _add(header, "To", to)
    _add(header, "Action", action)
    _add(header, "MessageID", message_id)
    _add(header, "ReplyTo", reply_to, epr=True)
    if from_address:
        _add(header, "From", from_address, epr=True)
    return message_id


def add_reply_addressing(
    envelope: etree._Element, *, action: str, relates_to: str | None, message_id: str | None = None
) -> str:
    """Give a reply ``To`` (anonymous), ``Action``, ``MessageID`` and ``RelatesTo`` (when the request had an id)."""
    message_id = message_id or new_message_id()
    header = _header(envelope)
    _strip_wsa(header)
    _add(header, "To", WSA_ANONYMOUS)
    _add(header, "Action", action)
    _add(header, "MessageID", message_id)
    if relates_to:
        _add(header, "RelatesTo", relates_to)
    return message_id


def read_addressing(envelope: etree._Element) -> Addressing:
    """Read the WS-Addressing headers; :class:`AddressingError` when one appears more than once."""
    header = envelope.find(q(SOAP11, "Header"))
    found: dict[str, etree._Element] = {}
    for child in header if header is not None else ():
        if not isinstance(child.tag, str) or etree.QName(child).namespace != WSA:
            continue
        local = etree.QName(child).localname
        if local in found:
            raise AddressingError(f"the message has more than one wsa:{local} header; "
                                  "each WS-Addressing header may appear once (ask the sender to fix it)")
        found[local] = child

    def text(local: str) -> str | None:
        el = found.get(local)
        return (el.text or "").strip() if el is not None and local in _SINGLE else None

    def address(local: str) -> str | None:
        el = found.get(local)
        return (el.findtext(q(WSA, "Address")) or "").strip() if el is not None and local in _EPR else None

    relates = found.get("RelatesTo")
    return Addressing(
        to=text("To"), action=text("Action"), message_id=text("MessageID"), relates_to=text("RelatesTo"),
        relationship=relates.get("RelationshipType") if relates is not None else None,
        reply_to=address("ReplyTo"), from_address=address("From"),
    )


def check_reply(envelope: etree._Element, *, message_id: str, action: str) -> Addressing:
    """Check a reply belongs to our request ``message_id`` and carries the expected response ``action``."""
    wsa = read_addressing(envelope)
    if wsa.relates_to is None:
        raise AddressingError("the reply has no wsa:RelatesTo, so it cannot be matched to our request; "
                              "the partner must echo the request's MessageID (Digikoppeling WA001)")
    if wsa.relates_to != message_id:
        raise AddressingError("the reply's wsa:RelatesTo does not match the MessageID of our request: it "
                              "answers another message (replayed or misrouted); it was not used")
    if wsa.relationship not in (None, WSA_REPLY):
        raise AddressingError("the reply's wsa:RelatesTo has a RelationshipType other than reply; it was not used")
    if wsa.action != action:
        raise AddressingError(f"the reply's wsa:Action is {'missing' if wsa.action is None else 'unexpected'}; "
                              f"expected {action} from the WSDL: check that the endpoint serves this contract")
    return wsa
