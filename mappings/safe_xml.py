"""Parse XML from outside safely (domain.md §8): no DTDs, no entities, no network, size-limited, UTF-8 only."""

from __future__ import annotations

import re

from lxml import etree

__all__ = ["UnsafeXmlError", "XmlSyntaxError", "parse_xml"]

# The XML declaration, if any, must be the very first thing (after an optional UTF-8 BOM).
_DECLARATION = re.compile(rb"^<\?xml\s[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']")
_UTF8_BOM = b"\xef\xbb\xbf"
_LONG_NUMBER = re.compile(r"\d{9,}")
_OTHER_BOMS = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")


class UnsafeXmlError(ValueError):
    """The payload was refused before or while parsing (DTD, size, encoding, syntax)."""


class XmlSyntaxError(UnsafeXmlError):
    """The payload is not well-formed XML."""


def _parser() -> etree.XMLParser:
    # A fresh parser per call: lxml parsers are not thread-safe.
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=False,
        remove_pis=False,
    )


def _check_encoding(data: bytes) -> None:
    if data.startswith(_OTHER_BOMS) or data[:2].count(0):
        raise UnsafeXmlError("XML is not UTF-8 encoded (UTF-16/32 detected); only UTF-8 is accepted")
    head = data[len(_UTF8_BOM):] if data.startswith(_UTF8_BOM) else data
    match = _DECLARATION.match(head[:200])
    if match and match.group(1).decode("ascii").lower() not in ("utf-8", "utf8"):
        raise UnsafeXmlError(
            f"XML declares encoding {match.group(1).decode('ascii')!r}; only UTF-8 is accepted"
        )


def _prolog_has_dtd(data: bytes) -> bool:
    """True if a ``<!DOCTYPE`` (or any other ``<!`` markup but a comment) precedes the root element.

    Checked before parsing because libxml2 still processes entity declarations with
    ``resolve_entities=False``; the XML grammar allows a DTD only in this prolog.
    """
    i = len(_UTF8_BOM) if data.startswith(_UTF8_BOM) else 0
    while i < len(data):
        if data[i] in b" \t\r\n":
            i += 1
        elif data.startswith(b"<?", i):
            end = data.find(b"?>", i + 2)
            if end < 0:
                return False  # malformed: the parser will say so
            i = end + 2
        elif data.startswith(b"<!--", i):
            end = data.find(b"-->", i + 4)
            if end < 0:
                return False
            i = end + 3
        else:
            return data.startswith(b"<!", i)
    return False


def parse_xml(data: bytes, *, max_bytes: int) -> etree._Element:
    """Parse ``data`` and return the root element, or raise :class:`UnsafeXmlError`.

    Refuses payloads larger than ``max_bytes``, any DOCTYPE/DTD (so no entity tricks such as
    XXE or billion laughs), encodings other than UTF-8, and malformed XML (:class:`XmlSyntaxError`).
    Error messages describe the problem, never the payload's content.
    """
    if not isinstance(data, (bytes, bytearray)):
        raise TypeError(f"parse_xml expects bytes, got {type(data).__name__}")
    if len(data) > max_bytes:
        raise UnsafeXmlError(
            f"XML payload is {len(data)} bytes, over the limit of {max_bytes} bytes; "
            "refusing to parse it (raise the configured maximum message size if this is legitimate)"
        )
    data = bytes(data)
    if not data.strip():
        raise XmlSyntaxError("XML payload is empty")
    _check_encoding(data)
    if _prolog_has_dtd(data):
        raise UnsafeXmlError("XML contains a DOCTYPE/DTD; DTDs and entities are not accepted")
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        line, column = exc.position
        # libxml2 quotes names from the document (`<x999990019>`): mask what could be a BSN.
        message = _LONG_NUMBER.sub("<number>", exc.msg)
        raise XmlSyntaxError(f"not well-formed XML (line {line}, column {column}): {message}") from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise UnsafeXmlError("XML contains a DOCTYPE/DTD; DTDs and entities are not accepted")
    encoding = (docinfo.encoding or "UTF-8").lower()
    if encoding not in ("utf-8", "utf8"):
        raise UnsafeXmlError(f"XML declares encoding {docinfo.encoding!r}; only UTF-8 is accepted")
    return root
