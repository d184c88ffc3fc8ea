"""Arbodienst booking API stand-in, checking every request against vangnet's own contract
(``schemas/arbodienst/openapi.yaml``).

Served under ``/api/v1``: ``GET slots``, ``POST bookings``, ``GET bookings/{id}``,
``POST bookings/{id}/cancel``, ``POST bookings/{id}/reschedule``, ``GET bookings/{id}/advies``.
Per request, in this order: the route (404/405), the bearer token when one is configured (401),
the ``throttle_next`` knob (429 + ``Retry-After``), ``Content-Type`` (415), query, header and body
against the operation in the OpenAPI file (400 ``ongeldig-verzoek``), the ``Idempotency-Key``
(a repeat of a successful request answers the same again; the same key on another request: 422
``idempotency-key-hergebruikt``), then the booking rules (409 ``slot-bezet``, 422, 404).

The advice document deliberately carries medical fields (:data:`MEDICAL_FIELDS`) next to the
functional ones: the receiver must drop them. State lives in memory; the event log
(:attr:`ArbodienstSimulator.events`) holds method, path, status and problem code, never a body.
Network faults come from the harness; app knobs: ``throttle_next``/``retry_after`` and
``fail_after_commit_next`` (store the change, then answer 503 as if the answer got lost).
Admin (out-of-process control, no auth): ``GET /__arbo``, ``POST /__arbo/take-slot``
``{"slot_id"}``, ``POST /__arbo/status`` ``{"booking_id", "status"}``, ``POST /__arbo/hold-due``
``{"until"}``, ``GET /__arbo/advies/{booking_id}``.
"""

from __future__ import annotations

import argparse
import copy
import hmac
import json
import re
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit
from zoneinfo import ZoneInfo

import yaml
from jsonschema import Draft4Validator, FormatChecker, ValidationError
from stdnum.nl import bsn as elfproef

from mappings.arbodienst import BookingStatus
from schemas.arbodienst import OPENAPI_PATH
from simulators.harness import AppFaults

__all__ = ["DEFAULT_OPENAPI", "FUNCTIONAL_FIELDS", "MEDICAL_FIELDS", "ArbodienstSimulator", "OpenApiContract",
           "SimEvent", "add_cli_arguments", "run_cli"]

DEFAULT_OPENAPI = OPENAPI_PATH
ZONE = ZoneInfo("Europe/Amsterdam")
_JSON = "application/json"
_PROBLEM = "application/problem+json"
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})", re.IGNORECASE)

MEDICAL_FIELDS = ("diagnose", "oorzaak", "behandeling", "medicatie", "toelichting_arts")
"""Advice fields the contract marks *medical*: a gemeente must drop them."""
FUNCTIONAL_FIELDS = ("booking_id", "consult_ref", "case_ref", "datum_consult", "type_profiel",
                     "functionele_mogelijkheden", "beperkingen", "verwachte_duur", "arbeidsongeschiktheid_pct",
                     "advies_aanpassingen")
"""The other fields of the simulator's advice: what a gemeente may hold (domain.md §8)."""


