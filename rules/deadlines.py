"""Which WVP steps and provider reports need attention on a given day (the deadline monitor's rule).

A missing report under an order is a deadline too (domain.md §6: "missing reports are a signal"): its
`stap` is `rapportage:<KIND>` (e.g. `rapportage:START`) and it carries the order's number.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

HORIZON_DAYS = 14
REPORT_PREFIX = "rapportage:"


@dataclass(frozen=True)
class Deadline:
    """A step that is overdue or due within the horizon. Case reference only: no personal data."""

    case_ref: str
    stap: str
    datum: date
    dagen_te_laat: int
    """Days past the due date (0 when not yet due)."""
    gemeente_verantwoordelijk: bool
    order_number: str | None = None
    """The order a missing report is owed under; None for a WVP step."""

    @property
    def te_laat(self) -> bool:
        return self.dagen_te_laat > 0


def attention_until(today: date, horizon_days: int = HORIZON_DAYS) -> date:
    """Steps due on or before this date need attention today."""
    return today + timedelta(days=horizon_days)


def deadline(case_ref: str, stap: str, datum: date, today: date, gemeente_verantwoordelijk: bool = True,
             *, order_number: str | None = None) -> Deadline:
    """The monitor's view of one open step on `today`."""
    return Deadline(case_ref=case_ref, stap=stap, datum=datum, dagen_te_laat=max(0, (today - datum).days),
                    gemeente_verantwoordelijk=gemeente_verantwoordelijk, order_number=order_number)


def report_deadline(case_ref: str, order_number: str, kind: str, due_date: date, today: date) -> Deadline:
    """The monitor's view of a report not (yet) received under an order. The provider owes it; the
    gemeente has to chase it, so it counts as the gemeente's to act on."""
    return deadline(case_ref, f"{REPORT_PREFIX}{kind}", due_date, today, True, order_number=order_number)
