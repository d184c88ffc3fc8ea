"""The hostile and bad input corpus: every case named, with its channel, its expected handling and a
fragment the recorded reason (or the connector's error) must contain, so a wrong reason fails.

Channels and what a case's fields mean there (tests/test_hostile_inputs.py feeds each through the
real entry point of its channel):

- ``ib-soap-signal``: a signal in an IB ``HaalSignalen`` page. ``record`` overrides fields of one
  well-formed record (None drops a field), ``rewrite`` (regex, replacement) edits the served page;
  or ``data`` replaces the whole answer (``target="envelope"``).
- ``signal-file``: ``data`` is a whole downloaded signal file; or ``record`` is one signal in an
  otherwise good file.
- ``suwinet-response``: the answer to the hostile person's ``GSDReintegratieInfo``: ``data`` replaces
  the whole answer, or ``rewrite`` edits the simulator's real answer.
- ``zgw-response``: the Zaken API's answer to ``POST zaken`` (``target="create"``) or ``POST rollen``
  (``target="rol"``) of the hostile case.
- ``arbodienst-json``: the arbodienst's answer to the hostile consult's booking (``book``), its
  follow-up (``follow-up``, ``advice``) or the batch's slot list (``slots``).
- ``ubl-invoice``: an e-invoice in the drop folder (``target="drop"``) or a provider feed (``feed``).
- ``dropfolder-name``: a file in the invoice drop folder with a hostile ``filename`` (``kind``).

Expected handling: ``quarantined`` means kept and set aside for a person with a stored reason (inbox
quarantine, an outbox effect FAILED, a consult CONTROLEREN); ``rejected`` means refused with the reason
in the connector's error, the drop folder's skip list or the stored invoice's findings (which the
provider is sent): nothing acknowledged, decided, booked or paid on it, a file left where it was.

All BSNs are synthetic (rules.identifiers.synthetic_bsn); the invalid ones are derived from them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

from rules.identifiers import synthetic_bsn

FILES = Path(__file__).resolve().parent / "files"
CHANNELS = ("ib-soap-signal", "signal-file", "suwinet-response", "zgw-response", "arbodienst-json", "ubl-invoice",
            "dropfolder-name")
QUARANTINED, REJECTED = "quarantined", "rejected"


def _broken(bsn: str) -> str:
    """`bsn` with its last digit changed: 9 digits that fail the 11-proef."""
    return bsn[:-1] + str((int(bsn[-1]) + 1) % 10)


IB_BSN = synthetic_bsn(9001)
IB_BAD_BSN = _broken(IB_BSN)
FILE_BSNS = (synthetic_bsn(9101), synthetic_bsn(9102))  # written into the plain files under files/signal-file
SUWINET_BSN = synthetic_bsn(9201)
ZGW_BSN = synthetic_bsn(9301)  # also in files/zgw-response/rol-problem-echoes-bsn.json
ARBO_BSN = synthetic_bsn(9401)  # also in files/arbodienst-json/book-problem-echoes-bsn.json
OTHER_BSN = synthetic_bsn(9501)  # someone else's, smuggled into an answer
IB_MARKER = "HOSTILEMARK1"  # a valid loonheffingennummer (12 characters)
"""Loonheffingennummer of the hostile IB record; ``rewrite`` patterns replace its element."""


@dataclass(frozen=True)
class Hostile:
    """One named hostile input (see the module docstring for the fields per channel)."""

    name: str
    channel: str
    expected: str
    reason: str
    what: str
    target: str = ""
    file: str | None = None
    make: Callable[[Mapping[str, str]], bytes] | None = field(default=None, repr=False)
    record: Mapping[str, object] | None = None
    rewrite: tuple[bytes, bytes] | None = None
    status: int = 200
    content_type: str = "application/json"
    filename: str = ""
    error: str = ""
    bsns: tuple[str, ...] = ()

    def payload(self, ctx: Mapping[str, str] | None = None) -> bytes:
        """The hostile bytes; ``{api_root}`` in a file becomes ``ctx["api_root"]``."""
        ctx = ctx or {}
        if self.make is not None:
            return self.make(ctx)
        if self.file is None:
            return b""
        data = (FILES / self.file).read_bytes()
        return data.replace(b"{api_root}", ctx["api_root"].encode()) if "api_root" in ctx else data


def _deep_xml(root: str, depth: int = 5000) -> Callable[[Mapping[str, str]], bytes]:
    return lambda _: f"<{root}>".encode() + b"<a>" * depth + b"</a>" * depth + f"</{root}>".encode()


def _deep_json(depth: int = 100_000) -> Callable[[Mapping[str, str]], bytes]:
    return lambda _: b'{"url": ' + b"[" * depth + b"]" * depth + b"}"


def _big(size: int, head: bytes = b"<x>", fill: bytes = b"<y>filler</y>", tail: bytes = b"</x>"):
    return lambda _: head + fill * (size // len(fill) + 1) + tail


def _soap(body: bytes) -> bytes:
    return (b'<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/'
            b'envelope/"><soap:Body>' + body + b"</soap:Body></soap:Envelope>")


def _marker(replacement: str) -> tuple[bytes, bytes]:
    return (f"<WerkgeverLoonheffingennr>{IB_MARKER}</WerkgeverLoonheffingennr>".encode(), replacement.encode())


def _ib() -> Iterator[Hostile]:
    c, q, r = "ib-soap-signal", QUARANTINED, REJECTED
    yield Hostile("soap-bsn-fails-elfproef", c, q, "elfproef", "BSN of 9 digits failing the 11-proef",
                  target="signal", record={"bsn": IB_BAD_BSN}, bsns=(IB_BAD_BSN,))
    letters = IB_BSN[:4] + "O" + IB_BSN[5:]
    yield Hostile("soap-bsn-with-a-letter", c, q, "elfproef", "BSN with the letter O for a zero",
                  target="signal", record={"bsn": letters}, bsns=(letters,))
    yield Hostile("soap-bsn-missing", c, q, "'bsn' ontbreekt", "no Burgerservicenr at all",
                  target="signal", record={"bsn": None})
    yield Hostile("soap-unknown-soort", c, q, "onbekende soort", "a kind of signal that does not exist",
                  target="signal", record={"soort": "ZIEKMELDING_ZELFSTANDIGE"}, bsns=(IB_BSN,))
    yield Hostile("soap-html-in-soort", c, q, "onbekende soort", "HTML/script as the kind of signal",
                  target="signal", record={"soort": "<img src=x onerror=alert(1)>"}, bsns=(IB_BSN,))
    yield Hostile("soap-impossible-date", c, q, "geen geldige datum", "30 February as first sick day",
                  target="signal", record={"eerste_ziektedag": "2027-02-30"}, bsns=(IB_BSN,))
    yield Hostile("soap-date-wrong-format", c, q, "geen geldige datum", "a Dutch DD-MM-JJJJ date",
                  target="signal", record={"datum_melding": "14-01-2027"}, bsns=(IB_BSN,))
    yield Hostile("soap-sick-day-in-future", c, q, "in de toekomst", "first sick day years after today",
                  target="signal", record={"eerste_ziektedag": "2031-01-06", "datum_einde_dienstverband": None,
                                           "datum_melding": None}, bsns=(IB_BSN,))
    yield Hostile("soap-melding-before-sick-day", c, q, "ligt voor de eerste_ziektedag", "reported before being ill",
                  target="signal", record={"datum_melding": "2026-12-01"}, bsns=(IB_BSN,))
    yield Hostile("soap-sql-in-gemeentecode", c, q, "CBS-gemeentecode", "SQL injection in the gemeentecode",
                  target="signal", record={"gemeentecode": "0518'; DROP TABLE cases;--"}, bsns=(IB_BSN,))
    yield Hostile("soap-html-in-loonheffingennr", c, q, "werkgever_loonheffingennummer", "a script element as text",
                  target="signal", record={"werkgever_loonheffingennummer": "<script>alert(1)</script>"},
                  bsns=(IB_BSN,))
    yield Hostile("soap-oversized-signal", c, q, "over the limit", "one signal of 70 KB (a signal is < 2 KB)",
                  target="signal", record={"werkgever_loonheffingennummer": "x" * 70_000}, bsns=(IB_BSN,))
    yield Hostile("soap-overlong-bericht-id", c, q, "bericht_id", "a BerichtId of 202 characters (the XSD allows 64)",
                  target="signal", record={"bericht_id": "H-" + "A" * 200}, bsns=(IB_BSN,))
    yield Hostile("soap-unknown-element", c, q, "unexpected element", "a Diagnose element smuggled into a signal",
                  target="signal", record={}, rewrite=_marker("<Diagnose>burn-out</Diagnose>"), bsns=(IB_BSN,))
    yield Hostile("soap-nested-elements", c, q, "must not contain elements", "120 levels of elements in a field",
                  target="signal", record={},
                  rewrite=_marker("<WerkgeverLoonheffingennr>" + "<a>" * 120 + "x" + "</a>" * 120
                                  + "</WerkgeverLoonheffingennr>"), bsns=(IB_BSN,))
    yield Hostile("soap-repeated-bsn", c, q, "occurs more than once", "a second Burgerservicenr (someone else's)",
                  target="signal", record={},
                  rewrite=_marker(f"<Burgerservicenr>{OTHER_BSN}</Burgerservicenr>"), bsns=(IB_BSN, OTHER_BSN))
    yield Hostile("soap-volgnummer-not-a-number", c, q, "geen geheel getal", "Volgnummer 'twee'",
                  target="signal", record={}, rewrite=(b"<Volgnummer>2</Volgnummer>", b"<Volgnummer>twee</Volgnummer>"),
                  bsns=(IB_BSN,))
    env = "envelope"
    yield Hostile("soap-envelope-xxe", c, r, "DOCTYPE", "external entity (file:///etc/passwd) in the page",
                  target=env, file=f"{c}/xxe.xml", error="IbSecurityError", content_type="text/xml")
    yield Hostile("soap-envelope-billion-laughs", c, r, "DOCTYPE", "nested entity expansion in the page",
                  target=env, file=f"{c}/billion-laughs.xml", error="IbSecurityError", content_type="text/xml")
    yield Hostile("soap-envelope-utf16", c, r, "UTF-8", "a UTF-16 page", target=env, file=f"{c}/utf16.xml",
                  error="IbSecurityError", content_type="text/xml", bsns=(FILE_BSNS[0],))
    yield Hostile("soap-envelope-html-page", c, r, "invalid XML", "a proxy's HTML error page with HTTP 200",
                  target=env, file=f"{c}/html-error-page.html", error="IbProtocolError", content_type="text/html",
                  bsns=(FILE_BSNS[0],))
    yield Hostile("soap-envelope-deep-nesting", c, r, "depth", "5000 nested elements in the Body", target=env,
                  make=lambda _: _soap(_deep_xml("x")(_)), error="IbProtocolError", content_type="text/xml")
    yield Hostile("soap-envelope-oversized", c, r, "over 20971520 bytes", "a 21 MB page", target=env,
                  make=lambda _: _soap(_big(21 * 1024 * 1024)(_)), error="IbProtocolError", content_type="text/xml")


def _signal_file() -> Iterator[Hostile]:
    c, q, r = "signal-file", QUARANTINED, REJECTED
    both = FILE_BSNS
    yield Hostile("file-xxe", c, q, "DOCTYPE", "external entity in the file", target="file", file=f"{c}/xxe.xml")
    yield Hostile("file-billion-laughs", c, q, "DOCTYPE", "10^9 lols", target="file", file=f"{c}/billion-laughs.xml")
    yield Hostile("file-external-dtd", c, q, "DOCTYPE", "a DTD fetched from the internet", target="file",
                  file=f"{c}/external-dtd.xml", bsns=both[:1])
    yield Hostile("file-utf16", c, q, "UTF-8", "the file in UTF-16", target="file", file=f"{c}/utf16.xml",
                  bsns=both[:1])
    yield Hostile("file-latin1", c, q, "UTF-8", "the file declared ISO-8859-1", target="file",
                  file=f"{c}/latin1.xml", bsns=both[:1])
    yield Hostile("file-not-xml-csv", c, q, "not well-formed", "a CSV export with a BSN in it", target="file",
                  file=f"{c}/not-xml.csv", bsns=both[:1])
    yield Hostile("file-truncated", c, q, "not well-formed", "a download cut off halfway", target="file",
                  file=f"{c}/truncated.xml", bsns=both)
    yield Hostile("file-bsn-in-tag-name", c, q, "not well-formed", "element names made of BSNs (echoed by libxml2)",
                  target="file", file=f"{c}/bsn-in-tag-name.xml", bsns=both)
    yield Hostile("file-deep-nesting", c, q, "depth", "5000 nested elements", target="file",
                  make=_deep_xml("Signalen"))
    yield Hostile("file-empty", c, q, "empty", "an empty file", target="file", make=lambda _: b"")
    yield Hostile("file-oversized", c, r, "grens", "a 50 MB + 1 byte file", target="file",
                  make=_big(50 * 1024 * 1024 + 1, head=b"<Signalen>", tail=b"</Signalen>"))
    yield Hostile("file-signal-over-64kb", c, q, "over the limit", "one signal of 70 KB in a good file",
                  target="signal", record={"werkgever_loonheffingennummer": "y" * 70_000}, bsns=(IB_BSN,))
    yield Hostile("file-invalid-bsn", c, q, "elfproef", "a BSN failing the 11-proef in a good file",
                  target="signal", record={"bsn": IB_BAD_BSN}, bsns=(IB_BAD_BSN,))
    yield Hostile("file-unknown-soort", c, q, "onbekende soort", "an unknown kind in a good file",
                  target="signal", record={"soort": "BETERMELDING_ZELFSTANDIGE"}, bsns=(IB_BSN,))
    yield Hostile("file-negative-volgnummer", c, q, "volgnummer", "volgnummer -5", target="signal",
                  record={"volgnummer": -5}, bsns=(IB_BSN,))


_GSD_BEGIN = rb"<DatBRv>20250501</DatBRv>"


def _suwinet() -> Iterator[Hostile]:
    c, r = "suwinet-response", REJECTED
    env, pay = "envelope", "payload"
    yield Hostile("suwinet-xxe", c, r, "DOCTYPE", "external entity in the answer", target=env,
                  file=f"{c}/xxe.xml", error="SuwinetSecurityError", content_type="text/xml")
    yield Hostile("suwinet-billion-laughs", c, r, "DOCTYPE", "entity expansion in the answer", target=env,
                  file=f"{c}/billion-laughs.xml", error="SuwinetSecurityError", content_type="text/xml")
    yield Hostile("suwinet-utf16", c, r, "UTF-8", "the answer in UTF-16", target=env, file=f"{c}/utf16.xml",
                  error="SuwinetSecurityError", content_type="text/xml", bsns=(FILE_BSNS[0],))
    yield Hostile("suwinet-not-xml", c, r, "invalid XML", "a maintenance page with HTTP 200", target=env,
                  file=f"{c}/not-xml.html", error="SuwinetProtocolError", content_type="text/html")
    yield Hostile("suwinet-deep-nesting", c, r, "depth", "5000 nested elements", target=env,
                  make=lambda _: _soap(_deep_xml("x")(_)), error="SuwinetProtocolError", content_type="text/xml")
    yield Hostile("suwinet-oversized", c, r, "over 5242880 bytes", "a 6 MB answer", target=env,
                  make=lambda _: _soap(_big(6 * 1024 * 1024)(_)), error="SuwinetProtocolError",
                  content_type="text/xml")
    yield Hostile("suwinet-garbled-date", c, r, "DatBRv is not a SuwiML date", "begin date as 2025-05-01",
                  target=pay, rewrite=(_GSD_BEGIN, b"<DatBRv>2025-05-01</DatBRv>"), error="SuwinetProtocolError",
                  bsns=(SUWINET_BSN,))
    yield Hostile("suwinet-about-someone-else", c, r, "someone else", "the data of another person",
                  target=pay, rewrite=(f"<Burgerservicenr>{SUWINET_BSN}</Burgerservicenr>".encode(),
                                       f"<Burgerservicenr>{OTHER_BSN}</Burgerservicenr>".encode()),
                  error="SuwinetProtocolError", bsns=(SUWINET_BSN, OTHER_BSN))
    yield Hostile("suwinet-bad-percentage", c, r, "Percentage is not 5 digits", "percentage '55%'", target=pay,
                  rewrite=(rb"<Percentage>05500</Percentage>", b"<Percentage>55%</Percentage>"),
                  error="SuwinetProtocolError", bsns=(SUWINET_BSN,))
    yield Hostile("suwinet-missing-begin", c, r, "has no DatBRv", "an LKS period without a begin", target=pay,
                  rewrite=(_GSD_BEGIN, b""), error="SuwinetProtocolError", bsns=(SUWINET_BSN,))
    yield Hostile("suwinet-no-answer-branch", c, r, "none of ClientSuwi", "an empty response element", target=pay,
                  rewrite=(rb"<ClientSuwi>.*</ClientSuwi>", b""), error="SuwinetProtocolError", bsns=(SUWINET_BSN,))
    fwi = (b'<fwi:FWI xmlns:fwi="http://bkwi.nl/SuwiML/FWI/v0205"><Fout><Code>GSD-0042</Code><Tekst>Geen toegang tot '
           b"het dossier van " + SUWINET_BSN.encode() + b"</Tekst></Fout></fwi:FWI>")
    yield Hostile("suwinet-fwi-echoes-bsn", c, r, "FWI", "an FWI error whose text quotes the BSN", target=pay,
                  rewrite=(rb"<ClientSuwi>.*</ClientSuwi>", fwi), error="SuwinetRejected", bsns=(SUWINET_BSN,))


def _zgw() -> Iterator[Hostile]:
    c, q = "zgw-response", QUARANTINED
    yield Hostile("zgw-create-not-json", c, q, "no JSON", "an HTML page with 201", target="create", status=201,
                  file=f"{c}/create-not-json.html", content_type="text/html", error="ZakenProtocolError")
    yield Hostile("zgw-create-no-url", c, q, "without a zaak", "a zaak without url", target="create", status=201,
                  file=f"{c}/create-no-url.json", error="ZakenProtocolError")
    yield Hostile("zgw-create-json-array", c, q, "without a zaak", "a JSON list instead of a zaak", target="create",
                  status=201, file=f"{c}/create-json-array.json", error="ZakenProtocolError")
    yield Hostile("zgw-create-foreign-url", c, q, "refusing to call", "a zaak URL on another host", target="create",
                  status=201, file=f"{c}/create-foreign-url.json", error="ZakenRefusedUrl")
    yield Hostile("zgw-create-traversal-url", c, q, "refusing to call", "a zaak URL walking out with ../",
                  target="create", status=201, file=f"{c}/create-traversal-url.json", error="ZakenRefusedUrl")
    yield Hostile("zgw-create-other-identificatie", c, q, "another zaak", "SQL as the zaak's identificatie",
                  target="create", status=201, file=f"{c}/create-other-identificatie.json", error="ZakenProtocolError")
    yield Hostile("zgw-create-deep-json", c, q, "no JSON", "100000 nested JSON lists", target="create", status=201,
                  make=_deep_json(), error="ZakenProtocolError")
    yield Hostile("zgw-create-oversized", c, q, "more than 5242880 bytes", "a 6 MB answer", target="create",
                  status=201, make=_big(6 * 1024 * 1024, b'{"x": "', b"x" * 64, b'"}'), error="ZakenProtocolError")
    yield Hostile("zgw-create-redirect", c, q, "redirected", "a redirect to another host", target="create",
                  status=302, make=lambda _: b"", error="ZakenProtocolError")
    yield Hostile("zgw-rol-problem-echoes-bsn", c, q, "HTTP 400", "a 400 problem quoting the BSN", target="rol",
                  status=400, file=f"{c}/rol-problem-echoes-bsn.json", content_type="application/problem+json",
                  error="ZakenRejected", bsns=(ZGW_BSN,))
    yield Hostile("zgw-rol-problem-deep-json", c, q, "HTTP 400", "a 400 problem nested 100000 deep", target="rol",
                  status=400, make=_deep_json(), content_type="application/problem+json", error="ZakenRejected",
                  bsns=(ZGW_BSN,))


def _arbodienst() -> Iterator[Hostile]:
    c, q, r = "arbodienst-json", QUARANTINED, REJECTED
    perr = "ArbodienstProtocolError"
    yield Hostile("arbo-book-not-json", c, q, "no JSON", "an HTML page with 201", target="book", status=201,
                  file=f"{c}/book-not-json.html", content_type="text/html", error=perr)
    yield Hostile("arbo-book-unknown-status", c, q, "'status'", "a script as booking status", target="book",
                  status=201, file=f"{c}/book-unknown-status.json", error=perr)
    yield Hostile("arbo-book-naive-start", c, q, "no UTC offset", "a start time without offset", target="book",
                  status=201, file=f"{c}/book-naive-start.json", error=perr)
    yield Hostile("arbo-book-impossible-date", c, q, "not an ISO 8601", "30 February", target="book", status=201,
                  file=f"{c}/book-impossible-date.json", error=perr)
    yield Hostile("arbo-book-other-consult", c, q, "another consult", "the booking of another consult",
                  target="book", status=201, file=f"{c}/book-other-consult.json", error=perr)
    yield Hostile("arbo-book-deep-json", c, q, "no JSON", "100000 nested JSON lists", target="book", status=201,
                  make=_deep_json(), error=perr)
    yield Hostile("arbo-book-oversized", c, q, "more than 5242880 bytes", "a 6 MB answer", target="book",
                  status=201, make=_big(6 * 1024 * 1024, b'{"x": "', b"x" * 64, b'"}'), error=perr)
    yield Hostile("arbo-book-problem-echoes-bsn", c, q, "persoon-onbekend", "a 422 problem quoting the BSN",
                  target="book", status=422, file=f"{c}/book-problem-echoes-bsn.json",
                  content_type="application/problem+json", error="ArbodienstRejected", bsns=(ARBO_BSN,))
    yield Hostile("arbo-followup-sql-booking-id", c, q, "'booking_id' is not an id", "SQL in the booking id",
                  target="follow-up", file=f"{c}/followup-sql-booking-id.json", error=perr)
    yield Hostile("arbo-advice-as-list", c, q, "without an advice document", "a list with a diagnosis",
                  target="advice", file=f"{c}/advice-as-list.json", error=perr)
    yield Hostile("arbo-advice-deep-json", c, q, "no JSON", "an advice nested 100000 deep", target="advice",
                  make=_deep_json(), error=perr)
    yield Hostile("arbo-slots-sql-slot-id", c, r, "'slot_id' is not an id", "SQL as a slot id", target="slots",
                  file=f"{c}/slots-sql-slot-id.json", error=perr)
    yield Hostile("arbo-slots-not-json", c, r, "no JSON", "an HTML page as slot list", target="slots",
                  file=f"{c}/slots-not-json.html", content_type="text/html", error=perr)


def _ubl(**changes: object) -> Callable[[Mapping[str, str]], bytes]:
    """A good UBL invoice on the test's order (``ctx["order_number"]``), then text replacements."""
    replace = changes.pop("replace", ())

    def make(ctx: Mapping[str, str]) -> bytes:
        from simulators.ubl_factory import Line, make_invoice

        args: dict = {"supplier_kvk": "90000001", "supplier_name": "Arbodienst Demo B.V.", "number": "H-1",
                      "issue_date": date(2027, 4, 1), "order_number": ctx.get("order_number", "OPD-ONBEKEND"),
                      "period": (date(2027, 3, 1), date(2027, 3, 31)),
                      "lines": [Line(role="casemanager", hours=Decimal("2"), rate=Decimal("128.88"))]}
        args.update(changes)
        data = make_invoice(**args)
        for old, new in replace:
            assert old in data, f"{old!r} is not in the generated invoice"
            data = data.replace(old, new)
        return data

    return make


