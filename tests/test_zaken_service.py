"""Zaak registration through the outbox against the ZGW simulator (which checks bodies against the
official OpenAPI): one zaak per case, also after a crash or 5xx; status, rol and closing."""

from __future__ import annotations

from datetime import date

import pytest

import store
from flows.partners import DEMO_CATALOGUS, demo_zgw_environment
from flows.runtime import zaken_client
from flows.settings import Settings
from schemas.case import CaseStatus
from services import zaken as zaken_service
from simulators.harness import SimServer
from simulators.zgw import ZgwSimulator
from store.models import OutboxItem, OutboxStatus

SECRET = "zaken-service-test"
TODAY = date(2027, 3, 1)


@pytest.fixture
def zgw(monkeypatch):
    sim = ZgwSimulator({"vangnet": SECRET}, eind_statustypen={f"{DEMO_CATALOGUS}/statustypen/afgesloten"})
    with SimServer(sim) as server:
        for name, value in demo_zgw_environment(sim.api_root, SECRET).items():
            monkeypatch.setenv(name, value)
        client = zaken_client(Settings(_env_file=None))
        client.settings = client.settings.model_copy(update={"retry_backoff_seconds": 0.001})
        yield sim, server, client


def taken_over_case(engine, bsn="999990019") -> str:
    with store.session_scope(engine) as s:
        case = store.create_case(s, gemeentecode="0518", bsn=bsn, eerste_ziektedag=date(2027, 1, 4),
                                 datum_ontvangst=TODAY, opened_on=TODAY, status=CaseStatus.OPEN)
        store.enqueue(s, effect="zaak.create", idempotency_key=f"zaak.create:{case.ref}", payload={"case_id": case.id},
                      case_id=case.id)
        return case.ref


def outbox_status(engine) -> dict[str, str]:
    with store.session_scope(engine) as s:
        return {i.effect: i.status.value for i in s.query(OutboxItem)}


def test_zaak_status_and_rol_once(zgw, engine):
    sim, _, client = zgw
    ref = taken_over_case(engine)
    result = zaken_service.process_zaken_outbox(engine, client, today=TODAY, limit=10)
    assert result.done == {"zaak.create": 1, "zaak.status": 1, "zaak.rol": 1} and result.failed == 0
    assert sim.counts() == {"zaken": 1, "statussen": 1, "rollen": 1}
    with store.session_scope(engine) as s:
        case = store.get_case(s, ref)
        assert case.zaak_identificatie == "VANGNET-0518-VN-000001" and case.zaak_url.startswith(sim.api_root)
    assert zaken_service.process_zaken_outbox(engine, client, today=TODAY, limit=10).done == {}  # nothing twice
    assert sim.counts()["zaken"] == 1


def test_restart_after_the_zaak_was_made_but_before_our_commit(zgw, engine, monkeypatch):
    sim, _, client = zgw
    taken_over_case(engine)
    real_done = store.mark_outbox_done

    def crash(session, item):
        raise SystemExit("worker killed after the zaak was created, before the commit")

    monkeypatch.setattr(store, "mark_outbox_done", crash)
    with pytest.raises(SystemExit):
        zaken_service.process_zaken_outbox(engine, client, today=TODAY, limit=10)
    assert sim.counts()["zaken"] == 1 and outbox_status(engine) == {"zaak.create": "PENDING"}
    monkeypatch.setattr(store, "mark_outbox_done", real_done)
    zaken_service.process_zaken_outbox(engine, client, today=TODAY, limit=10)  # the restarted worker
    assert sim.counts() == {"zaken": 1, "statussen": 1, "rollen": 1}


def test_5xx_is_retried_and_still_one_zaak(zgw, engine):
    sim, server, client = zgw
    taken_over_case(engine)
    sim.set_faults(fail_after_commit_next=1)  # stored at the zaaksysteem, answer lost
    server.set_faults(status_next=1, status_code=503)
    result = zaken_service.process_zaken_outbox(engine, client, today=TODAY, limit=10)
    assert result.failed == 0 and sim.counts() == {"zaken": 1, "statussen": 1, "rollen": 1}


def test_status_that_may_have_been_stored_is_looked_for_before_it_is_sent_again(zgw, engine):
    sim, server, client = zgw
    taken_over_case(engine)
    # let the create succeed, then lose the answer of the status POST
    orig = client.set_status

    def set_status_lost(*args, **kwargs):
        sim.set_faults(fail_after_commit_next=1)
        return orig(*args, **kwargs)

    client.set_status = set_status_lost
    result = zaken_service.process_zaken_outbox(engine, client, today=TODAY, limit=10)
    assert result.failed == 1 and outbox_status(engine)["zaak.status"] == "PENDING"
    assert result.unavailable is None  # the zaaksysteem answered: not "down"
    client.set_status = orig
    result = zaken_service.process_zaken_outbox(engine, client, today=TODAY, limit=10)
    assert result.done == {"zaak.status": 1} and outbox_status(engine)["zaak.status"] == "DONE"
    assert sim.counts()["statussen"] == 1  # stored once: found on the zaak, not posted again


def test_status_that_was_not_stored_is_sent_again_in_the_next_run(zgw, engine):
    sim, server, client = zgw
    taken_over_case(engine)
    orig = client.set_status

    def set_status_failing(*args, **kwargs):
        server.set_faults(status_next=1, status_code=500)  # refused before the zaaksysteem stored it
        return orig(*args, **kwargs)

    client.set_status = set_status_failing
    assert zaken_service.process_zaken_outbox(engine, client, today=TODAY, limit=10).failed == 1
    assert sim.counts()["statussen"] == 0
    client.set_status = orig
    assert zaken_service.process_zaken_outbox(engine, client, today=TODAY, limit=10).done == {"zaak.status": 1}
    assert sim.counts()["statussen"] == 1


def test_closed_case_closes_its_zaak_once(zgw, engine):
    sim, _, client = zgw
    ref = taken_over_case(engine)
    zaken_service.process_zaken_outbox(engine, client, today=TODAY, limit=10)
    with store.session_scope(engine) as s:
        store.close_case(s, store.get_case(s, ref), on=date(2027, 3, 20), reason="herstel gemeld per 2027-03-20")
    assert zaken_service.queue_closures(engine) == 1 and zaken_service.queue_closures(engine) == 0
    result = zaken_service.process_zaken_outbox(engine, client, today=TODAY, limit=10)
    assert result.done == {"zaak.close": 1}
    assert sim.zaken[0]["einddatum"] == "2027-03-20"
