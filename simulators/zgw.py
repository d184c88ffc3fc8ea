"""ZGW Zaken API stand-in: only what vangnet calls, every request body checked against the official
OpenAPI file (VNG-Realisatie/zaken-api ``src/openapi.yaml``, read from ``../shared/contracts``).

Served under ``/zaken/api/v1/``: ``POST zaken``, ``GET zaken?identificatie=&bronorganisatie=``
(paginated: count/next/previous/results), ``GET zaken/{uuid}``, ``POST statussen``, ``POST rollen``.
Like the real API it checks, in this order: a valid HS256 JWT from a known ``client_id`` with the ZGW
claims (401), the CRS headers the spec requires per operation (412 when missing), ``Content-Type``
(415), the body against the ``Zaak``/``Status``/``Rol`` component schema (400 with ``invalidParams``),
and a unique ``identificatie`` per ``bronorganisatie`` (400 ``identificatie-niet-uniek``).

State lives in memory. Its log (:attr:`ZgwSimulator.events`) holds method, path, status and error
codes only, never a body: a rol carries a BSN. Network faults come from the harness; app knobs:
``throttle_next`` (429 with ``Retry-After``) and ``fail_after_commit_next`` (store, then answer 500).
"""

from __future__ import annotations

import argparse
import base64
import binascii
import copy
import hashlib
import hmac
import json
import re
import secrets
import sys
import threading
import time
import uuid as uuidlib
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit
from zoneinfo import ZoneInfo

import yaml
from jsonschema import Draft4Validator, FormatChecker, ValidationError
from simulators.harness import AppFaults

__all__ = ["DEFAULT_OPENAPI", "OpenApiSchemas", "SimEvent", "ZgwSimulator", "add_cli_arguments", "run_cli"]

DEFAULT_OPENAPI = (Path(__file__).resolve().parents[2] / "shared" / "contracts" / "VNG-Realisatie__zaken-api"
                   / "src" / "openapi.yaml")
BASE_PATH = "/zaken/api/v1"
CRS = "EPSG:4326"
_ZONE = ZoneInfo("Europe/Amsterdam")
_JSON = "application/json"
_PROBLEM = "application/problem+json"
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

# (method, path below BASE_PATH) -> (operation path in the spec, request body component)
_ROUTES = {
    ("POST", "/zaken"): ("/zaken", "Zaak"),
    ("GET", "/zaken"): ("/zaken", None),
    ("GET", "/zaken/{uuid}"): ("/zaken/{uuid}", None),
    ("POST", "/statussen"): ("/statussen", "Status"),
    ("POST", "/rollen"): ("/rollen", "Rol"),
}


