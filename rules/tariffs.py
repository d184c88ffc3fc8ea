"""Contract prices with yearly indexation (domain.md §6, §7), as pure functions.

A contract gives its prices for `basisjaar`. On 1 January of every later year the price of the previous
year goes up by that year's `indexatie` percentage (0 % for a year the contract doesn't list) and is
rounded half-up to whole cents, year by year — the way a provider's price list is published:
125.00 in 2026, +3.10 % → 128.875 → 128.88 in 2027, +2.50 % → 132.102 → 132.10 in 2028.
Trajecten (fixed prices) are indexed the same way as hourly rates (the domain does not say otherwise;
a provider publishes one price list per year).
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from schemas.orders import ProviderContract

CENT = Decimal("0.01")
_HUNDRED = Decimal(100)


class TariffError(ValueError):
    """No price can be given; the message says why in plain Dutch."""


def index_amount(contract: ProviderContract, amount: Decimal, year: int) -> Decimal:
    """`amount` (a base-year price) as it stands in `year`: compounded per year, rounded per year."""
    if year < contract.basisjaar:
        raise TariffError(f"het contract van {contract.provider_id} geldt vanaf {contract.basisjaar}; "
                          f"voor {year} is er geen tarief")
    price = Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)
    for jaar in range(contract.basisjaar + 1, year + 1):
        pct = contract.indexatie.get(jaar, Decimal(0))
        price = (price * (_HUNDRED + pct) / _HUNDRED).quantize(CENT, rounding=ROUND_HALF_UP)
    return price


def rate_on(contract: ProviderContract, role: str, on: date) -> Decimal:
    """The hourly rate excl. VAT of `role` on date `on` (the rate of `on`'s year)."""
    if role not in contract.rollen:
        raise TariffError(f"{contract.provider_id} heeft geen tarief voor de rol {role!r}; "
                          f"het contract kent: {', '.join(sorted(contract.rollen))}")
    return index_amount(contract, contract.rollen[role], on.year)


def indexed_rates(contract: ProviderContract, year: int) -> dict[str, Decimal]:
    """Every role's hourly rate excl. VAT in `year`."""
    return {role: index_amount(contract, rate, year) for role, rate in contract.rollen.items()}


def traject_price_on(contract: ProviderContract, traject: str, on: date) -> Decimal:
    """The fixed price excl. VAT of `traject` when it starts on `on`."""
    if traject not in contract.trajecten:
        known = ", ".join(sorted(contract.trajecten)) or "geen"
        raise TariffError(f"{contract.provider_id} kent het traject {traject!r} niet; wel: {known}")
    return index_amount(contract, contract.trajecten[traject].prijs, on.year)


def vat(contract: ProviderContract, amount_excl: Decimal) -> Decimal:
    """The VAT on `amount_excl` at the contract's rate, rounded half-up to cents."""
    return (amount_excl * contract.btw_pct / _HUNDRED).quantize(CENT, rounding=ROUND_HALF_UP)