# -- the contract ---------------------------------------------------------------------------------------
def _to_json_schema(node: Any) -> Any:
    """OpenAPI 3.0 schema objects → JSON Schema draft 4 (``nullable`` becomes a null type)."""
    if isinstance(node, list):
        return [_to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {k: _to_json_schema(v) for k, v in node.items() if k not in ("nullable", "example", "discriminator")}
    if node.get("nullable") is True:
        out = {"anyOf": [out, {"type": "null"}]}
    return out


def _format_checker() -> FormatChecker:
    checker = FormatChecker([])

    @checker.checks("date", raises=ValueError)
    def _date(value: object) -> bool:
        return not isinstance(value, str) or bool(_DATE.fullmatch(value) and date.fromisoformat(value))

    @checker.checks("date-time", raises=ValueError)
    def _date_time(value: object) -> bool:
        return not isinstance(value, str) or bool(_DATE_TIME.fullmatch(value) and datetime.fromisoformat(value))

    return checker


def _problems(validator: Draft4Validator, instance: Any, prefix: str = "") -> list[str]:
    """``name: rule`` per violation; never the value."""
    found: list[str] = []
    for error in validator.iter_errors(instance):
        for leaf in _leaves(error):
            path = [str(p) for p in leaf.absolute_path]
            if leaf.validator == "required":
                match = re.match(r"'(.+)' is a required property", leaf.message)
                path.append(match.group(1) if match else "?")
                rule = "verplicht"
            elif leaf.validator == "additionalProperties" and leaf.validator_value is False:
                rule = "onbekend veld (niet toegestaan)"
            else:
                rule = f"voldoet niet aan '{leaf.validator}'"
            name = prefix + ".".join(path) if path else (prefix.rstrip(".") or "body")
            entry = f"{name}: {rule}"
            if entry not in found:
                found.append(entry)
    return found


def _leaves(error: ValidationError) -> list[ValidationError]:
    if not error.context:
        return [error]
    return [leaf for e in error.context for leaf in _leaves(e)] or [error]


class OpenApiContract:
    """Operations, parameters and schemas of the arbodienst OpenAPI file, for checking requests and answers."""

    def __init__(self, path: str | Path = DEFAULT_OPENAPI) -> None:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"the arbodienst OpenAPI file is missing at {path}; the simulator validates "
                                    "every request against it (pass its location: openapi_path= / --openapi)")
        with path.open("rb") as handle:
            self.document: dict[str, Any] = yaml.safe_load(handle)
        self.path = path
        self.version = str(self.document["info"]["version"])
        self.base_path = urlsplit(self.document["servers"][0]["url"]).path.rstrip("/")
        self._components = _to_json_schema(self.document.get("components", {}))
        self._checker = _format_checker()
        self._validators: dict[str, Draft4Validator] = {}
        self._routes = [(re.compile("^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(t)) + "$"), t)
                        for t in self.document["paths"]]

    def deref(self, node: Any) -> Any:
        """Follow a local ``$ref`` (``#/components/...``) in the document."""
        while isinstance(node, dict) and "$ref" in node:
            target: Any = self.document
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            node = target
        return node

    def validator(self, schema: dict[str, Any]) -> Draft4Validator:
        """A validator for an OpenAPI schema object of this document (``$ref``s resolve into it)."""
        key = json.dumps(schema, sort_keys=True)
        if key not in self._validators:
            root = {"allOf": [_to_json_schema(schema)], "components": self._components}
            self._validators[key] = Draft4Validator(root, format_checker=self._checker)
        return self._validators[key]

    def component_problems(self, name: str, instance: Any) -> list[str]:
        """Violations of ``instance`` against ``components.schemas.<name>``."""
        return _problems(self.validator({"$ref": f"#/components/schemas/{name}"}), instance)

    def match(self, method: str, route: str) -> tuple[str, dict[str, Any] | None, dict[str, str]]:
        """``(path template, operation or None when the method is not allowed, path parameters)`` for a
        route below the base path; KeyError when no path matches."""
        for pattern, template in self._routes:
            found = pattern.match(route)
            if found:
                operation = self.document["paths"][template].get(method.lower())
                return template, operation, {k: unquote(v) for k, v in found.groupdict().items()}
        raise KeyError(route)

    def parse_request(self, method: str, route: str, query: str, headers: Mapping[str, str], body: bytes, *,
                      admit: Callable[[], None]) -> tuple[str, dict[str, Any], dict[str, str], dict[str, Any], Any]:
        """Match and check a request against the contract: ``(template, operation, path parameters, query
        parameters, JSON body)``. ``admit`` runs once the operation is known and before the body is read
        (authentication, fault injection). Raises ApiProblem 404/405/415/400; ``headers`` lower-case."""
        try:
            if not route.startswith(self.base_path + "/"):
                raise KeyError(route)
            template, operation, params = self.match(method, route[len(self.base_path):])
        except KeyError:
            raise ApiProblem(404, "niet-gevonden", "Niet gevonden.") from None
        if operation is None:
            raise ApiProblem(405, "methode-niet-toegestaan", f"{method} is niet toegestaan op {template}.")
        admit()
        data = None
        if operation.get("requestBody"):
            if (headers.get("content-type") or "").split(";")[0].strip().lower() != _JSON:
                raise ApiProblem(415, "media-type-niet-ondersteund", "Content-Type moet application/json zijn.")
            try:
                data = json.loads(body) if body else None
            except (ValueError, UnicodeDecodeError):
                raise ApiProblem(400, "ongeldig-verzoek", "Ongeldig verzoek.", "De body is geen JSON.") from None
        query_params = self.query_values(template, operation, query)
        problems = self.request_problems(template, operation, query=query_params, headers=headers,
                                         path_params=params, body=data)
        if problems:
            raise ApiProblem(400, "ongeldig-verzoek", "Het verzoek voldoet niet aan het contract.", "; ".join(problems))
        return template, operation, params, query_params, data

    def query_values(self, template: str, operation: dict[str, Any], query: str) -> dict[str, Any]:
        """The query string, last value per name; integer parameters as int so the schema can check them."""
        values: dict[str, Any] = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}
        for param in self.parameters(template, operation):
            name = param["name"]
            if param["in"] == "query" and param.get("schema", {}).get("type") == "integer" \
                    and re.fullmatch(r"-?\d{1,9}", str(values.get(name, ""))):
                values[name] = int(values[name])
        return values

    def parameters(self, template: str, operation: dict[str, Any]) -> list[dict[str, Any]]:
        """Path-level and operation parameters, ``$ref``s resolved."""
        items = self.document["paths"][template].get("parameters", []) + operation.get("parameters", [])
        return [self.deref(p) for p in items]

    def request_problems(self, template: str, operation: dict[str, Any], *, query: Mapping[str, str],
                         headers: Mapping[str, str], path_params: Mapping[str, str], body: Any) -> list[str]:
        """Violations of the request (parameters and JSON body); ``headers`` with lower-case names."""
        found: list[str] = []
        where = {"query": query, "header": headers, "path": path_params}
        for param in self.parameters(template, operation):
            source = where.get(param["in"], {})
            key = param["name"].lower() if param["in"] == "header" else param["name"]
            if key not in source:
                if param.get("required"):
                    found.append(f"{param['name']} ({param['in']}): verplicht")
                continue
            problems = _problems(self.validator(param.get("schema", {})), source[key])
            found += [f"{param['name']} ({param['in']}): {p.split(': ', 1)[1]}" for p in problems]
        request_body = self.deref(operation.get("requestBody"))
        if request_body:
            schema = request_body.get("content", {}).get(_JSON, {}).get("schema")
            if body is None and request_body.get("required"):
                found.append("body: verplicht")
            elif body is not None and schema is not None:
                found += _problems(self.validator(schema), body)
        return found

    def response_problems(self, template: str, method: str, status: int, body: Any) -> list[str]:
        """Violations of an answer against the operation's response for ``status`` (for tests)."""
        operation = self.document["paths"][template][method.lower()]
        response = self.deref(operation["responses"].get(str(status)))
        if response is None:
            return [f"status {status} is not a documented answer of {method} {template}"]
        content = response.get("content", {})
        if not content:
            return []
        schema = next(iter(content.values()))["schema"]
        return _problems(self.validator(schema), body)


@lru_cache(maxsize=4)
def _load(path: str, mtime: float) -> OpenApiContract:
    return OpenApiContract(path)


# -- the app ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SimEvent:
    """One handled request: no body, no header values."""

    method: str
    path: str
    status: int
    code: str | None = None
    at: float = field(default_factory=time.time)


@dataclass
class ArbodienstFaults:
    """Arbodienst-specific knobs (set via ``SimServer.set_faults`` or ``POST /__faults``)."""

    throttle_next: int = 0
    """Answer the next N API requests with 429 and ``Retry-After: retry_after``."""
    retry_after: int = 1
    fail_after_commit_next: int = 0
    """Carry out the next N changes (POSTs), then answer 503 as if the answer got lost."""


class ApiProblem(Exception):
    """An answer as RFC 7807 problem JSON (status, stable `code`, title, detail, extra headers)."""

    def __init__(self, status: int, code: str, title: str, detail: str | None = None,
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(title)
        self.status, self.code, self.title, self.detail, self.headers = status, code, title, detail, headers or {}


_OCCUPYING = {BookingStatus.GEBOEKT, BookingStatus.GEHOUDEN, BookingStatus.NO_SHOW,
              BookingStatus.GEANNULEERD_DOOR_ARBODIENST}
"""A booking in one of these statuses keeps its slot; only our own cancellation frees it."""


def _sample_advice(booking: Mapping[str, Any]) -> dict[str, Any]:
    """The fixed advice document, functional fields first, then the medical ones a receiver must drop."""
    return {
        "booking_id": booking["booking_id"], "consult_ref": booking["consult_ref"], "case_ref": booking["case_ref"],
        "datum_consult": datetime.fromisoformat(booking["start"]).astimezone(ZONE).date().isoformat(),
        "type_profiel": "FML",
        "functionele_mogelijkheden": {
            "persoonlijk_functioneren": "beperkt", "sociaal_functioneren": "normaal",
            "aanpassing_fysieke_omgeving": "beperkt", "dynamische_handelingen": "beperkt",
            "statische_houdingen": "normaal", "werktijden": "beperkt"},
        "beperkingen": ["niet langer dan 4 uur per dag", "geen tilwerk boven 10 kg"],
        "verwachte_duur": "3-6 maanden",
        "arbeidsongeschiktheid_pct": 60,
        "advies_aanpassingen": ["halve dagen", "werkplek op begane grond"],
        "diagnose": "burn-out",
        "oorzaak": "langdurige overbelasting op het werk en mantelzorg thuis",
        "behandeling": "cognitieve gedragstherapie bij een psycholoog",
        "medicatie": ["sertraline 50 mg"],
        "toelichting_arts": "Vrije tekst van de bedrijfsarts: slaapt slecht, piekert veel, huilbuien.",
    }


class ArbodienstSimulator(AppFaults):
    """The arbodienst booking API app for :class:`simulators.harness.SimServer`.

    ``slots``: dicts with ``slot_id``, ``start`` (aware datetime or ISO string) and optionally ``regio``
    and ``bedrijfsarts_id``; when None, slots are generated on working days 09:00-16:00 (hourly,
    Europe/Amsterdam) for ``days`` days from ``start_date`` (default: tomorrow). ``token``: the bearer
    token required (None: no bearer check, as with mutual TLS only). ``clock`` gives ``status_sinds``.
    """

    faults_type = ArbodienstFaults
    faults_label = "arbodienst"

    def __init__(self, *, token: str | None = None, slots: list[dict[str, Any]] | None = None,
                 openapi_path: str | Path = DEFAULT_OPENAPI, regio: str = "default", start_date: date | None = None,
                 days: int = 60, clock: Callable[[], datetime] | None = None) -> None:
        if token is not None and not token:
            raise ValueError("token must be non-empty, or None for no bearer check")
        path = Path(openapi_path)
        self.contract = _load(str(path), path.stat().st_mtime if path.is_file() else 0.0)
        self.token = token
        self.regio = regio
        self.clock = clock or (lambda: datetime.now(ZONE))
        self.faults = ArbodienstFaults()
        self._lock = threading.RLock()
        self._slots = self._normalise(slots) if slots is not None else self._generate(
            start_date or date.today() + timedelta(days=1), days)
        self._taken: set[str] = set()
        self._occupied: dict[str, str] = {}  # slot_id -> booking_id
        self._bookings: dict[str, dict[str, Any]] = {}
        self._persons: dict[str, str] = {}
        self._advice: dict[str, dict[str, Any]] = {}
        self._keys: dict[str, tuple[str, int, Any]] = {}  # key -> (fingerprint, status, answer)
        self._key_requests: Counter[str] = Counter()
        self._replays = self._conflicts = 0
        self._events: deque[SimEvent] = deque(maxlen=10_000)
        self._base_url: str | None = None

    # -- slots -----------------------------------------------------------------------------------
    def _generate(self, start_date: date, days: int) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for offset in range(days):
            day = start_date + timedelta(days=offset)
            if day.weekday() >= 5:
                continue
            for hour in range(9, 17):
                slot_id = f"SL-{day:%Y%m%d}-{hour:02d}00"
                start = datetime(day.year, day.month, day.day, hour, tzinfo=ZONE)
                out[slot_id] = {"slot_id": slot_id, "start": start.isoformat(), "regio": self.regio,
                                "bedrijfsarts_id": "BA-001" if hour < 13 else "BA-002"}
        return out

    def _normalise(self, slots: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for item in slots:
            start = item.get("start")
            slot = {"slot_id": item.get("slot_id"),
                    "start": start.isoformat() if isinstance(start, datetime) else start,
                    "regio": item.get("regio", self.regio), "bedrijfsarts_id": item.get("bedrijfsarts_id", "BA-001")}
            problems = self.contract.component_problems("Slot", slot)
            if problems:
                raise ValueError(f"slot {slot['slot_id']!r} breaks the contract: {'; '.join(problems)}")
            out[slot["slot_id"]] = slot
        return dict(sorted(out.items(), key=lambda kv: (datetime.fromisoformat(kv[1]["start"]), kv[0])))

    # -- public state and control ------------------------------------------------------------------
    @property
    def api_root(self) -> str:
        """What the client's ``base_url`` should be, e.g. ``http://127.0.0.1:54321/api/v1/``."""
        if self._base_url is None:
            raise RuntimeError("ArbodienstSimulator is not bound to a running server")
        return f"{self._base_url}{self.contract.base_path}/"

    @property
    def slots(self) -> list[dict[str, Any]]:
        """Every slot (free or not), ordered by start."""
        with self._lock:
            return copy.deepcopy(list(self._slots.values()))

    @property
    def bookings(self) -> list[dict[str, Any]]:
        """Every booking as the API shows it (no BSN), in creation order."""
        with self._lock:
            return copy.deepcopy(list(self._bookings.values()))

    @property
    def events(self) -> list[SimEvent]:
        with self._lock:
            return list(self._events)

    def counts(self) -> dict[str, int]:
        """``bookings`` (ever made), ``replays`` (idempotent repeats answered), ``conflicts`` (409s), and
        the number of bookings per status (lower-case status names)."""
        with self._lock:
            per_status = Counter(b["status"] for b in self._bookings.values())
            return {"bookings": len(self._bookings), "replays": self._replays, "conflicts": self._conflicts,
                    **{s.value.lower(): per_status.get(s.value, 0) for s in BookingStatus}}

    def requests_with_key(self, key: str) -> int:
        """How many API requests carrying this ``Idempotency-Key`` reached the app."""
        with self._lock:
            return self._key_requests[key]

    def received_bsn(self, booking_id: str) -> str | None:
        """The BSN sent with a booking (the arbodienst needs it at the consult); for tests only."""
        with self._lock:
            return self._persons.get(booking_id)

    def take_slot(self, slot_id: str) -> None:
        """Someone else books ``slot_id``: it leaves the free list and booking it answers 409."""
        with self._lock:
            if slot_id not in self._slots:
                raise ValueError(f"unknown slot {slot_id!r}")
            self._taken.add(slot_id)

    def set_status(self, booking_id: str, status: BookingStatus | str) -> dict[str, Any]:
        """Change a booking as the arbodienst would (held, no-show, cancelled by the arbodienst, ...).
        GEHOUDEN also writes the advice; GEANNULEERD frees the slot. Returns the booking."""
        status = BookingStatus(status)
        with self._lock:
            booking = self._booking(booking_id, problem=False)
            self._set(booking, status)
            return copy.deepcopy(booking)

    def hold_all_due(self, until: datetime) -> list[str]:
        """Every GEBOEKT booking starting at or before ``until`` (aware) becomes GEHOUDEN with an advice;
        returns their booking ids."""
        if until.tzinfo is None:
            raise ValueError("until must be timezone-aware")
        with self._lock:
            due = [b for b in self._bookings.values() if b["status"] == BookingStatus.GEBOEKT
                   and datetime.fromisoformat(b["start"]) <= until]
            for booking in due:
                self._set(booking, BookingStatus.GEHOUDEN)
            return [b["booking_id"] for b in due]

    def advice_for(self, booking_id: str) -> dict[str, Any] | None:
        """The advice document of a booking (medical fields included), or None."""
        with self._lock:
            advice = self._advice.get(booking_id)
            return copy.deepcopy(advice) if advice is not None else None

    def _set(self, booking: dict[str, Any], status: BookingStatus) -> None:
        booking["status"] = status.value
        booking["status_sinds"] = self._now()
        if status == BookingStatus.GEANNULEERD:
            self._occupied.pop(booking["slot_id"], None)
        elif status in _OCCUPYING:
            self._occupied.setdefault(booking["slot_id"], booking["booking_id"])
        if status == BookingStatus.GEHOUDEN and booking["booking_id"] not in self._advice:
            self._advice[booking["booking_id"]] = _sample_advice(booking)

    def _now(self) -> str:
        now = self.clock()
        if now.tzinfo is None:
            raise ValueError("the simulator clock must return timezone-aware datetimes")
        return now.isoformat(timespec="seconds")

    # -- harness hooks ---------------------------------------------------------------------------
    def bind(self, base_url: str) -> None:
        self._base_url = base_url

    def __call__(self, method: str, path: str, headers: Mapping[str, str], body: bytes):
        route, _, query = path.partition("?")
        if route.startswith("/__arbo"):
            return self._admin(method, route, body)
        headers = {k.lower(): v for k, v in headers.items()}
        key = headers.get("idempotency-key")
        with self._lock:
            if key is not None:
                self._key_requests[key] += 1
        try:
            status, payload = self._handle(method, route, query, headers, body)
            self._note(method, route, status)
        except ApiProblem as p:
            self._note(method, route, p.status, p.code)
            problem = {"code": p.code, "title": p.title, "detail": p.detail or p.title}
            return p.status, {"Content-Type": _PROBLEM, **p.headers}, json.dumps(problem).encode()
        return status, {"Content-Type": _JSON}, json.dumps(payload).encode()

    # -- request handling ------------------------------------------------------------------------
    def _handle(self, method: str, route: str, query: str, headers: dict[str, str], body: bytes) -> tuple[int, Any]:
        def admit() -> None:
            self._check_token(headers.get("authorization", ""))
            self._throttle()

        template, operation, params, query_params, data = self.contract.parse_request(
            method, route, query, headers, body, admit=admit)
        handler = getattr(self, f"_op_{operation['operationId']}")
        if method != "POST":
            with self._lock:
                return handler(params, query_params, data)
        key = headers["idempotency-key"]  # required by the contract, so present here
        fingerprint = json.dumps([method, route, data], sort_keys=True, separators=(",", ":"))
        with self._lock:  # one at a time: two requests with one key can never both act
            seen = self._keys.get(key)
            if seen is not None:
                if seen[0] != fingerprint:
                    raise ApiProblem(422, "idempotency-key-hergebruikt", "Idempotency-Key al gebruikt.",
                                   "Deze Idempotency-Key hoort bij een ander verzoek; gebruik een nieuwe sleutel.")
                self._replays += 1
                status, answer = seen[1], copy.deepcopy(seen[2])
            else:
                status, answer = handler(params, query_params, data)
                self._keys[key] = (fingerprint, status, copy.deepcopy(answer))
            lose = self.faults.fail_after_commit_next > 0
            if lose:
                self.faults.fail_after_commit_next -= 1
        if lose:
            raise ApiProblem(503, "niet-beschikbaar", "Tijdelijk niet beschikbaar.", headers={"Retry-After": "0"})
        return status, answer

    def _check_token(self, authorization: str) -> None:
        if self.token is None:
            return
        scheme, _, given = authorization.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), self.token.encode()):
            raise ApiProblem(401, "niet-geautoriseerd", "Niet geautoriseerd.",
                           "Authorization: Bearer <token> ontbreekt of is onjuist.",
                           headers={"WWW-Authenticate": "Bearer"})

    def _throttle(self) -> None:
        with self._lock:
            if self.faults.throttle_next <= 0:
                return
            self.faults.throttle_next -= 1
            wait = self.faults.retry_after
        raise ApiProblem(429, "te-veel-verzoeken", "Te veel verzoeken.", headers={"Retry-After": str(wait)})

    def _booking(self, booking_id: str, *, problem: bool = True) -> dict[str, Any]:
        booking = self._bookings.get(booking_id)
        if booking is None:
            if problem:
                raise ApiProblem(404, "booking-onbekend", "Boeking onbekend.")
            raise ValueError(f"unknown booking {booking_id!r}")
        return booking

    def _free_slot(self, slot_id: str) -> dict[str, Any]:
        slot = self._slots.get(slot_id)
        if slot is None:
            raise ApiProblem(422, "slot-onbekend", "Slot onbekend.", "Er is geen slot met deze slot_id.")
        if slot_id in self._taken or slot_id in self._occupied:
            self._conflicts += 1
            raise ApiProblem(409, "slot-bezet", "Slot is bezet.", "Dit slot is niet meer vrij; kies een ander slot.")
        return slot

    # operations (caller holds the lock); named after the operationIds in the OpenAPI file
    def _op_listSlots(self, params: dict, query: dict, data: Any) -> tuple[int, Any]:
        van, tot = date.fromisoformat(query["van"]), date.fromisoformat(query["tot"])
        if van > tot:
            raise ApiProblem(400, "ongeldig-verzoek", "Ongeldig verzoek.", "van ligt na tot.")
        regio = query.get("regio")
        free = [s for s in self._slots.values()
                if s["slot_id"] not in self._taken and s["slot_id"] not in self._occupied
                and (regio is None or s["regio"] == regio)
                and van <= datetime.fromisoformat(s["start"]).astimezone(ZONE).date() <= tot]
        return 200, {"slots": copy.deepcopy(free)}

    def _op_createBooking(self, params: dict, query: dict, data: dict[str, Any]) -> tuple[int, Any]:
        bsn = (data.get("persoon") or {}).get("bsn")
        if bsn is not None and not elfproef.is_valid(bsn):
            raise ApiProblem(400, "ongeldig-verzoek", "Het verzoek voldoet niet aan het contract.",
                           "persoon.bsn: voldoet niet aan de 11-proef")
        slot = self._free_slot(data["slot_id"])
        booking_id = f"AB-{len(self._bookings) + 1:06d}"
        booking = {"booking_id": booking_id, "consult_ref": data["consult_ref"], "case_ref": data["case_ref"],
                   "slot_id": slot["slot_id"], "start": slot["start"], "status": BookingStatus.GEBOEKT.value,
                   "status_sinds": self._now()}
        self._bookings[booking_id] = booking
        self._occupied[slot["slot_id"]] = booking_id
        if bsn is not None:
            self._persons[booking_id] = bsn
        return 201, copy.deepcopy(booking)

    def _op_getBooking(self, params: dict, query: dict, data: Any) -> tuple[int, Any]:
        return 200, copy.deepcopy(self._booking(params["booking_id"]))

    def _op_cancelBooking(self, params: dict, query: dict, data: Any) -> tuple[int, Any]:
        booking = self._booking(params["booking_id"])
        if booking["status"] in (BookingStatus.GEHOUDEN, BookingStatus.NO_SHOW):
            raise ApiProblem(422, "booking-niet-annuleerbaar", "Boeking kan niet meer geannuleerd worden.",
                           "Het consult is al geweest (GEHOUDEN of NO_SHOW).")
        if booking["status"] == BookingStatus.GEBOEKT:
            self._set(booking, BookingStatus.GEANNULEERD)
        return 200, copy.deepcopy(booking)

    def _op_rescheduleBooking(self, params: dict, query: dict, data: dict[str, Any]) -> tuple[int, Any]:
        booking = self._booking(params["booking_id"])
        if booking["status"] != BookingStatus.GEBOEKT:
            raise ApiProblem(422, "booking-niet-verzetbaar", "Boeking kan niet verzet worden.",
                           "Alleen een boeking met status GEBOEKT kan verzet worden.")
        if data["slot_id"] != booking["slot_id"]:
            slot = self._free_slot(data["slot_id"])
            self._occupied.pop(booking["slot_id"], None)
            self._occupied[slot["slot_id"]] = booking["booking_id"]
            booking.update(slot_id=slot["slot_id"], start=slot["start"])
        return 200, copy.deepcopy(booking)

    def _op_getAdvice(self, params: dict, query: dict, data: Any) -> tuple[int, Any]:
        booking = self._booking(params["booking_id"])
        advice = self._advice.get(booking["booking_id"])
        if advice is None:
            raise ApiProblem(404, "advies-nog-niet-beschikbaar", "Advies nog niet beschikbaar.",
                           "Het advies volgt nadat het consult is gehouden.")
        return 200, copy.deepcopy(advice)

    def _note(self, method: str, route: str, status: int, code: str | None = None) -> None:
        with self._lock:
            self._events.append(SimEvent(method, route, status, code))

    # -- admin (out-of-process control) -------------------------------------------------------------
    def _admin(self, method: str, route: str, body: bytes):
        def answer(status: int, payload: Any):
            return status, {"Content-Type": _JSON}, json.dumps(payload).encode()

        try:
            data = json.loads(body) if body else {}
            if method == "GET" and route == "/__arbo":
                return answer(200, {"counts": self.counts(), "bookings": self.bookings})
            if method == "GET" and route.startswith("/__arbo/advies/"):
                advice = self.advice_for(unquote(route.rsplit("/", 1)[-1]))
                return answer(200, advice) if advice is not None else answer(404, {"error": "no advice yet"})
            if method == "POST" and route == "/__arbo/take-slot":
                self.take_slot(data["slot_id"])
                return answer(200, {"taken": data["slot_id"]})
            if method == "POST" and route == "/__arbo/status":
                return answer(200, self.set_status(data["booking_id"], data["status"]))
            if method == "POST" and route == "/__arbo/hold-due":
                return answer(200, {"gehouden": self.hold_all_due(datetime.fromisoformat(data["until"]))})
        except (ValueError, KeyError, TypeError) as exc:
            return answer(400, {"error": f"{type(exc).__name__}: {exc}"})
        return answer(404, {"error": f"no admin route {method} {route}"})


# -- command line (python -m simulators arbodienst) -----------------------------------------------------
def add_cli_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``python -m simulators arbodienst``."""
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--random-seed", type=int, default=None, help="seed for probabilistic faults")
    parser.add_argument("--token", default=None, help="bearer token to require (default: none required)")
    parser.add_argument("--regio", default="default")
    parser.add_argument("--start-date", type=date.fromisoformat, default=None,
                        help="first day of the generated slots (default: tomorrow)")
    parser.add_argument("--days", type=int, default=60, help="days of generated slots")
    parser.add_argument("--slots", default=None, help="JSON file with a list of slots instead of generated ones")
    parser.add_argument("--openapi", default=str(DEFAULT_OPENAPI), help="the arbodienst openapi.yaml")
    parser.add_argument("--tls-dir", default=None,
                        help="serve HTTPS with mutual TLS, generating a throwaway test PKI here")


def run_cli(args: argparse.Namespace) -> int:
    """Serve in the foreground; the first stdout line is the server URL. Stop with Ctrl-C or SIGTERM."""
    from simulators.harness import mtls_note, serve_until_stopped

    try:
        slots = json.loads(Path(args.slots).read_text(encoding="utf-8")) if args.slots else None
        app = ArbodienstSimulator(token=args.token, slots=slots, openapi_path=args.openapi, regio=args.regio,
                                  start_date=args.start_date, days=args.days)
    except (FileNotFoundError, ValueError) as exc:
        print(exc, file=sys.stderr)
        return 2
    tls = None
    if args.tls_dir:
        from simulators.certs import generate_test_pki, server_ssl_context

        tls = server_ssl_context(generate_test_pki(args.tls_dir))
    auth = "bearer token required" if args.token else "no bearer token required"
    mtls = f"; {mtls_note(args.tls_dir)}" if args.tls_dir else ""
    return serve_until_stopped(app, host=args.host, port=args.port, tls=tls, seed=args.random_seed, banner=lambda _: (
        f"arbodienst API {app.contract.version} at {app.api_root} ({auth}{mtls}); Ctrl-C to stop"))