# -- the official OpenAPI file as JSON Schema ---------------------------------------------------------
def _to_json_schema(node: Any) -> Any:
    """OpenAPI 3.0 schema objects → JSON Schema draft 4: ``nullable`` becomes a null type, and
    ``readOnly`` properties are dropped (the server sets them; the real API ignores them on input)."""
    if isinstance(node, list):
        return [_to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {k: _to_json_schema(v) for k, v in node.items()
           if k not in ("properties", "required", "nullable", "discriminator", "example")}
    props = node.get("properties")
    read_only: set[str] = set()
    if isinstance(props, dict):
        read_only = {n for n, p in props.items() if isinstance(p, dict) and p.get("readOnly")}
        out["properties"] = {n: _to_json_schema(p) for n, p in props.items() if n not in read_only}
    required = [r for r in node.get("required", []) if r not in read_only]
    if required:
        out["required"] = required
    if node.get("nullable") is True:
        if isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
            if "enum" in out and None not in out["enum"]:
                out["enum"] = [*out["enum"], None]
        else:
            out = {"anyOf": [out, {"type": "null"}]}
    return out


def _format_checker() -> FormatChecker:
    checker = FormatChecker()  # date, uuid, email, ...; uri and date-time made strict without extra packages

    @checker.checks("uri", raises=ValueError)
    def _uri(value: object) -> bool:
        if not isinstance(value, str):
            return True
        parts = urlsplit(value)
        return bool(parts.scheme and (parts.netloc or parts.path)) and not re.search(r"\s", value)

    @checker.checks("date-time", raises=ValueError)
    def _date_time(value: object) -> bool:
        if not isinstance(value, str):
            return True
        return "T" in value.upper() and bool(datetime.fromisoformat(value.replace("z", "Z")))

    return checker


_REASONS = {
    "required": ("required", lambda e: "Dit veld is vereist."),
    "maxLength": ("max_length",
                  lambda e: f"Zorg ervoor dat dit veld niet meer dan {e.validator_value} karakters bevat."),
    "minLength": ("min_length", lambda e: f"Zorg ervoor dat dit veld minstens {e.validator_value} karakters bevat."),
    "format": ("invalid", lambda e: f"Waarde heeft niet het formaat '{e.validator_value}'."),
    "enum": ("invalid_choice", lambda e: "Dit is geen geldige keuze."),
    "type": ("invalid", lambda e: f"Verwacht type {e.validator_value}."),
    "pattern": ("invalid", lambda e: "Waarde voldoet niet aan het patroon."),
}


class OpenApiSchemas:
    """Component schemas and header rules from the official Zaken API OpenAPI file."""

    def __init__(self, path: str | Path = DEFAULT_OPENAPI) -> None:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(
                f"the official Zaken API OpenAPI file is missing at {path}; the ZGW simulator validates every "
                "request against it. Put ../shared/contracts next to the repository (see contracts/MANIFEST.md) "
                "or pass its location (openapi_path= / --openapi)")
        with path.open("rb") as handle:
            self.document = yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        self.path = path
        self.version = str(self.document["info"]["version"])
        self._raw = self.document["components"]["schemas"]
        self._components = _to_json_schema(self._raw)
        self._checker = _format_checker()
        self._validators: dict[str, Draft4Validator] = {}

    def _validator(self, name: str) -> Draft4Validator:
        if name not in self._validators:
            root = {"allOf": [{"$ref": f"#/components/schemas/{name}"}], "components": {"schemas": self._components}}
            self._validators[name] = Draft4Validator(root, format_checker=self._checker)
        return self._validators[name]

    def invalid_params(self, component: str, body: Any) -> list[dict[str, str]]:
        """ZGW ``invalidParams`` for ``body`` against ``component``; empty when valid. Reasons name the
        rule, never the value sent."""
        discriminator = self._raw[component].get("discriminator")
        if discriminator and isinstance(body, dict):
            target = discriminator["mapping"].get(body.get(discriminator["propertyName"]))
            if isinstance(target, str):
                component = target.rsplit("/", 1)[-1]
        found: dict[tuple[str, str], dict[str, str]] = {}
        for error in self._validator(component).iter_errors(body):
            for leaf in _leaves(error):
                param = _param(leaf)
                found.setdefault((param["name"], param["code"]), param)
        return list(found.values())

    def required_headers(self, method: str, spec_path: str) -> dict[str, list[str]]:
        """Required header parameters of an operation, with their allowed values (lower-case names)."""
        operation = self.document["paths"][spec_path][method.lower()]
        return {p["name"].lower(): p.get("schema", {}).get("enum", [])
                for p in operation.get("parameters", []) if p.get("in") == "header" and p.get("required")}


def _leaves(error: ValidationError) -> list[ValidationError]:
    if not error.context:
        return [error]
    useful = [e for e in error.context if not (e.validator == "type" and e.validator_value == "null")]
    leaves = [leaf for e in useful for leaf in _leaves(e)]
    return leaves or [error]


def _param(error: ValidationError) -> dict[str, str]:
    path = [str(p) for p in error.absolute_path]
    if error.validator == "required":
        match = re.match(r"'(.+)' is a required property", error.message)
        path.append(match.group(1) if match else "?")
    code, reason = _REASONS.get(error.validator, ("invalid", lambda e: f"Voldoet niet aan '{e.validator}'."))
    return {"name": ".".join(path) or "nonFieldErrors", "code": code, "reason": reason(error)}


@lru_cache(maxsize=4)
def _load(path: str, mtime: float) -> OpenApiSchemas:
    return OpenApiSchemas(path)


# -- the app ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SimEvent:
    """One handled request: no body, no query values beyond the path's own."""

    method: str
    path: str
    status: int
    code: str | None = None
    params: tuple[str, ...] = ()
    at: float = field(default_factory=time.time)


@dataclass
class ZgwFaults:
    """ZGW-specific knobs (set via ``SimServer.set_faults`` or ``POST /__faults``)."""

    throttle_next: int = 0
    """Answer the next N API requests with 429 and ``Retry-After: retry_after``."""
    retry_after: int = 1
    fail_after_commit_next: int = 0
    """Store the next N creations, then answer 500 as if the answer got lost."""


class _Problem(Exception):
    def __init__(self, status: int, code: str, title: str, params: list[dict[str, str]] | None = None,
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(title)
        self.status, self.code, self.title, self.params, self.headers = status, code, title, params, headers or {}


class ZgwSimulator(AppFaults):
    """The Zaken API app for :class:`simulators.harness.SimServer`.

    ``clients`` maps each known ``client_id`` to its JWT secret. ``eind_statustypen``: statustype URLs
    that close a zaak (the real API reads this from the Catalogi API). Admin: ``GET /__zgw`` shows counts.
    """

    faults_type = ZgwFaults
    faults_label = "ZGW"

    def __init__(self, clients: Mapping[str, str], *, openapi_path: str | Path = DEFAULT_OPENAPI,
                 eind_statustypen: frozenset[str] | set[str] = frozenset(), page_size: int = 100,
                 jwt_max_age_seconds: int = 3600, jwt_leeway_seconds: int = 60) -> None:
        if not clients or not all(clients.values()):
            raise ValueError("the ZGW simulator needs at least one client_id with a non-empty secret")
        path = Path(openapi_path)
        self.schemas = _load(str(path), path.stat().st_mtime if path.is_file() else 0.0)
        self.clients = dict(clients)
        self.eind_statustypen = frozenset(eind_statustypen)
        self.page_size = page_size
        self.jwt_max_age_seconds = jwt_max_age_seconds
        self.jwt_leeway_seconds = jwt_leeway_seconds
        self.faults = ZgwFaults()
        self._lock = threading.Lock()
        self._zaken: dict[str, dict[str, Any]] = {}
        self._statussen: dict[str, dict[str, Any]] = {}
        self._rollen: dict[str, dict[str, Any]] = {}
        self._events: deque[SimEvent] = deque(maxlen=10_000)
        self._base_url: str | None = None

    # -- public state ----------------------------------------------------------------------------
    @property
    def api_root(self) -> str:
        """What the client's ``base_url`` should be, e.g. ``http://127.0.0.1:54321/zaken/api/v1/``."""
        if self._base_url is None:
            raise RuntimeError("ZgwSimulator is not bound to a running server")
        return f"{self._base_url}{BASE_PATH}/"

    def counts(self) -> dict[str, int]:
        with self._lock:
            return {"zaken": len(self._zaken), "statussen": len(self._statussen), "rollen": len(self._rollen)}

    @property
    def zaken(self) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(list(self._zaken.values()))

    @property
    def statussen(self) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(list(self._statussen.values()))

    @property
    def rollen(self) -> list[dict[str, Any]]:
        """Stored rollen (with their BSN, as the real API holds them); never logged."""
        with self._lock:
            return copy.deepcopy(list(self._rollen.values()))

    @property
    def events(self) -> list[SimEvent]:
        with self._lock:
            return list(self._events)

    # -- harness hooks ---------------------------------------------------------------------------
    def bind(self, base_url: str) -> None:
        self._base_url = base_url

    def __call__(self, method: str, path: str, headers: Mapping[str, str], body: bytes):
        route, _, query = path.partition("?")
        if route == "/__zgw" and method == "GET":
            return 200, {"Content-Type": _JSON}, json.dumps(self.counts()).encode()
        headers = {k.lower(): v for k, v in headers.items()}
        try:
            status, out_headers, payload = self._handle(method, route, query, headers, body)
            self._note(method, route, status)
        except _Problem as p:
            self._note(method, route, p.status, p.code, tuple(x["name"] for x in p.params or ()))
            problem = {"type": f"https://zaken.example/fouten/{p.code}", "code": p.code, "title": p.title,
                       "status": p.status, "detail": p.title, "instance": f"urn:uuid:{uuidlib.uuid4()}"}
            if p.params is not None:
                problem["invalidParams"] = p.params
            return p.status, {"Content-Type": _PROBLEM, "API-version": self.schemas.version, **p.headers}, \
                json.dumps(problem).encode()
        return status, {"Content-Type": _JSON, "API-version": self.schemas.version, **out_headers}, \
            json.dumps(payload).encode()

    # -- request handling ------------------------------------------------------------------------
    def _handle(self, method: str, route: str, query: str, headers: dict[str, str], body: bytes):
        if not route.startswith(BASE_PATH + "/"):
            raise _Problem(404, "not_found", "Niet gevonden.")
        sub = route[len(BASE_PATH):].rstrip("/") or "/"
        key = "/zaken/{uuid}" if re.fullmatch(r"/zaken/[^/]+", sub) else sub
        if (method, key) not in _ROUTES:
            known = any(k == key for _, k in _ROUTES) or key in self.schemas.document["paths"]
            if known:
                raise _Problem(405, "method_not_allowed", f"{method} op {key} wordt niet gesimuleerd.")
            raise _Problem(404, "not_found", "Niet gevonden.")
        spec_path, component = _ROUTES[(method, key)]
        self._check_jwt(headers.get("authorization", ""))
        self._check_headers(method, spec_path, headers, has_body=component is not None)
        self._throttle()
        if component is None:
            if key == "/zaken":
                return self._list_zaken(query)
            return self._get_zaak(sub.rsplit("/", 1)[-1])
        try:
            data = json.loads(body or b"")
        except (ValueError, UnicodeDecodeError):
            raise _Problem(400, "parse_error", "JSON parse error.") from None
        problems = self.schemas.invalid_params(component, data)
        if problems:
            raise _Problem(400, "invalid", "Invalid input.", problems)
        return {"Zaak": self._create_zaak, "Status": self._create_status, "Rol": self._create_rol}[component](data)

    def _check_jwt(self, authorization: str) -> None:
        scheme, _, token = authorization.partition(" ")
        parts = token.strip().split(".")
        if scheme.lower() != "bearer" or len(parts) != 3:
            raise _Unauthenticated("Authorization: Bearer <JWT> ontbreekt.")
        try:
            header, claims = (json.loads(_b64decode(p)) for p in parts[:2])
            signature = _b64decode(parts[2])
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise _Unauthenticated("Het JWT is onleesbaar.") from None
        if not isinstance(header, dict) or header.get("alg") != "HS256" or not isinstance(claims, dict):
            raise _Unauthenticated("Alleen HS256-JWT's worden geaccepteerd.")
        secret = self.clients.get(claims.get("client_id")) if isinstance(claims.get("client_id"), str) else None
        if secret is None:
            raise _Unauthenticated("Onbekende client_id.")
        expected = hmac.new(secret.encode(), f"{parts[0]}.{parts[1]}".encode("ascii"), hashlib.sha256).digest()
        if not hmac.compare_digest(expected, signature):
            raise _Unauthenticated("De JWT-handtekening is ongeldig.")
        for claim in ("iss", "user_id", "user_representation"):
            if not isinstance(claims.get(claim), str):
                raise _Unauthenticated(f"Claim '{claim}' ontbreekt.")
        iat, now = claims.get("iat"), time.time()
        if not isinstance(iat, int) or isinstance(iat, bool):
            raise _Unauthenticated("Claim 'iat' ontbreekt.")
        if iat > now + self.jwt_leeway_seconds or iat < now - self.jwt_max_age_seconds - self.jwt_leeway_seconds:
            raise _Unauthenticated("Het JWT is verlopen of nog niet geldig (iat).")

    def _check_headers(self, method: str, spec_path: str, headers: dict[str, str], *, has_body: bool) -> None:
        for name, allowed in self.schemas.required_headers(method, spec_path).items():
            if name in ("content-crs", "content-type") and not has_body:
                continue  # the spec lists them on GETs too; the real API only checks them on bodies
            value = headers.get(name)
            if name == "content-type":
                if (value or "").split(";")[0].strip().lower() not in allowed:
                    raise _Problem(415, "unsupported_media_type", "Content-Type moet application/json zijn.")
            elif value is None:
                raise _Problem(412, "precondition_failed", f"'{name.title()}' header ontbreekt.")
            elif allowed and value not in allowed:
                status = 406 if name == "accept-crs" else 415
                raise _Problem(status, "crs-not-supported", f"CRS in '{name.title()}' wordt niet ondersteund.")

    def _throttle(self) -> None:
        with self._lock:
            if self.faults.throttle_next <= 0:
                return
            self.faults.throttle_next -= 1
            wait = self.faults.retry_after
        raise _Problem(429, "throttled", "Te veel verzoeken.", headers={"Retry-After": str(wait)})

    def _committed(self) -> None:
        """After a creation is stored: answer 500 instead when the knob says so."""
        with self._lock:
            lose = self.faults.fail_after_commit_next > 0
            if lose:
                self.faults.fail_after_commit_next -= 1
        if lose:
            raise _Problem(500, "error", "Er is een serverfout opgetreden.")

    def _url(self, collection: str, uid: str) -> str:
        return f"{self.api_root}{collection}/{uid}"

    def _create_zaak(self, data: dict[str, Any]):
        bron = data["bronorganisatie"]
        with self._lock:
            ident = data.get("identificatie") or f"ZAAK-{date.today().year}-{len(self._zaken) + 1:010d}"
            if any(z["identificatie"] == ident and z["bronorganisatie"] == bron for z in self._zaken.values()):
                unique = {"name": "identificatie", "code": "identificatie-niet-uniek",
                          "reason": "Deze identificatie bestaat al binnen de bronorganisatie."}
                raise _Problem(400, "invalid", "Invalid input.", [unique])
            uid = str(uuidlib.uuid4())
            zaak = {**data, "url": self._url("zaken", uid), "uuid": uid, "identificatie": ident,
                    "registratiedatum": data.get("registratiedatum") or date.today().isoformat(),
                    "einddatum": None, "status": None, "resultaat": None, "betalingsindicatieWeergave": "",
                    "deelzaken": [], "eigenschappen": [], "rollen": [], "zaakinformatieobjecten": [],
                    "zaakobjecten": []}
            self._zaken[uid] = zaak
            answer = copy.deepcopy(zaak)
        self._committed()
        return 201, {"Location": answer["url"], "Content-Crs": CRS}, answer

    def _own_zaak(self, url: str) -> dict[str, Any]:
        """The stored zaak behind a zaak URL (caller holds the lock), else a 400 on field ``zaak``."""
        uid = url.rsplit("/", 1)[-1]
        zaak = self._zaken.get(uid)
        if zaak is None or zaak["url"] != url:
            raise _Problem(400, "invalid", "Invalid input.",
                           [{"name": "zaak", "code": "bad-url", "reason": "De zaak bestaat niet."}])
        return zaak

    def _create_status(self, data: dict[str, Any]):
        gezet = datetime.fromisoformat(data["datumStatusGezet"].replace("z", "Z"))
        with self._lock:
            zaak = self._own_zaak(data["zaak"])
            uid = str(uuidlib.uuid4())
            status = {**data, "url": self._url("statussen", uid), "uuid": uid, "indicatieLaatstGezetteStatus": True,
                      "zaakinformatieobjecten": []}
            for other in self._statussen.values():
                if other["zaak"] == zaak["url"]:
                    other["indicatieLaatstGezetteStatus"] = False
            self._statussen[uid] = status
            zaak["status"] = status["url"]
            if data["statustype"] in self.eind_statustypen:
                local = gezet.astimezone(_ZONE) if gezet.tzinfo else gezet
                zaak["einddatum"] = local.date().isoformat()
            answer = copy.deepcopy(status)
        self._committed()
        return 201, {"Location": answer["url"]}, answer

    def _create_rol(self, data: dict[str, Any]):
        with self._lock:
            zaak = self._own_zaak(data["zaak"])
            uid = str(uuidlib.uuid4())
            rol = {**data, "url": self._url("rollen", uid), "uuid": uid, "omschrijving": "",
                   "omschrijvingGeneriek": "", "registratiedatum": datetime.now(_ZONE).isoformat(), "statussen": []}
            self._rollen[uid] = rol
            zaak["rollen"].append(rol["url"])
            answer = copy.deepcopy(rol)
        self._committed()
        return 201, {"Location": answer["url"]}, answer

    def _get_zaak(self, uid: str):
        with self._lock:
            zaak = copy.deepcopy(self._zaken.get(uid)) if _UUID.fullmatch(uid) else None
        if zaak is None:
            raise _Problem(404, "not_found", "Niet gevonden.")
        return 200, {"Content-Crs": CRS}, zaak

    def _list_zaken(self, query: str):
        params = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}
        try:
            page = int(params.get("page", "1"))
        except ValueError:
            page = 0
        with self._lock:
            matches = [copy.deepcopy(z) for z in self._zaken.values()
                       if all(z.get(f) == params[f] for f in ("identificatie", "bronorganisatie") if f in params)]
        pages = max(1, -(-len(matches) // self.page_size))
        if not 1 <= page <= pages:
            raise _Problem(404, "not_found", "Ongeldige pagina.")

        def link(n: int) -> str | None:
            if not 1 <= n <= pages:
                return None
            return f"{self.api_root}zaken?{urlencode({**params, 'page': n})}"

        start = (page - 1) * self.page_size
        return 200, {"Content-Crs": CRS}, {"count": len(matches), "next": link(page + 1),
                                           "previous": link(page - 1),
                                           "results": matches[start:start + self.page_size]}

    def _note(self, method: str, route: str, status: int, code: str | None = None,
              params: tuple[str, ...] = ()) -> None:
        with self._lock:
            self._events.append(SimEvent(method, route, status, code, params))


class _Unauthenticated(_Problem):
    def __init__(self, reason: str) -> None:
        super().__init__(401, "not_authenticated", reason, headers={"WWW-Authenticate": "Bearer"})


def _b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


# -- command line (python -m simulators zgw) ------------------------------------------------------------
def add_cli_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``python -m simulators zgw``."""
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--random-seed", type=int, default=None, help="seed for probabilistic faults")
    parser.add_argument("--client-id", default="vangnet")
    parser.add_argument("--secret", default=None, help="JWT secret for --client-id (default: a random one, printed)")
    parser.add_argument("--openapi", default=str(DEFAULT_OPENAPI), help="the official Zaken API openapi.yaml")
    parser.add_argument("--eind-statustype", action="append", default=[], metavar="URL",
                        help="a statustype URL that closes the zaak (repeatable)")
    parser.add_argument("--page-size", type=int, default=100)


def run_cli(args: argparse.Namespace) -> int:
    """Serve in the foreground; the first stdout line is the server URL. Stop with Ctrl-C or SIGTERM."""
    from simulators.harness import serve_until_stopped

    secret = args.secret or secrets.token_urlsafe(24)
    try:
        app = ZgwSimulator({args.client_id: secret}, openapi_path=args.openapi,
                           eind_statustypen=set(args.eind_statustype), page_size=args.page_size)
    except FileNotFoundError as exc:
        print(exc, file=sys.stderr)
        return 2
    shown = "" if args.secret else f", secret {secret!r}"
    return serve_until_stopped(app, host=args.host, port=args.port, seed=args.random_seed, banner=lambda _: (
        f"Zaken API {app.schemas.version} at {app.api_root} (client_id {args.client_id!r}{shown}); Ctrl-C to stop"))
