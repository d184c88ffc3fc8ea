"""The worker child of a reliability trial: `python -m reliability.worker '<json config>'`.

It runs the service functions the Prefect flows call, in the order the pipeline runs them: intake
(`pull_page`, `process_inbox_batch`), takeover (`decide_pending` with the Suwinet lookup), zaken
(`queue_closures`, `process_zaken_outbox` at the ZGW), orders (`create_default_arbo_order`), consults
(`plan_consults`, `book_pending`), invoices (`fetch_feed`, `process_batch`, a clerk's `decide`,
`export_approved`, `deliver_statuses`). The flows are thin wrappers over exactly these calls (tasks
add run names, pacing and artifacts), so running them without Prefect tests the same store and partner
effects; a Prefect server per trial would make 200 trials far too slow.

Settings come from the environment the parent passes (`VANGNET_*`, pointing at its simulators). The kill
point is `VANGNET_CRASH_AT` (reliability/killpoints.py); hooks are installed before anything else runs.
Config keys: `today` (ISO date, the run's clock: noon of it, as the flows with `run_date`), `export_dir`
(booking files), `count_file` (write the event counts there at exit), `passes` (default 2: the second
one finds what the first left, e.g. disputes approved after the export).

Exit 0 when every pass ran. Nothing personal is printed.
"""

from __future__ import annotations

import json
import os
import sys

from reliability import killpoints

CLERK = "reliability/clerk"


def main(argv: list[str]) -> int:
    config = json.loads(argv[1])
    killpoints.install(os.environ.get(killpoints.ENV) or None, config.get("count_file"))
    from datetime import date, datetime, time
    from pathlib import Path

    from flows import runtime
    from flows.settings import Settings
    from services.intake import DUTCH_TIME

    settings = Settings()
    today = date.fromisoformat(config["today"])
    now = datetime.combine(today, time(12), DUTCH_TIME)
    engine = runtime.migrated_engine(settings)
    parts = Partners(settings)
    try:
        for _ in range(int(config.get("passes", 2))):
            one_pass(engine, settings, parts, today, now, Path(config["export_dir"]))
    finally:
        parts.close()
    return 0


class Partners:
    """The partner clients, built from the settings as flows/runtime.py builds them."""

    def __init__(self, settings) -> None:
        from flows import runtime

        self.ib = runtime.build_ib_client(settings)
        self.lookup = runtime.suwinet_lks_lookup(settings)
        self.zgw = runtime.zaken_client(settings)
        self.contract = runtime.arbodienst_contract(settings)
        self.arbo = _arbodienst_client(settings)
        self.feeds = runtime.feed_clients(settings)
        self.validator = runtime.invoice_validator(settings)
        self.contracts = runtime.provider_contracts(settings)

    def close(self) -> None:
        for client in (self.ib, self.zgw, self.arbo, *self.feeds.values()):
            if client is not None:
                client.close()


def _arbodienst_client(settings):
    """As flows.consults.arbodienst_client (which would import Prefect)."""
    from connectors.arbodienst import ArbodienstClient, ArbodienstSettings

    return ArbodienstClient(ArbodienstSettings(name=settings.arbodienst_name, base_url=settings.arbodienst_base_url,
                                               token=settings.arbodienst_token, regio=settings.arbodienst_regio))


def one_pass(engine, settings, parts: Partners, today, now, export_dir) -> None:
    """Every stage once, each to the end of its backlog."""
    intake(engine, settings, parts, today, now)
    takeover(engine, settings, parts, today)
    zaken(engine, settings, parts, today)
    orders(engine, parts, today)
    consults(engine, settings, parts, today, now)
    invoices(engine, settings, parts, now, export_dir)


def intake(engine, settings, parts: Partners, today, now) -> None:
    from services import intake as service

    while True:
        page = service.pull_page(parts.ib, engine, source=service.SOURCE_IB, page_size=settings.ib_page_size, now=now)
        if not page.more or page.received == 0:
            break
    while service.process_inbox_batch(engine, source=service.SOURCE_IB, limit=settings.batch_size,
                                      today=today).claimed >= settings.batch_size:
        pass


def takeover(engine, settings, parts: Partners, today) -> None:
    from services.takeover import decide_pending

    after_id = 0
    while True:
        result = decide_pending(engine, eigen_gemeentecode=settings.gemeentecode, today=today,
                                limit=settings.batch_size, lks_lookup=parts.lookup, after_id=after_id)
        if result.claimed < settings.batch_size or result.last_case_id is None:
            return
        after_id = result.last_case_id


def zaken(engine, settings, parts: Partners, today) -> None:
    from services import zaken as service

    service.queue_closures(engine)
    service.process_zaken_outbox(engine, parts.zgw, today=today, limit=settings.batch_size)


def orders(engine, parts: Partners, today) -> None:
    """As flows.orders.order_for_new_cases: the default arbodienst order of each taken-over open case."""
    from sqlalchemy import select

    import store
    from schemas.case import Besluit
    from services import orders as service
    from store.models import Case, Order, OrderKind

    ordered = select(Order.id).where(Order.case_id == Case.id, Order.provider_id == parts.contract.provider_id,
                                     Order.kind == OrderKind.REGIE)
    with store.session_scope(engine) as session:
        refs = [c.ref for c in session.scalars(
            select(Case).where(Case.closed_on.is_(None), Case.besluit == Besluit.OVERNAME, ~ordered.exists())
            .order_by(Case.id))]
    for ref in refs:
        service.create_default_arbo_order(engine, ref, parts.contract, today, "vangnet/opdrachten")
    service.end_orders_for_closed_cases(engine)


def consults(engine, settings, parts: Partners, today, now) -> None:
    from services import consults as service

    service.plan_consults(engine, today=today, limit=settings.batch_size)
    after_id = 0
    while True:
        booked = service.book_pending(engine, parts.arbo, today=today, now=now, limit=settings.batch_size,
                                      after_id=after_id)
        if booked.unavailable or booked.claimed < settings.batch_size:
            return
        after_id = booked.last_consult_id


def invoices(engine, settings, parts: Partners, now, export_dir) -> None:
    from services import invoices as service

    for feed, client in parts.feeds.items():
        service.fetch_feed(engine, client, feed, now=now)
    while service.process_batch(engine, parts.validator, parts.contracts,
                                limit=settings.batch_size).processed >= settings.batch_size:
        pass
    for dispute in service.open_disputes(engine):  # the clerk approves every disputed invoice
        service.decide(engine, dispute["id"], "approve", by=CLERK)
    service.export_approved(engine, export_dir, now=now)
    service.deliver_statuses(engine, parts.feeds, None)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
