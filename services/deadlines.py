"""The deadline monitor: open WVP steps that are overdue or due soon, without personal data."""

from __future__ import annotations

from datetime import date

from sqlalchemy.engine import Engine

import store
from rules.deadlines import HORIZON_DAYS, Deadline, attention_until, deadline
from store.deadlines import open_steps_due
from store.models import CASE_REF_PREFIX


def deadlines_on(engine: Engine, *, today: date, horizon_days: int = HORIZON_DAYS) -> list[Deadline]:
    """Every open step of an active case due on or before today + horizon, most overdue first."""
    with store.session_scope(engine) as session:
        return [
            deadline(f"{CASE_REF_PREFIX}{case_id:06d}", stap, datum, today, gemeente)
            for case_id, stap, datum, gemeente in open_steps_due(session, until=attention_until(today, horizon_days))
        ]
