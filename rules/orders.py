"""Orders (opdrachten): report obligations, order numbers and the checks on a request, as pure functions.

Month arithmetic: "n months after d" is the same day of the month n months later, clamped to the last
day of that month when it is shorter: 31 January + 1 month = 28 February (29 in a leap year),
31 August − 6 months = 28/29 February. Repeated reports are counted from the start each time
(start + 2, + 4, + 6 months), so a clamped month does not make later dates drift.

Report obligations (domain.md §6, per the provider's contract, `ReportRules`), all within the order:
- START: due at the end of the window `start_weken` after the start (start + 8 weeks for [6, 8]);
- WIA: `wia_maanden_voor_einde_wachttijd` months before the end of the wachttijd, when that date lies
  within the order (on or after the start, on or before the end);
- VOORTGANG: every `voortgang_maanden` months from the start, before the end date (not on it). An order
  without an end date gets them up to the end of the wachttijd (re-integration under the WVP ends
  there), and none when that is unknown too;
- AFRONDING: on the end date, when the order has one.
Every report is due on or before the order's end date.

`request_problems` says, in plain Dutch, why a request can't be ordered (closed or not taken-over case,
start before the case opened, a role or traject the provider doesn't have, ...).
"""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta
from decimal import Decimal
from typing import NamedTuple

from schemas.orders import ProviderContract, ReportKind, ReportRules

ORDER_PREFIX = "OPD"
_ORDER_NUMBER = re.compile(rf"^{ORDER_PREFIX}-(\d{{4}})-(\d{{6,}})-(\d{{2,}})$")


class ReportObligation(NamedTuple):
    """A report the provider owes: its kind and the date it is due."""

    kind: ReportKind
    due_date: date


