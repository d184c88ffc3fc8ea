"""The deadline monitor: open WVP steps and missing provider reports that are overdue or due soon,
without personal data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

import store
from rules.deadlines import HORIZON_DAYS, Deadline, attention_until, deadline, report_deadline
from store.deadlines import count_missing_reports_due, count_open_steps_due, missing_reports_due, open_steps_due
from store.models import CASE_REF_PREFIX

MOST_OVERDUE = 1000
"""How many of the most overdue deadlines the monitor flow shows (its table artifact)."""


@dataclass(frozen=True)
class DeadlineOverview:
    """What the monitor flow publishes: how many need attention and the most overdue of them."""

    overdue: int
    due_soon: int
    most_overdue: list[Deadline]
    """The first `top` deadlines in deadlines_on's order (most overdue first)."""


def deadlines_on(engine: Engine, *, today: date, horizon_days: int = HORIZON_DAYS) -> list[Deadline]:
    """Every open step of an active case, and every report not received under a running order of an
    active case, due on or before today + horizon; most overdue first (WVP steps before reports on
    the same date)."""
    with store.session_scope(engine) as session:
        return _deadlines(session, today, attention_until(today, horizon_days), None)


def deadline_overview(engine: Engine, *, today: date, top: int,
                      horizon_days: int = HORIZON_DAYS) -> DeadlineOverview:
    """The counts of deadlines_on (overdue, due soon) and its first `top` items, without building the
    whole list: at a million cases deadlines_on holds a quarter of a million steps."""
    until = attention_until(today, horizon_days)
    with store.session_scope(engine) as session:
        steps_all, steps_overdue = count_open_steps_due(session, until=until, overdue_before=today)
        reports_all, reports_overdue = count_missing_reports_due(session, until=until, overdue_before=today)
        most_overdue = _deadlines(session, today, until, top)
    overdue = steps_overdue + reports_overdue
    return DeadlineOverview(overdue=overdue, due_soon=steps_all + reports_all - overdue, most_overdue=most_overdue)


def _deadlines(session: Session, today: date, until: date, limit: int | None) -> list[Deadline]:
    steps = [
        deadline(f"{CASE_REF_PREFIX}{case_id:06d}", stap, datum, today, gemeente)
        for case_id, stap, datum, gemeente in open_steps_due(session, until=until, limit=limit)
    ]
    reports = [
        report_deadline(f"{CASE_REF_PREFIX}{case_id:06d}", number, kind, due, today)
        for case_id, number, kind, due in missing_reports_due(session, until=until, limit=limit)
    ]
    merged = sorted(steps + reports, key=lambda d: d.datum)  # stable: each list is already in order
    return merged if limit is None else merged[:limit]
