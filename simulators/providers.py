"""Provider invoice feed stand-in, checking every request against vangnet's own contract
(``schemas/providers/openapi.yaml``).

Served under ``/api/v1``: ``GET invoices?since=&limit=``, ``GET invoices/{id}/document``,
``POST invoices/{id}/status``. Per request, in this order: the route (404/405), the bearer token when
one is configured (401), the fault knobs (429 + ``Retry-After``, 503, delay), ``Content-Type`` (415),
query, header and body against the operation in the OpenAPI file (400 ``ongeldig-verzoek``), the
``Idempotency-Key`` (a repeat of a successful report answers the same receipt and records nothing;
the same key on another request: 409 ``idempotency-key-hergebruikt``), then the feed's own rules
(404 ``factuur-onbekend``, 400 ``ongeldige-cursor``, 422 ``reden-ontbreekt``).

Documents are added with :meth:`ProviderFeedSimulator.add_document` (or ``POST /__providers/documents``)
and listed in the order added; the cursor is an opaque token for a position in that list. Admin (no
auth): ``GET /__providers`` (counts, items, status reports), ``POST /__providers/documents?invoice_number=N``
with the XML as body. Network faults (drops, holds) come from the harness.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import copy
import hashlib
import hmac
import json
import random
import re
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from schemas.providers import OPENAPI_PATH
from simulators.arbodienst import ApiProblem, OpenApiContract
from simulators.harness import AppFaults

__all__ = ["DEFAULT_OPENAPI", "ProviderFaults", "ProviderFeedSimulator", "add_cli_arguments", "run_cli"]

DEFAULT_OPENAPI = OPENAPI_PATH
_JSON = "application/json"
_PROBLEM = "application/problem+json"
_CURSOR = re.compile(r"pos:(\d{1,9})")


@dataclass
class ProviderFaults:
    """Feed-specific knobs (``SimServer.set_faults`` or ``POST /__faults``); admin paths are never faulted."""

    throttle_next: int = 0
    """Answer the next N API requests with 429 and ``Retry-After: retry_after``."""
    retry_after: int = 1
    fail_next: int = 0
    """Answer the next N API requests with 503 (``Retry-After: 0``)."""
    fail_rate: float = 0.0
    """Answer each API request with 503 with this probability (seeded RNG)."""
    slow_seconds: float = 0.0
    """Wait this long before each API answer."""
    duplicate_next: int = 0
    """The next N documents added are listed twice, under two ids (a provider re-sending them)."""
    truncate_next: int = 0
    """Serve only the first half of the next N documents downloaded (the listed sha256 no longer matches)."""


def _cursor(position: int) -> str:
    return base64.urlsafe_b64encode(f"pos:{position}".encode()).decode().rstrip("=")


def _position(cursor: str) -> int:
    try:
        found = _CURSOR.fullmatch(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode())
    except (binascii.Error, UnicodeDecodeError, ValueError):
        found = None
    if found is None:
        raise ApiProblem(400, "ongeldige-cursor", "Ongeldige cursor.", "Gebruik een next_cursor uit een eerder antwoord.")
    return int(found.group(1))


class ProviderFeedSimulator(AppFaults):
    """The provider invoice feed app for :class:`simulators.harness.SimServer`.

    ``token``: the bearer token required (None: no bearer check, as with mutual TLS only). ``clock`` gives
    ``received_at`` (aware). ``seed`` makes ``fail_rate`` repeatable.
    """

    faults_type = ProviderFaults
    faults_label = "provider feed"

    def __init__(self, *, token: str | None = None, openapi_path: str | Path = DEFAULT_OPENAPI,
                 clock: Callable[[], datetime] | None = None, seed: int | None = None) -> None:
        if token is not None and not token:
            raise ValueError("token must be non-empty, or None for no bearer check")
        if not Path(openapi_path).is_file():
            raise FileNotFoundError(f"the provider feed OpenAPI file is missing at {openapi_path}; the simulator "
                                    "validates every request against it (pass openapi_path= / --openapi)")
        self.contract = OpenApiContract(openapi_path)
        self.token = token
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self.faults = ProviderFaults()
        self._lock = threading.RLock()
        self._rng = random.Random(seed)
        self._docs: list[dict[str, Any]] = []  # feed order; each with "data" besides the listed fields
        self._by_id: dict[str, dict[str, Any]] = {}
        self._keys: dict[str, tuple[str, Any]] = {}  # Idempotency-Key -> (fingerprint, receipt)
        self._reports: list[dict[str, Any]] = []
        self._replays = self._downloads = 0
        self._base_url: str | None = None

    # -- documents and state -----------------------------------------------------------------------
    def add_document(self, xml: bytes, invoice_number: str) -> str:
        """Put a document in the feed; returns its id (with ``duplicate_next`` it is listed a second time
        under another id)."""
        if not isinstance(xml, bytes) or not xml:
            raise ValueError("xml must be non-empty bytes")
        if not isinstance(invoice_number, str) or not 1 <= len(invoice_number) <= 200:
            raise ValueError("invoice_number must be a string of 1-200 characters")
        with self._lock:
            first = self._append(xml, invoice_number)
            if self.faults.duplicate_next > 0:
                self.faults.duplicate_next -= 1
                self._append(xml, invoice_number)
            return first

    def redeliver(self, invoice_id: str) -> str:
        """List an existing document again under a new id; returns the new id."""
        with self._lock:
            doc = self._by_id[invoice_id]
            return self._append(doc["data"], doc["invoice_number"])

    def _append(self, xml: bytes, invoice_number: str) -> str:
        invoice_id = f"INV-{len(self._docs) + 1:06d}"
        received = self.clock()
        if received.tzinfo is None:
            raise ValueError("the simulator clock must return timezone-aware datetimes")
        doc = {"id": invoice_id, "invoice_number": invoice_number, "received_at": received.isoformat(),
               "content_type": "application/xml", "sha256": hashlib.sha256(xml).hexdigest(), "data": xml}
        self._docs.append(doc)
        self._by_id[invoice_id] = doc
        return invoice_id

    @property
    def api_root(self) -> str:
        """What the client's ``base_url`` should be, e.g. ``http://127.0.0.1:54321/api/v1/``."""
        if self._base_url is None:
            raise RuntimeError("ProviderFeedSimulator is not bound to a running server")
        return f"{self._base_url}{self.contract.base_path}/"

    @property
    def items(self) -> list[dict[str, Any]]:
        """The feed items as listed, in feed order."""
        with self._lock:
            return [{k: v for k, v in d.items() if k != "data"} for d in self._docs]

    @property
    def status_reports(self) -> list[dict[str, Any]]:
        """Every recorded report (``report_id``, ``invoice_id``, ``status``, ``reasons``), in order; an
        idempotent repeat records nothing."""
        with self._lock:
            return copy.deepcopy(self._reports)

    def statuses(self, invoice_id: str) -> list[str]:
        """The statuses reported for one invoice, in order."""
        with self._lock:
            return [r["status"] for r in self._reports if r["invoice_id"] == invoice_id]

    def counts(self) -> dict[str, int]:
        """``documents`` (listed), ``downloads``, ``reports`` (recorded) and ``replays`` (idempotent repeats)."""
        with self._lock:
            return {"documents": len(self._docs), "downloads": self._downloads, "reports": len(self._reports),
                    "replays": self._replays}

    def _check_knob(self, name: str, value: Any) -> None:
        if name in ("fail_rate", "slow_seconds"):
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0 \
                    or (name == "fail_rate" and value > 1):
                raise ValueError(f"provider feed fault knob {name!r} needs a number"
                                 + (" between 0 and 1" if name == "fail_rate" else " >= 0"))
            return
        super()._check_knob(name, value)

    # -- harness hooks ---------------------------------------------------------------------------
    def bind(self, base_url: str) -> None:
        self._base_url = base_url

    def __call__(self, method: str, path: str, headers: Mapping[str, str], body: bytes):
        route, _, query = path.partition("?")
        if route.startswith("/__providers"):
            return self._admin(method, route, query, body)
        headers = {k.lower(): v for k, v in headers.items()}
        try:
            status, content_type, payload = self._handle(method, route, query, headers, body)
        except ApiProblem as p:
            problem = {"type": "about:blank", "title": p.title, "status": p.status, "code": p.code,
                       "detail": p.detail or p.title}
            return p.status, {"Content-Type": _PROBLEM, **p.headers}, json.dumps(problem).encode()
        out = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        return status, {"Content-Type": content_type}, out

    # -- request handling ------------------------------------------------------------------------
    def _handle(self, method: str, route: str, query: str, headers: dict[str, str],
                body: bytes) -> tuple[int, str, Any]:
        def admit() -> None:
            self._check_token(headers.get("authorization", ""))
            self._inject_faults()

        template, operation, params, query_params, data = self.contract.parse_request(
            method, route, query, headers, body, admit=admit)
        with self._lock:
            if operation["operationId"] == "listInvoices":
                return 200, _JSON, self._list(query_params)
            doc = self._by_id.get(params["invoice_id"])
            if doc is None:
                raise ApiProblem(404, "factuur-onbekend", "Factuur onbekend.")
            if operation["operationId"] == "getDocument":
                return 200, "application/xml", self._document(doc)
            return 202, _JSON, self._report(doc, route, headers["idempotency-key"], data)

    def _check_token(self, authorization: str) -> None:
        if self.token is None:
            return
        scheme, _, given = authorization.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), self.token.encode()):
            raise ApiProblem(401, "niet-geautoriseerd", "Niet geautoriseerd.",
                           "Authorization: Bearer <token> ontbreekt of is onjuist.",
                           headers={"WWW-Authenticate": "Bearer"})

    def _inject_faults(self) -> None:
        with self._lock:
            f = self.faults
            slow = f.slow_seconds
            if f.throttle_next > 0:
                f.throttle_next -= 1
                raise ApiProblem(429, "te-veel-verzoeken", "Te veel verzoeken.", headers={"Retry-After": str(f.retry_after)})
            if f.fail_next > 0 or (f.fail_rate and self._rng.random() < f.fail_rate):
                f.fail_next = max(0, f.fail_next - 1)
                raise ApiProblem(503, "niet-beschikbaar", "Tijdelijk niet beschikbaar.", headers={"Retry-After": "0"})
        if slow:
            time.sleep(slow)

    # operations (caller holds the lock)
    def _list(self, query: dict[str, Any]) -> dict[str, Any]:
        start = _position(query["since"]) if "since" in query else 0
        if start > len(self._docs):
            # A cursor from an earlier run of a simulator that holds fewer documents now (the demo restarts
            # it each run): nothing new yet; the cursor stays where it is.
            return {"items": [], "next_cursor": query["since"], "has_more": False}
        page = self._docs[start:start + query.get("limit", 100)]
        end = start + len(page)
        return {"items": [{k: v for k, v in d.items() if k != "data"} for d in page],
                "next_cursor": _cursor(end), "has_more": end < len(self._docs)}

    def _document(self, doc: dict[str, Any]) -> bytes:
        self._downloads += 1
        if self.faults.truncate_next > 0:
            self.faults.truncate_next -= 1
            return doc["data"][: len(doc["data"]) // 2]
        return doc["data"]

    def _report(self, doc: dict[str, Any], route: str, key: str, data: dict[str, Any]) -> dict[str, Any]:
        fingerprint = json.dumps([route, data], sort_keys=True, separators=(",", ":"))
        seen = self._keys.get(key)
        if seen is not None:
            if seen[0] != fingerprint:
                raise ApiProblem(409, "idempotency-key-hergebruikt", "Idempotency-Key al gebruikt.",
                               "Deze Idempotency-Key hoort bij een ander verzoek; gebruik een nieuwe sleutel.")
            self._replays += 1
            return copy.deepcopy(seen[1])
        if data["status"] == "rejected" and not data.get("reasons"):
            raise ApiProblem(422, "reden-ontbreekt", "Reden ontbreekt.", "Een afwijzing heeft minstens één reden.")
        report = {"report_id": f"RPT-{len(self._reports) + 1:06d}", "invoice_id": doc["id"],
                  "status": data["status"], "reasons": copy.deepcopy(data.get("reasons", []))}
        self._reports.append(report)
        receipt = {"invoice_id": doc["id"], "status": data["status"], "report_id": report["report_id"]}
        self._keys[key] = (fingerprint, receipt)
        return copy.deepcopy(receipt)

    # -- admin (out-of-process control) -------------------------------------------------------------
    def _admin(self, method: str, route: str, query: str, body: bytes):
        def answer(status: int, payload: Any):
            return status, {"Content-Type": _JSON}, json.dumps(payload).encode()

        if method == "GET" and route == "/__providers":
            return answer(200, {"counts": self.counts(), "items": self.items, "status_reports": self.status_reports})
        if method == "POST" and route == "/__providers/documents":
            number = parse_qs(query).get("invoice_number", [""])[-1]
            try:
                return answer(201, {"id": self.add_document(body, number)})
            except ValueError as exc:
                return answer(400, {"error": str(exc)})
        return answer(404, {"error": f"no admin route {method} {route}"})


# -- command line (python -m simulators providers) ------------------------------------------------------
def add_cli_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``python -m simulators providers``."""
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--random-seed", type=int, default=None, help="seed for probabilistic faults")
    parser.add_argument("--token", default=None, help="bearer token to require (default: none required)")
    parser.add_argument("--documents", default=None, help="folder of UBL *.xml files to put in the feed")
    parser.add_argument("--demo", type=int, default=0, help="also put N generated demo invoices in the feed")
    parser.add_argument("--openapi", default=str(DEFAULT_OPENAPI), help="the provider feed openapi.yaml")
    parser.add_argument("--tls-dir", default=None,
                        help="serve HTTPS with mutual TLS, generating a throwaway test PKI here")


def _invoice_number(data: bytes) -> str:
    from mappings.safe_xml import parse_xml

    root = parse_xml(data, max_bytes=20 * 1024 * 1024)
    number = root.findtext("{urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2}ID")
    if not number:
        raise ValueError("no cbc:ID (invoice number) in the document")
    return number.strip()


def _demo_invoice(n: int) -> tuple[bytes, str]:
    from decimal import Decimal

    from simulators.ubl_factory import Line, make_invoice

    number = f"DEMO-2026-{n:04d}"
    lines = [Line("casemanager", Decimal("6.5"), Decimal("125.00")),
             Line("re-integratieconsulent", Decimal(n % 8 + 1), Decimal("115.00"))]
    xml = make_invoice(number=number, issue_date=date(2026, 4, 2), order_number=f"PO-DEMO-{n:04d}",
                       period=(date(2026, 3, 1), date(2026, 3, 31)), lines=lines)
    return xml, number


def run_cli(args: argparse.Namespace) -> int:
    """Serve in the foreground; the first stdout line is the server URL. Stop with Ctrl-C or SIGTERM."""
    from simulators.harness import mtls_note, serve_until_stopped

    try:
        app = ProviderFeedSimulator(token=args.token, openapi_path=args.openapi, seed=args.random_seed)
        for path in sorted(Path(args.documents).glob("*.xml")) if args.documents else []:
            data = path.read_bytes()
            app.add_document(data, _invoice_number(data))
        for n in range(1, args.demo + 1):
            app.add_document(*_demo_invoice(n))
    except (OSError, ValueError) as exc:
        print(f"provider feed simulator: {exc}", file=sys.stderr)
        return 2
    tls = None
    if args.tls_dir:
        from simulators.certs import generate_test_pki, server_ssl_context

        tls = server_ssl_context(generate_test_pki(args.tls_dir))
    auth = "bearer token required" if args.token else "no bearer token required"
    mtls = f"; {mtls_note(args.tls_dir)}" if args.tls_dir else ""
    return serve_until_stopped(app, host=args.host, port=args.port, tls=tls, seed=args.random_seed, banner=lambda _: (
        f"provider feed {app.contract.version} at {app.api_root} with {app.counts()['documents']} documents "
        f"({auth}{mtls}); Ctrl-C to stop"))


if __name__ == "__main__":  # python -m simulators.providers [options]
    _parser = argparse.ArgumentParser(prog="python -m simulators.providers", description=__doc__.splitlines()[0])
    add_cli_arguments(_parser)
    sys.exit(run_cli(_parser.parse_args()))