def add_months(d: date, months: int) -> date:
    """`d` moved by `months` (negative: back), clamped to the last day of the target month."""
    index = d.year * 12 + (d.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def start_window(start: date, rules: ReportRules) -> tuple[date, date] | None:
    """(from, due) of the start report: e.g. 6 to 8 weeks after the start; None when none is owed."""
    if rules.start_weken is None:
        return None
    van, tot = rules.start_weken
    return start + timedelta(weeks=van), start + timedelta(weeks=tot)


def report_obligations(
    *, start: date, end: date | None, einde_wachttijd: date | None, rules: ReportRules
) -> list[ReportObligation]:
    """Every report owed under an order running from `start` to `end` (None: open-ended), by due date."""
    if end is not None and end < start:
        raise ValueError(f"de einddatum {end} ligt voor de startdatum {start}")

    def within(d: date) -> bool:
        return start <= d and (end is None or d <= end)

    owed: list[ReportObligation] = []
    window = start_window(start, rules)
    if window is not None and within(window[1]):
        owed.append(ReportObligation(ReportKind.START, window[1]))
    if rules.wia_maanden_voor_einde_wachttijd and einde_wachttijd is not None:
        wia = add_months(einde_wachttijd, -rules.wia_maanden_voor_einde_wachttijd)
        if within(wia):
            owed.append(ReportObligation(ReportKind.WIA, wia))
    until = end if end is not None else einde_wachttijd
    if rules.voortgang_maanden and until is not None:
        n = 1
        while (due := add_months(start, n * rules.voortgang_maanden)) < until:
            owed.append(ReportObligation(ReportKind.VOORTGANG, due))
            n += 1
    if rules.afronding and end is not None:
        owed.append(ReportObligation(ReportKind.AFRONDING, end))
    return sorted(owed, key=lambda o: (o.due_date, list(ReportKind).index(o.kind)))


def order_number(gemeentecode: str, case_id: int, seq: int) -> str:
    """`OPD-<gemeentecode>-<case number, 6 digits>-<nn>`: e.g. OPD-0518-000012-01 (nn counts per case)."""
    return f"{ORDER_PREFIX}-{gemeentecode}-{case_id:06d}-{seq:02d}"


def order_seq(number: str) -> int | None:
    """The per-case sequence number of an order number made by `order_number`; None for another form."""
    match = _ORDER_NUMBER.match(number)
    return int(match.group(3)) if match else None


def traject_end(start: date, months: int) -> date:
    """The end of a traject of `months` months starting on `start` (same day of the month, clamped)."""
    return add_months(start, months)


MAX_HOURS_PER_ROLE = 1000
MAX_DAYS_AHEAD = 366


def request_problems(
    *,
    case_ref: str,
    contract: ProviderContract,
    kind: str,
    start: date,
    end: date | None,
    hours: dict[str, Decimal] | None,
    traject: str | None,
    case_opened_on: date,
    case_closed_on: date | None,
    taken_over: bool,
    today: date,
) -> list[str]:
    """What is wrong with ordering this for this case, in plain Dutch (empty: nothing).

    An order needs an open case whose re-integration the gemeente took over (besluit OVERNAME), a start
    on or after the day the case was opened and within the contract's years, and for `regie` hours per
    role of this provider, for `traject` one of the provider's trajecten (its end follows from its length).
    """
    problems: list[str] = []
    if case_closed_on is not None:
        problems.append(f"zaak {case_ref} is gesloten op {case_closed_on}; voor een gesloten zaak wordt niets besteld")
    elif not taken_over:
        problems.append(f"de gemeente heeft de re-integratie van zaak {case_ref} (nog) niet overgenomen; "
                        "bestel pas na het besluit OVERNAME")
    if start < case_opened_on:
        problems.append(f"de startdatum {start} ligt voor de opening van zaak {case_ref} ({case_opened_on})")
    if start > today + timedelta(days=MAX_DAYS_AHEAD):
        problems.append(f"de startdatum {start} ligt meer dan een jaar na vandaag ({today}); klopt het jaartal?")
    if start.year < contract.basisjaar:
        problems.append(f"het contract van {contract.provider_id} geldt vanaf {contract.basisjaar}; "
                        f"de startdatum {start} ligt daarvoor")
    if end is not None and end <= start:
        problems.append(f"de einddatum {end} moet na de startdatum {start} liggen")
    if kind == "regie":
        problems += _regie_problems(contract, hours, traject)
    elif kind == "traject":
        problems += _traject_problems(contract, start, end, hours, traject)
    else:
        problems.append(f"onbekende soort opdracht {kind!r}: kies regie of traject")
    return problems


def _regie_problems(contract: ProviderContract, hours: dict[str, Decimal] | None, traject: str | None) -> list[str]:
    known = ", ".join(sorted(contract.rollen))
    if traject:
        return ["een opdracht op regiebasis heeft geen traject; kies soort traject of laat het traject weg"]
    if not hours:
        return [f"geef bij een opdracht op regiebasis de uren per rol (rollen van {contract.provider_id}: {known})"]
    problems = []
    for role, h in hours.items():
        if role not in contract.rollen:
            problems.append(f"{contract.provider_id} ({contract.naam}) levert geen {role!r}; het contract kent: {known}")
        elif not (0 < h <= MAX_HOURS_PER_ROLE):
            problems.append(f"het aantal uren voor {role} moet groter dan 0 en hoogstens {MAX_HOURS_PER_ROLE} zijn")
    return problems


def _traject_problems(contract: ProviderContract, start: date, end: date | None,
                      hours: dict[str, Decimal] | None, traject: str | None) -> list[str]:
    known = ", ".join(sorted(contract.trajecten)) or "geen"
    if not traject:
        return [f"kies een traject van {contract.provider_id} (bekend: {known})"]
    if traject not in contract.trajecten:
        return [f"{contract.provider_id} ({contract.naam}) kent het traject {traject!r} niet; wel: {known}"]
    problems = []
    if hours:
        problems.append("een traject heeft een vaste prijs: geef geen uren op")
    expected = traject_end(start, contract.trajecten[traject].maanden)
    if end is not None and end != expected:
        problems.append(f"de einddatum van traject {traject} volgt uit de looptijd "
                        f"({contract.trajecten[traject].maanden} maanden): {expected}, niet {end}")
    return problems
