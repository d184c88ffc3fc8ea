"""The deadline monitor: open WVP steps and missing provider reports that are overdue or due soon,
without personal data."""

from __future__ import annotations

from datetime import date

from sqlalchemy.engine import Engine

import store
from rules.deadlines import HORIZON_DAYS, Deadline, attention_until, deadline, report_deadline
from store.deadlines import missing_reports_due, open_steps_due
from store.models import CASE_REF_PREFIX


def deadlines_on(engine: Engine, *, today: date, horizon_days: int = HORIZON_DAYS) -> list[Deadline]:
    """Every open step of an active case, and every report not received under a running order of an
    active case, due on or before today + horizon; most overdue first (WVP steps before reports on
    the same date)."""
    until = attention_until(today, horizon_days)
    with store.session_scope(engine) as session:
        steps = [
            deadline(f"{CASE_REF_PREFIX}{case_id:06d}", stap, datum, today, gemeente)
            for case_id, stap, datum, gemeente in open_steps_due(session, until=until)
        ]
        reports = [
            report_deadline(f"{CASE_REF_PREFIX}{case_id:06d}", number, kind, due, today)
            for case_id, number, kind, due in missing_reports_due(session, until=until)
        ]
    return sorted(steps + reports, key=lambda d: d.datum)  # stable: each list is already in order
