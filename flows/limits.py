"""Prefect global concurrency and rate limits per external partner, so a backlog never floods one.

Every partner has two global limits on the Prefect server:

- `<partner>`: a concurrency limit, how many runs may talk to the partner at once. A run holds one
  slot for the whole section that talks to it (`partner_slot`), not one per record: every
  acquisition is a round trip to the Prefect server.
- `<partner>:rate`: a rate limit (Prefect's `slot_decay_per_second`) paced once per page, batch or
  group of outbound calls (`partner_pace`), never per record. Its unit is therefore "paced units
  per second"; within a unit the calls are sequential, so the concurrency limit is what bounds the
  parallel load and the rate limit bounds how fast a backlog is walked.

| partner                 | concurrency | rate (units/s)        |
|-------------------------|-------------|-----------------------|
| `ib`                    | 1           | 2 pages               |
| `suwinet`               | 1           | 5 batches             |
| `zgw`                   | 2           | 10 batches            |
| `arbodienst:<name>`     | 1           | 5 batch tasks         |
| `invoice-feed:<name>`   | 1           | 5 pages               |

The defaults are deliberately conservative: IB and Suwinet (BKWI) are shared government services
with per-organisation fair-use agreements, where a gemeente that floods them is throttled or cut
off for everybody in it; a zaaksysteem is shared with the gemeente's other applications; arbodiensten
and providers run small APIs with no published capacity. A nightly backlog still drains in minutes.

A limit is created with its default the first time a flow needs it and never overwritten: an
operator may tune it (or deactivate it to lift it) in the Prefect UI or with `prefect gcl`.

Every acquisition is a write on the Prefect server. On the local SQLite server a write that meets
another one (task states, logs, events of the same flows) is answered 503 and Prefect's client
retries it after about 2 s, so a slot or pace costs ~15 ms when quiet and sometimes ~2 s: keep them
few. Measured while a run's tasks report to the server (pages of 10 signals, a task every ~0.3 s),
four in ten paces took the 2 s. Hence: `partner_slots` and `partner_pace` take several partners in
one round trip, and `Pacer` acquires the next page's units in the background while a page works, so
a run that paces every page waits only when the rate limit itself says so.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

IB = "ib"
SUWINET = "suwinet"
ZGW = "zgw"
ARBODIENST = "arbodienst"
INVOICE_FEED = "invoice-feed"
RATE_SUFFIX = ":rate"


@dataclass(frozen=True)
class PartnerDefaults:
    """What a partner's limits are created with: runs at once, and paced units per second."""

    concurrency: int
    per_second: float

    @property
    def burst(self) -> int:
        """The rate limit's size: at most one second's worth of units back to back."""
        return max(1, round(self.per_second))


DEFAULTS: dict[str, PartnerDefaults] = {
    IB: PartnerDefaults(concurrency=1, per_second=2),
    SUWINET: PartnerDefaults(concurrency=1, per_second=5),
    ZGW: PartnerDefaults(concurrency=2, per_second=10),
    ARBODIENST: PartnerDefaults(concurrency=1, per_second=5),
    INVOICE_FEED: PartnerDefaults(concurrency=1, per_second=5),
}
FALLBACK = PartnerDefaults(concurrency=1, per_second=1)
"""For a partner name this module does not know: the most careful choice."""


def arbodienst(name: str) -> str:
    """The limit name of the arbodienst called `name`."""
    return f"{ARBODIENST}:{name}"


def invoice_feed(feed: str) -> str:
    """The limit name of the provider invoice feed `feed`."""
    return f"{INVOICE_FEED}:{feed}"


def rate_name(partner: str) -> str:
    """The rate limit that paces `partner`."""
    return partner + RATE_SUFFIX


def defaults_for(partner: str) -> PartnerDefaults:
    """Defaults by partner kind: `arbodienst:acme` has the defaults of `arbodienst`."""
    return DEFAULTS.get(partner.split(":", 1)[0], FALLBACK)


def partner_limit_names(settings=None) -> list[str]:
    """Every limit name (concurrency and rate) of the partners configured in `settings`."""
    from flows.settings import Settings

    s = settings or Settings()
    partners = [IB]  # intake always has one: without an endpoint it is the local simulator
    partners += [SUWINET] if (s.suwinet_reintegratie_endpoint or s.suwinet_wv_endpoint) else []
    partners += [ZGW] if s.zgw_base_url else []
    partners += [arbodienst(s.arbodienst_name)] if s.arbodienst_base_url else []
    partners += [invoice_feed(feed) for feed in s.provider_feeds]
    return [name for partner in partners for name in (partner, rate_name(partner))]


