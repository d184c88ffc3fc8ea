"""The reference of case 2: the same end-to-end work written the naive way, one Prefect task per signal
per step, as a first Prefect design would do it ("every record is a task, Prefect keeps the state").

For every signal, in order: pull it from IB (a page of one) and process it (intake-of-one), decide its
takeover (Suwinet lookup of one), register its zaak (create, then status and rol, at the ZGW simulator:
the outbox with limit 1), order the arbodienst for it, plan and book its consult (arbodienst, batch of one). The
services are vangnet's own with limit 1, so the reference does the same partner calls and store writes;
what differs is the orchestration: 6 task runs per signal instead of one per batch.

Generous to the reference: clients are built once per run (not per task) and it takes no partner
concurrency slots or rate-limit units (vangnet pays those per batch; per record they would throttle
the reference to the partners' paced rate, e.g. 2 IB pages/s).
"""

from __future__ import annotations

from datetime import datetime, timezone

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from flows import runtime
from flows.consults import arbodienst_client
from flows.settings import Settings
from services import consults as consult_service
from services import intake as intake_service
from services import orders as order_service
from services import zaken as zaken_service
from services.intake import DUTCH_TIME, SOURCE_IB
from services.takeover import decide_pending

ACTOR = "vangnet/opdrachten"


@task(name="naive-intake-one", task_run_name="naive-intake-{i}", cache_policy=NO_CACHE)
def intake_one(i: int, client, engine, today) -> list[str]:
    page = intake_service.pull_page(client, engine, source=SOURCE_IB, page_size=1, now=datetime.now(timezone.utc))
    batch = intake_service.process_inbox_batch(engine, source=SOURCE_IB, limit=1, today=today)
    assert page.received == 1 and batch.claimed == 1
    return batch.case_refs


@task(name="naive-takeover-one", task_run_name="naive-takeover-{i}", cache_policy=NO_CACHE)
def takeover_one(i: int, engine, gemeentecode: str, today, lookup) -> list[str]:
    return decide_pending(engine, eigen_gemeentecode=gemeentecode, today=today, limit=1, lks_lookup=lookup).case_refs


@task(name="naive-zaak-one", task_run_name="naive-zaak-{i}", cache_policy=NO_CACHE)
def zaak_one(i: int, engine, client, today) -> dict[str, int]:
    return zaken_service.process_zaken_outbox(engine, client, today=today, limit=1).done


@task(name="naive-order-one", task_run_name="naive-order-{i}", cache_policy=NO_CACHE)
def order_one(i: int, engine, case_ref: str, contract, today) -> bool:
    return order_service.create_default_arbo_order(engine, case_ref, contract, today, ACTOR).created


@task(name="naive-plan-one", task_run_name="naive-plan-{i}", cache_policy=NO_CACHE)
def plan_one(i: int, engine, today) -> int:
    return len(consult_service.plan_consults(engine, today=today, limit=1).created)


@task(name="naive-book-one", task_run_name="naive-book-{i}", cache_policy=NO_CACHE)
def book_one(i: int, engine, client, today) -> int:
    return len(consult_service.book_pending(engine, client, today=today, now=datetime.now(timezone.utc),
                                            limit=1).booked)


@flow(name="bench-naive-e2e", persist_result=False)
def naive_flow(ib_endpoint: str, n: int) -> dict[str, int]:
    """Take `n` signals from IB one by one through intake → takeover → zaak → order → consult."""
    settings = Settings()
    today = datetime.now(DUTCH_TIME).date()
    engine = runtime.migrated_engine(settings)
    ib = runtime.ib_client(settings, endpoint=ib_endpoint)
    lookup = runtime.suwinet_lks_lookup(settings)
    zaken = runtime.zaken_client(settings)
    contract = runtime.arbodienst_contract(settings)
    arbo = arbodienst_client(settings)
    counts = {"signals": 0, "decided": 0, "zaak_effects": 0, "orders": 0, "planned": 0, "booked": 0}
    try:
        for i in range(1, n + 1):
            refs = intake_one(i, ib, engine, today)
            counts["signals"] += 1
            decided = takeover_one(i, engine, settings.gemeentecode, today, lookup)
            counts["decided"] += len(decided)
            counts["zaak_effects"] += sum(zaak_one(i, engine, zaken, today).values())
            for ref in decided or refs:
                counts["orders"] += order_one(i, engine, ref, contract, today)
            counts["planned"] += plan_one(i, engine, today)
            counts["booked"] += book_one(i, engine, arbo, today)
    finally:
        arbo.close()
    return counts