def _ubl_cases() -> Iterator[Hostile]:
    c, q, r = "ubl-invoice", QUARANTINED, REJECTED
    yield Hostile("ubl-xxe", c, q, "DOCTYPE", "external entity", target="drop", file=f"{c}/xxe.xml")
    yield Hostile("ubl-billion-laughs", c, q, "DOCTYPE", "entity expansion", target="drop",
                  file=f"{c}/billion-laughs.xml")
    yield Hostile("ubl-utf16", c, q, "UTF-8", "UTF-16", target="drop", file=f"{c}/utf16.xml")
    yield Hostile("ubl-not-xml-pdf", c, q, "not well-formed", "a PDF named .xml", target="drop",
                  file=f"{c}/not-xml.pdf")
    yield Hostile("ubl-deep-nesting", c, q, "depth", "5000 nested elements", target="drop", make=_deep_xml("Invoice"))
    yield Hostile("ubl-order-not-invoice", c, q, "een Order, geen factuur", "a UBL Order instead of an invoice",
                  target="drop", file=f"{c}/order-document.xml")
    yield Hostile("ubl-impossible-issue-date", c, q, "cbc:IssueDate", "issue date 30 February", target="drop",
                  make=_ubl(replace=[(b"<cbc:IssueDate>2027-04-01", b"<cbc:IssueDate>2027-02-30")]))
    bsn = synthetic_bsn(9601)
    yield Hostile("ubl-bsn-as-invoice-number", c, q, "cbc:IssueDate", "a BSN as invoice number, bad issue date",
                  target="drop", make=_ubl(number=bsn, replace=[(b"<cbc:IssueDate>2027-04-01",
                                                                 b"<cbc:IssueDate>01-04-2027")]), bsns=(bsn,))
    yield Hostile("ubl-html-in-price", c, q, "cbc:PriceAmount", "markup as the price", target="drop",
                  make=_ubl(replace=[(b'<cbc:PriceAmount currencyID="EUR">128.88',
                                      b'<cbc:PriceAmount currencyID="EUR">&lt;b&gt;128.88&lt;/b&gt;')]))
    yield Hostile("ubl-amount-too-large", c, q, "tien miljard", "a line of 999 999 999 999 euro", target="drop",
                  make=_ubl(lines=_line("999999999999.00")))
    yield Hostile("ubl-negative-total", c, r, "NEGATIVE_TOTAL", "an invoice (380) for -2 hours", target="drop",
                  make=_ubl(lines=_line("128.88", hours="-2")))
    yield Hostile("ubl-sql-in-order-reference", c, r, "ORDER_UNKNOWN", "SQL as order number", target="drop",
                  make=lambda ctx: _ubl()({"order_number": "OPD'; DROP TABLE orders;--"}))
    yield Hostile("ubl-oversized-file", c, r, "larger than", "a 21 MB file", target="drop",
                  make=_big(21 * 1024 * 1024, b"<Invoice>", b"<Note>filler</Note>", b"</Invoice>"))
    yield Hostile("ubl-feed-traversal-id", c, q, "refusing to call", "a feed item id walking out with ../",
                  target="feed", make=_ubl(number="H-FEED-1"), error="FeedRefusedUrl")
    yield Hostile("ubl-feed-oversized-document", c, q, "more than", "a 21 MB document in the feed", target="feed",
                  make=_big(21 * 1024 * 1024, b"<Invoice>", b"<Note>filler</Note>", b"</Invoice>"),
                  content_type="application/xml", error="FeedTooLarge")