def ensure_limit(name: str, limit: int, per_second: float | None = None) -> bool:
    """Create the global limit `name` (a rate limit when `per_second` is given) unless it exists.
    True when it was made; an existing limit is left as it is: an operator may have tuned it."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
    from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound

    with get_client(sync_client=True) as client:
        try:
            client.read_global_concurrency_limit_by_name(name)
            return False
        except ObjectNotFound:
            pass
        try:
            client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(
                name=name, limit=limit, slot_decay_per_second=per_second or 0.0))
            return True
        except ObjectAlreadyExists:  # another run made it meanwhile
            return False


def _ensure_concurrency(partner: str) -> bool:
    return ensure_limit(partner, defaults_for(partner).concurrency)


def _ensure_rate(partner: str) -> bool:
    defaults = defaults_for(partner)
    return ensure_limit(rate_name(partner), defaults.burst, defaults.per_second)


@contextmanager
def partner_slot(partner: str) -> Iterator[None]:
    """Hold one slot of the concurrency limit `partner` (created when missing) while inside; waits
    while other runs hold all slots. Use once around a run's section that talks to the partner."""
    with partner_slots(partner):
        yield


@contextmanager
def partner_slots(*partners: str) -> Iterator[None]:
    """`partner_slot` for several partners at once: one slot of each, taken and given back together
    (one round trip each way instead of one per partner)."""
    from prefect.concurrency.sync import concurrency

    for partner in partners:
        _ensure_concurrency(partner)
    if not partners:
        yield
        return
    with concurrency(list(partners), occupy=1, strict=True):
        yield


_paced: set[str] = set()  # rate limits known to exist in this process: one server check each, not one per page


def partner_pace(*partners: str, units: int = 1) -> None:
    """Wait until the rate limit `partner:rate` (created when missing) of each partner lets `units` more
    through; several partners in one round trip. Call once per page, batch or group of calls, never
    per record."""
    from prefect.concurrency.asyncio import ConcurrencySlotAcquisitionError
    from prefect.concurrency.sync import rate_limit

    if not partners:
        return
    for partner in partners:
        if partner not in _paced:
            _ensure_rate(partner)
            _paced.add(partner)
    names = [rate_name(partner) for partner in partners]
    try:
        rate_limit(names, occupy=units, strict=True)
    except ConcurrencySlotAcquisitionError:
        _paced.difference_update(partners)
        made = [_ensure_rate(partner) for partner in partners]
        if not any(made) and units > 1:  # e.g. a limit tuned smaller than `units`: one at a time
            for _ in range(units):
                rate_limit(names, occupy=1, strict=True)
        elif not any(made):  # they all exist, so this is another problem (e.g. decay set to 0)
            raise
        else:
            rate_limit(names, occupy=units, strict=True)  # an operator had deleted one
        _paced.update(partners)


class Pacer:
    """Paces `partners` once per page, taking units for the coming pages in the background while pages work.

    `wait()` at the start of every page: it returns when this page's units are there (at once, when they
    were taken meanwhile). Units are taken in lots of `ahead` pages per round trip (at most the smallest
    rate limit's size, read once), and the next lot is asked for as soon as the last one is in hand, so
    an acquisition has `ahead` pages of work to hide behind: on the local SQLite server one in two
    acquisitions meets another write and waits ~2 s for Prefect's retry. The rate limits bound the pages
    exactly as `partner_pace` per page does; at the end of a run up to two lots' units may go unused.
    Use as a context manager: leaving it waits for an acquisition under way, so no thread outlives it.
    """

    def __init__(self, *partners: str, ahead: int = 2) -> None:
        self.partners = tuple(partners)
        self.ahead = max(1, ahead)
        self._lot: int | None = None
        self._in_hand = 0
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vangnet-pace")
        self._next: Future | None = None

    def _take_lot(self) -> int:
        if self._lot is None:
            for partner in self.partners:
                if partner not in _paced:
                    _ensure_rate(partner)
                    _paced.add(partner)
            self._lot = min([self.ahead] + _rate_sizes(self.partners))
        partner_pace(*self.partners, units=self._lot)
        return self._lot

    def _start(self) -> Future:
        context = contextvars.copy_context()  # the run's Prefect settings and context, in the pool's thread
        return self._pool.submit(context.run, self._take_lot)

    def wait(self) -> None:
        if not self.partners:
            return
        if not self._in_hand:
            current, self._next = self._next or self._start(), None
            self._in_hand = current.result()
        self._in_hand -= 1
        if self._next is None:
            self._next = self._start()

    def __enter__(self) -> "Pacer":
        return self

    def __exit__(self, *exc_info) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def _rate_sizes(partners) -> list[int]:
    """The size (units at once) of each partner's active rate limit, as it is on the server now."""
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    sizes = []
    with get_client(sync_client=True) as client:
        for partner in partners:
            try:
                limit = client.read_global_concurrency_limit_by_name(rate_name(partner))
            except ObjectNotFound:
                continue  # deleted meanwhile: partner_pace makes it again, with its default size
            if limit.active:
                sizes.append(limit.limit)
    return sizes
