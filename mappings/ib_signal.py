"""IB ``Signaal`` XML element <-> canonical signal fields (pure, no I/O).

The mapping is 1:1 and structural only: it moves text between XML elements and canonical field
names (schemas/signal.py ``SIGNAL_FIELDS``). Checking values (11-proef, dates, enumerations) is
the job of the domain rules, so a bad record still maps and can be quarantined with a reason.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from enum import Enum
from functools import lru_cache

from lxml import etree

from schemas.ib import IB_NAMESPACE, XSD_PATH
from schemas.signal import SIGNAL_FIELDS

__all__ = [
    "ELEMENT_TO_FIELD",
    "FIELD_TO_ELEMENT",
    "IB_NAMESPACE",
    "SIGNAAL_TAG",
    "SignalStructureError",
    "fields_to_signal_element",
    "ib_tag",
    "signal_element_to_fields",
    "signal_schema_problems",
]

FIELD_TO_ELEMENT: dict[str, str] = {
    "bericht_id": "BerichtId",
    "volgnummer": "Volgnummer",
    "soort": "Soort",
    "bsn": "Burgerservicenr",
    "gemeentecode": "Gemeentecode",
    "eerste_ziektedag": "EersteZiektedag",
    "datum_einde_dienstverband": "DatumEindeDienstverband",
    "datum_melding": "DatumMelding",
    "wettelijke_grondslag": "WettelijkeGrondslag",
    "werkgever_loonheffingennummer": "WerkgeverLoonheffingennr",
    "datum_herstel": "DatumHerstel",
    "datum_einde_zw": "DatumEindeZw",
    "reden_einde": "RedenEinde",
    "ezwb_uitkomst": "EzwbUitkomst",
    "ezwb_datum": "EzwbDatum",
    "nieuwe_gemeentecode": "NieuweGemeentecode",
    "verwijst_naar": "VerwijstNaar",
}
"""Canonical field name -> local element name, in SIGNAL_FIELDS (= XSD sequence) order."""

ELEMENT_TO_FIELD: dict[str, str] = {element: field for field, element in FIELD_TO_ELEMENT.items()}

assert tuple(FIELD_TO_ELEMENT) == SIGNAL_FIELDS, "FIELD_TO_ELEMENT must follow SIGNAL_FIELDS"


def ib_tag(local_name: str) -> str:
    """Clark notation ``{urn:...}LocalName`` for an element in the IB namespace."""
    return f"{{{IB_NAMESPACE}}}{local_name}"


SIGNAAL_TAG = ib_tag("Signaal")
_STRING_VALUE = etree.XPath("string()")  # text of a leaf, ignoring comments/PIs inside it


class SignalStructureError(ValueError):
    """The ``Signaal`` element does not have the expected shape (wrong tag, unknown/repeated child)."""


def signal_element_to_fields(el: etree._Element) -> dict[str, str]:
    """Return ``{canonical field: raw text}`` for the fields present in a ``Signaal`` element.

    Text is returned exactly as found (no stripping, no conversion). Raises
    :class:`SignalStructureError` for a wrong root tag, an unknown or repeated child element, or a
    child that itself contains elements. Messages name elements, never their content.
    """
    if el.tag != SIGNAAL_TAG:
        raise SignalStructureError(f"expected element {SIGNAAL_TAG}, got {el.tag}")
    fields: dict[str, str] = {}
    for child in el.iterchildren(tag=etree.Element):
        qname = etree.QName(child)
        field = ELEMENT_TO_FIELD.get(qname.localname) if qname.namespace == IB_NAMESPACE else None
        if field is None:
            raise SignalStructureError(f"unexpected element {child.tag} in Signaal")
        if field in fields:
            raise SignalStructureError(f"element {qname.localname} occurs more than once in Signaal")
        if next(child.iterchildren(tag=etree.Element), None) is not None:
            raise SignalStructureError(f"element {qname.localname} must not contain elements")
        fields[field] = str(_STRING_VALUE(child))
    return fields


def _to_text(value: object) -> str:
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):  # bool is an int: refuse rather than write "True"
        raise TypeError("boolean is not a valid signal field value")
    return str(value)


def fields_to_signal_element(fields: Mapping[str, object]) -> etree._Element:
    """Build a ``Signaal`` element from canonical fields (``Signal.model_dump()`` or a plain dict).

    Values may be str, int, date or enum members and are written as text without validation;
    ``None`` means absent. Unknown field names raise ``ValueError`` (typos must not vanish silently).
    """
    unknown = sorted(set(fields) - set(FIELD_TO_ELEMENT))
    if unknown:
        raise ValueError(f"unknown signal field(s) {unknown}; expected names from SIGNAL_FIELDS")
    root = etree.Element(SIGNAAL_TAG, nsmap={None: IB_NAMESPACE})
    for field, element in FIELD_TO_ELEMENT.items():
        value = fields.get(field)
        if value is None:
            continue
        etree.SubElement(root, ib_tag(element)).text = _to_text(value)
    return root


@lru_cache(maxsize=1)
def _signal_schema() -> etree.XMLSchema:
    # Our own packaged XSD: read from disk once, with a parser that never touches the network.
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    return etree.XMLSchema(etree.parse(str(XSD_PATH), parser))


_ELEMENT_IN_MESSAGE = re.compile(r"Element '(?:\{[^}]*\})?([A-Za-z]+)'")


def signal_schema_problems(el: etree._Element) -> list[str]:
    """Where a ``Signaal`` element breaks the XSD, as element names and rule kinds only.

    lxml's messages quote the offending value (a BSN, say); these never do.
    """
    schema = _signal_schema()
    if schema.validate(el):
        return []
    problems = []
    for entry in schema.error_log:
        match = _ELEMENT_IN_MESSAGE.search(entry.message)
        element = match.group(1) if match else "Signaal"
        field = ELEMENT_TO_FIELD.get(element, element)
        problems.append(f"'{field}' voldoet niet aan het IB-schema ({_rule_in_words(entry.type_name)})")
    return sorted(set(problems))


_RULES_IN_WORDS = (
    ("PATTERN", "verkeerd patroon"), ("ENUMERATION", "geen toegestane waarde"),
    ("DATATYPE", "verkeerd gegevenstype of datum"), ("LENGTH", "verkeerde lengte"),
    ("COMPLEX_TYPE", "verkeerde opbouw: element ontbreekt, staat verkeerd of hoort er niet"),
)


def _rule_in_words(type_name: str) -> str:
    return next((words for key, words in _RULES_IN_WORDS if key in type_name), type_name.lower())