def _line(rate: str, hours: str = "1"):
    from simulators.ubl_factory import Line

    return [Line(role="casemanager", hours=Decimal(hours), rate=Decimal(rate))]


def _dropfolder() -> Iterator[Hostile]:
    c, r = "dropfolder-name", REJECTED
    yield Hostile("drop-backslash-traversal", c, r, "unsafe name", "..\\..\\windows\\evil.xml",
                  filename="..\\..\\windows\\evil.xml", target="file")
    yield Hostile("drop-encoded-traversal", c, r, "unsafe name", "..%2F..%2Fetc%2Fpasswd.xml",
                  filename="..%2F..%2Fetc%2Fpasswd.xml", target="file")
    yield Hostile("drop-dots-inside-name", c, r, "unsafe name", "factuur..xml", filename="factuur..xml",
                  target="file")
    yield Hostile("drop-newline-in-name", c, r, "unsafe name", "a newline (log injection) in the name",
                  filename="factuur\nERROR forged log line.xml", target="file")
    yield Hostile("drop-rtl-override-in-name", c, r, "unsafe name", "a right-to-left override in the name",
                  filename="factuur\u202elmx.xml", target="file")
    yield Hostile("drop-name-not-utf8", c, r, "unsafe name", "a name with a byte that is not UTF-8",
                  filename="factuur-\udcff.xml", target="file")
    yield Hostile("drop-overlong-name", c, r, "longer than 120", "a name of 204 characters",
                  filename="f" * 200 + ".xml", target="file")
    yield Hostile("drop-symlink-outside", c, r, "symbolic link", "a link to a file outside the folder",
                  filename="link.xml", target="symlink")
    yield Hostile("drop-fifo", c, r, "not a regular file", "a named pipe (a read would block)",
                  filename="pipe.xml", target="fifo")
    yield Hostile("drop-directory-named-xml", c, r, "sub-directory", "a directory called evil.xml",
                  filename="evil.xml", target="directory")


CASES: tuple[Hostile, ...] = (*_ib(), *_signal_file(), *_suwinet(), *_zgw(), *_arbodienst(), *_ubl_cases(),
                              *_dropfolder())
BY_NAME: dict[str, Hostile] = {case.name: case for case in CASES}
assert len(BY_NAME) == len(CASES), "case names must be unique"


def of(channel: str) -> list[str]:
    """The names of a channel's cases, in corpus order (pytest ids)."""
    assert channel in CHANNELS, channel
    return [case.name for case in CASES if case.channel == channel]


def manifest() -> list[dict[str, object]]:
    """Every case as plain data (for a reader, or `python -m hostile.corpus`)."""
    return [{"name": h.name, "channel": h.channel, "expected": h.expected, "reason": h.reason, "what": h.what,
             "target": h.target, "file": h.file, "error": h.error or None} for h in CASES]


if __name__ == "__main__":
    print(json.dumps(manifest(), indent=2, ensure_ascii=False))
