"""Which WVP steps need attention on a given day (the deadline monitor's rule)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

HORIZON_DAYS = 14


@dataclass(frozen=True)
class Deadline:
    """A step that is overdue or due within the horizon. Case reference only: no personal data."""

    case_ref: str
    stap: str
    datum: date
    dagen_te_laat: int
    """Days past the due date (0 when not yet due)."""
    gemeente_verantwoordelijk: bool

    @property
    def te_laat(self) -> bool:
        return self.dagen_te_laat > 0


def attention_until(today: date, horizon_days: int = HORIZON_DAYS) -> date:
    """Steps due on or before this date need attention today."""
    return today + timedelta(days=horizon_days)


def deadline(case_ref: str, stap: str, datum: date, today: date, gemeente_verantwoordelijk: bool = True) -> Deadline:
    """The monitor's view of one open step on `today`."""
    return Deadline(case_ref=case_ref, stap=stap, datum=datum, dagen_te_laat=max(0, (today - datum).days),
                    gemeente_verantwoordelijk=gemeente_verantwoordelijk)
