"""Orders (opdrachten) to the arbodienst and re-integration providers (domain.md §6), and the provider
contracts they are priced from.

A `ProviderContract` is what one provider's offer says: hourly rates per role for a base year, a yearly
indexation, fixed-price trajecten, the VAT rate and which reports the provider owes. It is read from a
JSON file per provider (`mappings.provider_contract`). Money is `Decimal` with two decimals, never float.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

ROLE_PATTERN = r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$"
"""A role name as used in contracts, orders and invoices: lower case, words joined by '-'."""
NAME_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
"""A traject name: lower case letters and digits, joined by '-' (e.g. 2e-spoor-12)."""

KNOWN_ROLES = ("bedrijfsarts", "casemanager", "arbeidsdeskundige", "re-integratieconsulent")
"""The roles of domain.md §2/§6. A contract may name others (e.g. `jobcoach`)."""

_PROVIDER_ID = re.compile(r"^(kvk|oin|0106|0190):(\d+)$", re.IGNORECASE)
_SCHEMES = {"kvk": ("kvk", "0106", 8), "0106": ("kvk", "0106", 8), "oin": ("oin", "0190", 20),
            "0190": ("oin", "0190", 20)}

Money = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2)]
Percentage = Annotated[Decimal, Field(gt=-100, le=100, max_digits=5, decimal_places=2)]
Role = Annotated[str, Field(pattern=ROLE_PATTERN, max_length=40)]
Hours = Annotated[Decimal, Field(max_digits=7, decimal_places=2)]


class OrderStatus(StrEnum):
    """An order runs (`LOPEND`) until its case closes (`BEEINDIGD`, end date = the case's closing date)."""

    LOPEND = "LOPEND"
    BEEINDIGD = "BEEINDIGD"


class ReportKind(StrEnum):
    """Reports a provider owes under an order (domain.md §6)."""

    START = "START"  # 6-8 weeks after the start
    WIA = "WIA"  # some months before the end of the wachttijd
    VOORTGANG = "VOORTGANG"  # every N months
    AFRONDING = "AFRONDING"  # at the end of the order


def normalise_provider_id(value: str) -> str:
    """`kvk:12345678` or `oin:<20 digits>` (also accepts the EAS scheme codes `0106:` and `0190:`).

    Raises ValueError with a reason in plain Dutch.
    """
    match = _PROVIDER_ID.match(value.strip()) if isinstance(value, str) else None
    if not match:
        raise ValueError("verwacht 'kvk:' + 8 cijfers of 'oin:' + 20 cijfers, bijvoorbeeld kvk:12345678")
    prefix, _, length = _SCHEMES[match.group(1).lower()]
    if len(match.group(2)) != length:
        raise ValueError(f"een {prefix.upper()}-nummer heeft {length} cijfers")
    return f"{prefix}:{match.group(2)}"


def provider_scheme(provider_id: str) -> tuple[str, str]:
    """(EAS scheme code, identifier) of a normalised provider id: ("0106", "12345678") for KvK,
    ("0190", ...) for an OIN, as e-invoices carry it (domain.md §7)."""
    prefix, _, number = normalise_provider_id(provider_id).partition(":")
    return _SCHEMES[prefix][1], number


class Traject(BaseModel):
    """A fixed-price traject (e.g. 2e spoor): price excl. VAT in the contract's base year, and its length."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    prijs: Money = Field(gt=0)
    maanden: int = Field(ge=1, le=36)


class ReportRules(BaseModel):
    """Which reports the provider owes under an order. Every field may be left out: no such report.

    - `start_weken` [6, 8]: a start report in the window 6-8 weeks after the start, due at the end of it;
    - `wia_maanden_voor_einde_wachttijd` 3: a WIA report 3 months before the end of the wachttijd;
    - `voortgang_maanden` 2: a progress report every 2 months from the start (not on the end date);
    - `afronding` true: a closing report on the order's end date.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    start_weken: tuple[int, int] | None = None
    wia_maanden_voor_einde_wachttijd: int | None = Field(default=None, ge=1, le=24)
    voortgang_maanden: int | None = Field(default=None, ge=1, le=12)
    afronding: bool = False

    @field_validator("start_weken")
    @classmethod
    def _venster(cls, value: tuple[int, int] | None) -> tuple[int, int] | None:
        if value is not None and not (0 <= value[0] <= value[1] <= 52):
            raise ValueError("verwacht [van, tot] in weken met 0 <= van <= tot <= 52, bijvoorbeeld [6, 8]")
        return value


class ProviderContract(BaseModel):
    """One provider's contract (see `mappings.provider_contract` for the file format).

    `rollen` are hourly rates excl. VAT in `basisjaar`; `indexatie` maps a later year to the percentage
    applied on 1 January of that year on top of the previous year's rate (a year not listed: 0 %).
    `btw_pct` is 21.00 for the usual arbodienst and re-integration services; 0.00 only when the provider's
    services are VAT-exempt (medical care in the sense of art. 11(1)(g) Wet OB) — one rate per contract.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    provider_id: str
    naam: str = Field(min_length=1, max_length=200)
    rollen: dict[Role, Money] = Field(min_length=1)
    basisjaar: int = Field(ge=2000, le=2100)
    indexatie: dict[int, Percentage] = Field(default_factory=dict)
    trajecten: dict[Annotated[str, Field(pattern=NAME_PATTERN, max_length=40)], Traject] = Field(default_factory=dict)
    btw_pct: Decimal = Field(ge=0, le=100, max_digits=5, decimal_places=2)
    rapportages: ReportRules = Field(default_factory=ReportRules)

    @field_validator("provider_id")
    @classmethod
    def _provider_id(cls, value: str) -> str:
        return normalise_provider_id(value)

    @field_validator("rollen")
    @classmethod
    def _tarief_positief(cls, value: dict[str, Decimal]) -> dict[str, Decimal]:
        for role, rate in value.items():
            if rate <= 0:
                raise ValueError(f"het uurtarief van {role} moet groter dan 0 zijn")
        return value

    @model_validator(mode="after")
    def _indexatie_na_basisjaar(self) -> ProviderContract:
        for jaar in self.indexatie:
            if jaar <= self.basisjaar:
                raise ValueError(f"indexatie voor {jaar} ligt niet na het basisjaar {self.basisjaar}")
        return self


class OrderRequest(BaseModel):
    """What a person (or the takeover step) asks to order. Checked here for shape; against the case and
    the contract in `rules.orders.check_request`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    case_ref: str
    provider_id: str
    kind: Literal["regie", "traject"]
    start: date
    end: date | None = None
    hours: dict[Role, Hours] | None = None
    traject: str | None = None


class OrderSummary(BaseModel):
    """An order as people see it: no personal data, only the case reference."""

    model_config = ConfigDict(frozen=True)

    order_number: str
    case_ref: str
    provider_id: str
    kind: str
    status: str
    start_date: date
    end_date: date | None
    roles: dict[str, Decimal]
    """Role → hourly rate excl. VAT, indexed to the start date's year."""
    budget_hours: dict[str, Decimal] | None
    budget_amount: Decimal | None
    """The fixed price of a traject (excl. VAT); None for a regie order (budget in hours)."""
    created: bool = False
    """True when this call made the order; False when it already existed (a re-run)."""

    @property
    def value_excl_vat(self) -> Decimal:
        """The order's value excl. VAT: the fixed price, or the ordered hours at their rates."""
        if self.budget_amount is not None:
            return self.budget_amount
        return sum((h * self.roles[r] for r, h in (self.budget_hours or {}).items()), Decimal("0.00"))


class ReportLine(BaseModel):
    """One report owed under an order: when it is due and when it came in."""

    model_config = ConfigDict(frozen=True)

    kind: str
    due_date: date
    received_on: date | None


class OrderDetail(BaseModel):
    """An order with its reports, in due-date order."""

    model_config = ConfigDict(frozen=True)

    order: OrderSummary
    reports: list[ReportLine]
