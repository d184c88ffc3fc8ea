"""Provider contract files (JSON, one per provider) → `schemas.orders.ProviderContract`.

Format (money and percentages as strings, so nothing passes through a float):

    {"provider_id": "kvk:12345678",                  # KvK (EAS 0106, 8 digits) or "oin:" + 20 digits (0190)
     "naam": "Arbodienst Voorbeeld B.V.",
     "rollen": {"bedrijfsarts": "240.00", "casemanager": "125.00"},   # per hour excl. VAT, in basisjaar
     "basisjaar": 2026,
     "indexatie": {"2027": "3.10", "2028": "2.50"},  # % on 1 January on top of the previous year (absent: 0)
     "trajecten": {"2e-spoor-12": {"prijs": "4800.00", "maanden": 12}},  # optional; price in basisjaar
     "btw_pct": "21.00",                             # "0.00" only for VAT-exempt (medical) services
     "rapportages": {"start_weken": [6, 8], "wia_maanden_voor_einde_wachttijd": 3,
                     "voortgang_maanden": 2, "afronding": true}}       # optional; absent field: no such report

A file that can't be used raises `ContractError` naming the file and the field (`rollen.bedrijfsarts`)
and what is wrong, in plain Dutch. `parse_contract` is pure; `load_contract(s)` only read the files.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from schemas.orders import ProviderContract, normalise_provider_id

MAX_FILE_BYTES = 256 * 1024


class ContractError(ValueError):
    """A contract file can't be used; the message names the file and the field."""


def parse_contract(data: bytes | str, *, source: str) -> ProviderContract:
    """Parse and check one contract file's content; `source` (the file name) goes into every message."""
    if isinstance(data, bytes):
        if len(data) > MAX_FILE_BYTES:
            raise ContractError(f"{source}: het bestand is groter dan {MAX_FILE_BYTES // 1024} KB")
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ContractError(f"{source}: het bestand is geen UTF-8-tekst") from None
    try:
        raw = json.loads(data, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise ContractError(f"{source}: geen geldige JSON (regel {exc.lineno}, kolom {exc.colno}: {exc.msg})") from None
    except RecursionError:
        raise ContractError(f"{source}: geen bruikbare JSON (te diep genest)") from None
    if not isinstance(raw, dict):
        raise ContractError(f"{source}: verwacht een JSON-object met provider_id, naam, rollen, ...")
    try:
        return ProviderContract.model_validate(raw)
    except ValidationError as exc:
        raise ContractError(f"{source}: " + "; ".join(_problem(e) for e in exc.errors())) from None


def load_contract(path: Path) -> ProviderContract:
    """Read and parse one contract file."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ContractError(f"{path.name}: het bestand kan niet gelezen worden ({exc.strerror})") from None
    return parse_contract(data, source=path.name)


def load_contracts(folder: Path) -> dict[str, ProviderContract]:
    """Every `*.json` contract in `folder` by provider id. Two files for one provider is an error."""
    if not folder.is_dir():
        raise ContractError(f"de map met contracten {folder} bestaat niet")
    found: dict[str, tuple[str, ProviderContract]] = {}
    for path in sorted(folder.glob("*.json")):
        contract = load_contract(path)
        if contract.provider_id in found:
            raise ContractError(f"{path.name}: provider {contract.provider_id} staat ook in {found[contract.provider_id][0]}")
        found[contract.provider_id] = (path.name, contract)
    return {pid: contract for pid, (_, contract) in found.items()}


def find_contract(folder: Path, file_or_id: str) -> ProviderContract:
    """The contract for `file_or_id`: a path to a contract file, a file name (with or without `.json`)
    in `folder`, or a provider id (`kvk:12345678`) of a contract in `folder`."""
    path = Path(file_or_id)
    for candidate in (path, folder / file_or_id, folder / f"{file_or_id}.json"):
        if candidate.suffix == ".json" and candidate.is_file():
            return load_contract(candidate)
    try:
        provider_id = normalise_provider_id(file_or_id)
    except ValueError:
        raise ContractError(f"geen contractbestand of provider-id: {file_or_id!r} (in {folder})") from None
    contracts = load_contracts(folder)
    if provider_id not in contracts:
        known = ", ".join(sorted(contracts)) or "geen"
        raise ContractError(f"er is geen contract voor {provider_id} in {folder} (wel voor: {known})")
    return contracts[provider_id]


def _problem(error: dict[str, Any]) -> str:
    field = ".".join(str(part) for part in error["loc"]) or "(bestand)"
    return f"veld {field}: {_dutch(error)}"


_MESSAGES = {
    "missing": "ontbreekt",
    "extra_forbidden": "is onbekend (tikfout?)",
    "decimal_parsing": "is geen bedrag of getal (gebruik bijvoorbeeld \"125.00\")",
    "decimal_type": "is geen bedrag of getal (gebruik bijvoorbeeld \"125.00\")",
    "decimal_max_places": "heeft meer dan 2 decimalen",
    "int_parsing": "is geen geheel getal",
    "int_type": "is geen geheel getal",
    "string_pattern_mismatch": "heeft een ongeldige naam (kleine letters, woorden met '-', bijvoorbeeld re-integratieconsulent)",
    "too_short": "mag niet leeg zijn",
}


def _dutch(error: dict[str, Any]) -> str:
    kind = error["type"]
    if kind in _MESSAGES:
        return _MESSAGES[kind]
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        limit = next(iter(error.get("ctx", {}).values()), "")
        word = {"greater_than_equal": "minstens", "greater_than": "groter dan", "less_than_equal": "hoogstens",
                "less_than": "kleiner dan"}[kind]
        return f"moet {word} {limit} zijn"
    message = str(error.get("msg", kind))
    return message.removeprefix("Value error, ")
