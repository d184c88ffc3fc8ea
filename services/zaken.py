"""Zaak registration at the zaaksysteem (ZGW Zaken API), driven by the outbox.

Effects, each with its own idempotency key and its own transaction:
- `zaak.create`  (key `zaak.create:<ref>`, queued by the takeover decision): create the zaak with a
  deterministic identificatie, so a retry or restart finds the existing zaak instead of making a second;
  then queue the start status and the rol.
- `zaak.status`  (key `zaak.status:intake:<ref>`) and `zaak.rol` (key `zaak.rol:<ref>`): the ZGW API
  can't make a repeated POST harmless, and an earlier attempt may have been stored while its answer was
  lost or the worker died before its commit. So the zaak is read first: the intake status is its first
  status and the betrokkene its only rol (the zaak is ours), and one it already has is taken as done.
- `zaak.close`   (key `zaak.close:<ref>`, queued by `queue_closures` for closed cases with a zaak): done
  when the zaak has its einddatum.
A failed effect is tried again by later runs, up to MAX_ATTEMPTS, then waits for a person (FAILED).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.engine import Engine

import store
from mappings.zgw import zaak_identificatie, zaak_omschrijving
from store.models import Case, OutboxItem

ACTOR = "vangnet/zaken"
EFFECT_ORDER = ("zaak.create", "zaak.status", "zaak.rol", "zaak.close")


@dataclass
class ZakenResult:
    """Counts of one worker run."""

    done: dict[str, int] = field(default_factory=dict)
    failed: int = 0
    unavailable: str | None = None
    """The error type when the zaaksysteem could not be reached (after the client's retries)."""

    def count(self, effect: str) -> None:
        self.done[effect] = self.done.get(effect, 0) + 1


def queue_closures(engine: Engine) -> int:
    """Queue `zaak.close` for every closed case that has a zaak (idempotent: one key per case)."""
    with store.session_scope(engine) as session:
        cases = session.scalars(select(Case).where(Case.closed_on.is_not(None), Case.zaak_url.is_not(None)))
        return sum(
            store.enqueue(session, effect="zaak.close", idempotency_key=f"zaak.close:{case.ref}",
                          payload={"case_id": case.id}, case_id=case.id)[1]
            for case in cases
        )


def process_zaken_outbox(engine: Engine, client, *, today: date, limit: int) -> ZakenResult:
    """Perform up to `limit` pending zaak effects per kind, in order create → status → rol → close."""
    from connectors.zaken import ZakenError, ZakenUnavailable

    result = ZakenResult()
    for effect in EFFECT_ORDER:
        for _ in range(limit):
            with store.session_scope(engine) as session:
                items = store.claim_outbox(session, effect, 1)
                if not items:
                    break
                item = items[0]
                case = store.get_case(session, item.payload["case_id"])
                try:
                    _perform(session, client, item, case, today)
                except ZakenUnavailable as exc:
                    # Safe to try again: a zaak is found by its identificatie, and a status or rol is looked
                    # for on the zaak before it is sent (_stored_already).
                    store.mark_outbox_failed(session, item, str(exc), max_attempts=MAX_ATTEMPTS)
                    result.failed += 1
                    if not exc.maybe_processed:
                        result.unavailable = type(exc).__name__
                    break  # the zaaksysteem is struggling: leave the rest of this kind for the next run
                except ZakenError as exc:
                    store.mark_outbox_failed(session, item, str(exc), max_attempts=1)
                    result.failed += 1
                else:
                    store.mark_outbox_done(session, item)
                    result.count(effect)
    return result


MAX_ATTEMPTS = 5
"""Attempts of one zaak effect over runs before it waits for a person (FAILED)."""


def _perform(session, client, item: OutboxItem, case: Case, today: date) -> None:
    settings = client.settings
    # A status or rol is not idempotent at the zaaksysteem: an earlier attempt may have stored it and then lost
    # its answer, or the worker died before this item's commit. Look on the zaak first (one GET).
    if item.effect != "zaak.create" and _stored_already(client, item.effect, case.zaak_url):
        store.record_audit(session, actor=ACTOR, action=item.effect, case_id=case.id,
                           details={"reden": "bij een eerdere poging al opgeslagen; niet opnieuw verstuurd"})
        return
    if item.effect == "zaak.create":
        identificatie = zaak_identificatie(case.ref, case.gemeentecode)
        zaak = client.create_zaak(identificatie, omschrijving=zaak_omschrijving(case.ref),
                                  startdatum=case.opened_on, registratiedatum=today)
        case.zaak_identificatie, case.zaak_url = zaak.identificatie, zaak.url
        for effect, key in (("zaak.status", f"zaak.status:intake:{case.ref}"), ("zaak.rol", f"zaak.rol:{case.ref}")):
            store.enqueue(session, effect=effect, idempotency_key=key, payload={"case_id": case.id}, case_id=case.id)
        store.record_audit(session, actor=ACTOR, action="zaak.created", case_id=case.id,
                           details={"identificatie": zaak.identificatie})
    elif item.effect == "zaak.status":
        client.set_status(case.zaak_url, settings.statustype_intake, case.opened_on,
                          toelichting=f"Overname re-integratie vastgesteld ({case.ref})")
        store.record_audit(session, actor=ACTOR, action="zaak.status", case_id=case.id, details={"status": "intake"})
    elif item.effect == "zaak.rol":
        client.add_rol_natuurlijk_persoon(case.zaak_url, settings.roltype_betrokkene, case.bsn,
                                          roltoelichting="Vangnetter (betrokkene)")
        store.record_audit(session, actor=ACTOR, action="zaak.rol", case_id=case.id, details={"rol": "betrokkene"})
    elif item.effect == "zaak.close":
        client.close_zaak(case.zaak_url, datum=case.closed_on, toelichting=f"Zaak {case.ref} afgesloten")
        store.record_audit(session, actor=ACTOR, action="zaak.closed", case_id=case.id,
                           details={"closed_on": case.closed_on.isoformat(), "status": case.status.value})


def _stored_already(client, effect: str, zaak_url: str) -> bool:
    """Whether an earlier attempt of `effect` reached the zaak after all (its answer was lost): the intake
    status is the zaak's first status, the betrokkene its only rol, and closing sets the einddatum."""
    progress = client.zaak_progress(zaak_url)
    return {"zaak.status": progress.status is not None, "zaak.rol": progress.rollen > 0,
            "zaak.close": progress.einddatum is not None}[effect]
