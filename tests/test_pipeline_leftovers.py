"""Micro-batch mode's "page 0": what earlier runs left (undecided cases, no zaak, no order, no consult) is
finished before the first IB page, as tasks of the pipeline run, with real simulators and a real Prefect server."""

from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import select

import store
from bench.e2e_child import scenario
from flows import runtime
from flows.partners import running_partners
from flows.settings import Settings
from services.intake import SOURCE_IB, process_inbox_batch, pull_page
from store.models import Case, Consult, OutboxItem

TODAY = date(2027, 3, 1)


def test_micro_batch_run_first_finishes_what_an_earlier_run_left(prefect_server, tmp_path):
    from flows.pipeline import pipeline_flow

    data = scenario(3, TODAY, prefix="P0")
    url = f"sqlite:///{tmp_path / 'vangnet.db'}"
    store.upgrade(url)
    engine = store.make_engine(url)
    with running_partners(data, tmp_path, database_url=url) as partners:
        # An earlier run took every signal in and stopped before the takeover.
        ib = runtime.ib_client(Settings(), endpoint=partners.ib_endpoint)
        page = pull_page(ib, engine, source=SOURCE_IB, page_size=10, now=datetime(2027, 3, 1, 11, tzinfo=timezone.utc))
        assert page.new == 3
        assert process_inbox_batch(engine, source=SOURCE_IB, limit=10, today=TODAY).cases_created == 3
        with store.session_scope(engine) as s:
            assert all(c.besluit is None for c in s.scalars(select(Case)))

        result = pipeline_flow(run_date=TODAY, ib_endpoint=partners.ib_endpoint, micro_batch=5)

    assert result["intake"]["signals_new"] == 0  # nothing new at IB: all the work was page 0
    assert result["takeover"].get("OVERNAME") == 3
    with store.session_scope(engine) as s:
        cases = list(s.scalars(select(Case)))
        assert [c.besluit.value for c in cases] == ["OVERNAME"] * 3
        assert all(c.zaak_url for c in cases)
        assert not list(s.scalars(select(OutboxItem).where(OutboxItem.status != "DONE")))
        booked = {c.case_id for c in s.scalars(select(Consult).where(Consult.booking_ref.is_not(None)))}
        assert booked == {c.id for c in cases}
    engine.dispose()
