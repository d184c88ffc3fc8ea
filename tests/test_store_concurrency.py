"""Concurrent workers on PostgreSQL: row locks with SKIP LOCKED give disjoint batches."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

import store

pytestmark = pytest.mark.postgres
T0 = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)


@pytest.fixture
def pg_engine(pg_database_factory) -> Engine:
    url = pg_database_factory()
    store.upgrade(url)
    engine = store.make_engine(url)
    yield engine
    engine.dispose()


def _no_waiting(session: Session) -> Session:
    # Without SKIP LOCKED the second claim would block forever; make that a quick failure instead.
    session.execute(text("SET LOCAL lock_timeout = '2s'"))
    return session


def _fill_inbox(engine: Engine, n: int) -> set[int]:
    with store.session_scope(engine) as s:
        return {
            store.add_raw(s, source="ib", payload=f"<m{i}/>".encode(), received_at=T0 + timedelta(seconds=i))[0].id
            for i in range(n)
        }


def test_two_open_sessions_claim_disjoint_inbox_batches(pg_engine: Engine) -> None:
    all_ids = _fill_inbox(pg_engine, 6)
    factory = store.make_sessionmaker(pg_engine)
    with factory() as a, factory() as b:
        batch_a = {m.id for m in store.claim_inbox(a, "ib", 4)}  # a's transaction stays open: rows locked
        batch_b = {m.id for m in store.claim_inbox(_no_waiting(b), "ib", 4)}
        assert len(batch_a) == 4 and len(batch_b) == 2
        assert batch_a.isdisjoint(batch_b) and batch_a | batch_b == all_ids
        a.rollback()  # released: b's next claim can see them again
        b.rollback()
        with factory() as c:
            assert len(store.claim_inbox(c, "ib", 10)) == 6


def test_two_open_sessions_claim_disjoint_outbox_items(pg_engine: Engine) -> None:
    with store.session_scope(pg_engine) as s:
        for i in range(4):
            store.enqueue(s, effect="zaak.create", idempotency_key=f"k{i}", payload={})
    factory = store.make_sessionmaker(pg_engine)
    with factory() as a, factory() as b:
        ids_a = {i.id for i in store.claim_outbox(a, "zaak.create", 3)}
        ids_b = {i.id for i in store.claim_outbox(_no_waiting(b), "zaak.create", 3)}
        assert len(ids_a) == 3 and len(ids_b) == 1 and ids_a.isdisjoint(ids_b)


def test_threaded_workers_process_each_message_once(pg_engine: Engine) -> None:
    all_ids = _fill_inbox(pg_engine, 60)
    seen: Counter[int] = Counter()
    lock = threading.Lock()
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def worker() -> None:
        try:
            start.wait()
            while True:
                with store.session_scope(pg_engine) as s:
                    batch = store.claim_inbox(_no_waiting(s), "ib", 5)
                    if not batch:
                        return
                    for msg in batch:
                        store.mark_inbox(s, msg, store.InboxStatus.PROCESSED)
                    with lock:
                        seen.update(m.id for m in batch)
        except BaseException as exc:  # noqa: BLE001 - surfaced in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors
    assert set(seen) == all_ids and max(seen.values()) == 1


def test_racing_add_raw_and_enqueue_create_one_row(pg_engine: Engine) -> None:
    results: list[bool] = []
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def worker() -> None:
        try:
            start.wait()
            with store.session_scope(pg_engine) as s:
                _, created = store.add_raw(s, source="ib", payload=b"<same/>", received_at=T0)
                _, queued = store.enqueue(s, effect="zaak.create", idempotency_key="same", payload={})
                results.append(created and queued)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors and results.count(True) == 1 and len(results) == 4
