"""Synthetic, deterministic benchmark data: IB signals as raw inbox rows, and the gemeente's LKS registration.

What is stored per inbox row: exactly what `services.intake.pull_page` stores for one signal of an IB
``HaalSignalen`` page. The IB connector (connectors/inlichtingenbureau/client.py `_raw_signal`) cuts each
``Signaal`` element out of the SOAP page and keeps its exclusive C14N serialisation (comments kept) as
`RawSignal.xml`; `store.add_raw` stores those bytes with `message_key` = bericht_id, source "ib", status NEW,
keyed by their SHA-256. So "raw SOAP pages in the inbox" means one canonical ``Signaal`` element per row,
not the envelope (the envelope, its signature and its addressing are checked and dropped at pick-up).
`signal_payload` builds it the same way the simulator and the connector do (fields_to_signal_element + c14n).

The mix (deterministic from `seed`; shares are approximate):
- ~80 % ZIEKMELDING_VANGNETTER of a new person (95 % of persons in our gemeente 0518, 5 % elsewhere), first
  sick day within the two years before `RUN_DATE`, melding 1-10 days later, end of employment before or after
  the first sick day (or none);
- ~5 % a resent signal: the same bericht_id and content under a new volgnummer (a new inbox row, a duplicate
  signal);
- ~7 % BETERMELDING of a recent person (closes the case), ~4 % CORRECTIE of a recent ziekmelding (full record,
  later datum_melding), ~1 % a BETERMELDING that arrives before its ziekmelding (parked, then replayed);
- ~1 % a ziekmelding with a BSN failing the 11-proef (quarantined).
LKS registration (bron REGISTRATIE) for ~70 % of our persons: ~60 % a period overlapping the takeover window
(OVERNAME), ~10 % one that ended well before it (GEEN_LKS); the rest has none (HANDMATIG).

Everything is a generator yielding chunks, so 100,000 signals never sit in memory at once; `load` streams them
into a migrated store with executemany (bulk setup, not part of any timing).
"""

from __future__ import annotations

import hashlib
import random
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from lxml import etree
from sqlalchemy import insert
from sqlalchemy.engine import Engine

from mappings.ib_signal import fields_to_signal_element
from rules.identifiers import bsn_check_digit

RUN_DATE = date(2027, 3, 1)
"""The fixed 'today' of every run: dates are relative to it, so results don't depend on the calendar."""
RECEIVED_AT = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
EIGEN_GEMEENTE = "0518"
ANDERE_GEMEENTE = "0363"
SOURCE = "ib"
CHUNK = 2_000

_A, _SPAN = 7_919, 90_000_000  # 7919 is prime and coprime with the span: k -> (A*k + b) % span is a bijection


def bsns(seed: int) -> Iterator[str]:
    """Unique synthetic BSNs passing the 11-proef, in a seed-dependent order (never real on purpose: the
    sequence is arbitrary, but treat them as test data only)."""
    offset = random.Random(seed).randrange(_SPAN)
    for k in range(_SPAN):
        prefix = 10_000_000 + (_A * k + offset) % _SPAN
        check = bsn_check_digit(prefix)
        if check is not None:
            yield f"{prefix:08d}{check}"


def invalid_bsn(valid: str) -> str:
    """The same number with another check digit: 9 digits (passes the XSD) but fails the 11-proef."""
    return valid[:8] + str((int(valid[8]) + 1) % 10)


def signal_payload(record: dict[str, Any]) -> bytes:
    """The inbox bytes of one signal: the ``Signaal`` element as the IB connector keeps it (exclusive C14N)."""
    return etree.tostring(fields_to_signal_element(record), method="c14n", exclusive=True, with_comments=True)


@dataclass
class Chunk:
    """A slice of the data set: inbox payloads (bytes, bericht_id) and LKS rows (store column values)."""

    inbox: list[tuple[bytes, str]] = field(default_factory=list)
    lks: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Mix:
    """How many of each kind were generated (for the notes; the checks of the outcome use it too)."""

    ziekmelding: int = 0
    resent: int = 0
    betermelding: int = 0
    correctie: int = 0
    early_betermelding: int = 0
    invalid: int = 0
    lks: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


def _ziekmelding(rng: random.Random, n: int, bsn: str, gemeente: str) -> dict[str, Any]:
    eerste = RUN_DATE - timedelta(days=rng.randint(11, 730))
    record: dict[str, Any] = {
        "bericht_id": f"BENCH-{n:07d}", "volgnummer": n, "soort": "ZIEKMELDING_VANGNETTER", "bsn": bsn,
        "gemeentecode": gemeente, "eerste_ziektedag": eerste,
        "datum_melding": eerste + timedelta(days=rng.randint(1, 10)),
        "wettelijke_grondslag": rng.choice(("ZW_38_2", "ZW_38_2", "ZW_38A_2", "ZW_38AB")),
        "werkgever_loonheffingennummer": f"{rng.randrange(10**9):09d}L01",
    }
    if rng.random() < 0.7:
        record["datum_einde_dienstverband"] = eerste + timedelta(days=rng.randint(-60, 60))
    return record


def _betermelding(rng: random.Random, n: int, of: dict[str, Any]) -> dict[str, Any]:
    herstel = min(RUN_DATE, of["eerste_ziektedag"] + timedelta(days=rng.randint(1, 200)))
    return {"bericht_id": f"BENCH-{n:07d}", "volgnummer": n, "soort": "BETERMELDING", "bsn": of["bsn"],
            "gemeentecode": of["gemeentecode"], "datum_herstel": herstel}


def _lks(rng: random.Random, record: dict[str, Any], mix: Mix) -> dict[str, Any] | None:
    if record["gemeentecode"] != EIGEN_GEMEENTE:
        return None
    roll = rng.random()
    peil = record.get("datum_einde_dienstverband") or record["eerste_ziektedag"]
    if roll < 0.6:  # overlaps the window [peil - 2y, peil]: OVERNAME
        begin, einde = peil - timedelta(days=rng.randint(30, 600)), None if rng.random() < 0.5 else peil
    elif roll < 0.7:  # ended long before the window: GEEN_LKS
        begin = peil - timedelta(days=rng.randint(1200, 1500))
        einde = peil - timedelta(days=rng.randint(800, 1000))
    else:
        return None
    mix.lks += 1
    return {"bsn": record["bsn"], "gemeentecode": EIGEN_GEMEENTE, "begin": begin, "einde": einde,
            "loonwaarde_pct": None, "bron": "REGISTRATIE", "type_code": None, "imported_at": RECEIVED_AT}


def generate(n: int, *, seed: int = 9, chunk: int = CHUNK, mix: Mix | None = None) -> Iterator[Chunk]:
    """`n` inbox payloads (volgnummer 1..n) and the LKS rows of their persons, in chunks of about `chunk`."""
    rng = random.Random(seed)
    people = bsns(seed)
    recent: deque[dict[str, Any]] = deque(maxlen=2_000)  # targets for resends, betermeldingen, correcties
    mix = mix if mix is not None else Mix()
    out = Chunk()
    volgnummer = 0

    def emit(record: dict[str, Any]) -> None:
        out.inbox.append((signal_payload(record), record["bericht_id"]))

    def new_person() -> dict[str, Any]:
        gemeente = EIGEN_GEMEENTE if rng.random() < 0.95 else ANDERE_GEMEENTE
        record = _ziekmelding(rng, volgnummer, next(people), gemeente)
        lks = _lks(rng, record, mix)
        if lks is not None:
            out.lks.append(lks)
        return record

    while volgnummer < n:
        volgnummer += 1
        roll = rng.random()
        if roll < 0.05 and recent:
            again = dict(rng.choice(recent), volgnummer=volgnummer)  # same bericht_id, new place in the feed
            emit(again)
            mix.resent += 1
        elif roll < 0.12 and recent:
            emit(_betermelding(rng, volgnummer, rng.choice(recent)))
            mix.betermelding += 1
        elif roll < 0.16 and recent:
            target = rng.choice(recent)
            if target["soort"] != "ZIEKMELDING_VANGNETTER":
                target = recent[-1]
            fixed = dict(target, bericht_id=f"BENCH-{volgnummer:07d}", volgnummer=volgnummer, soort="CORRECTIE",
                         verwijst_naar=target["bericht_id"],
                         datum_melding=min(RUN_DATE, target["datum_melding"] + timedelta(days=1)))
            emit(fixed)
            mix.correctie += 1
        elif roll < 0.17 and volgnummer < n:  # the betermelding overtakes its ziekmelding
            record = new_person()
            emit(_betermelding(rng, volgnummer, record))
            volgnummer += 1
            record = dict(record, bericht_id=f"BENCH-{volgnummer:07d}", volgnummer=volgnummer)
            emit(record)
            mix.early_betermelding += 1
            mix.ziekmelding += 1
        elif roll < 0.18:
            record = _ziekmelding(rng, volgnummer, invalid_bsn(next(people)), EIGEN_GEMEENTE)
            emit(record)
            mix.invalid += 1
        else:
            record = new_person()
            emit(record)
            recent.append(record)
            mix.ziekmelding += 1
        if len(out.inbox) >= chunk:
            yield out
            out = Chunk()
    if out.inbox or out.lks:
        yield out


def inbox_rows(chunk: Chunk) -> list[dict[str, Any]]:
    """The chunk's payloads as `inbox_messages` rows, as `store.add_raw` writes them."""
    return [{"source": SOURCE, "content_sha256": hashlib.sha256(payload).hexdigest(), "payload": payload,
             "content_type": "application/xml", "message_key": bericht_id, "received_at": RECEIVED_AT,
             "status": "NEW"} for payload, bericht_id in chunk.inbox]


def load(engine: Engine, n: int, *, seed: int = 9, chunk: int = CHUNK) -> Mix:
    """Stream `n` signals and their LKS registration into a migrated store (one transaction per chunk)."""
    from store.models import InboxMessage, LksRecord

    mix = Mix()
    for part in generate(n, seed=seed, chunk=chunk, mix=mix):
        with engine.begin() as connection:
            if part.inbox:
                connection.execute(insert(InboxMessage.__table__), inbox_rows(part))
            if part.lks:
                connection.execute(insert(LksRecord.__table__), part.lks)
    return mix


def payloads(engine: Engine, *, chunk: int = CHUNK) -> Iterator[list[bytes]]:
    """The stored inbox payloads in id order, `chunk` at a time (the reference reads exactly these)."""
    from sqlalchemy import select

    from store.models import InboxMessage

    last = 0
    while True:
        with engine.connect() as connection:
            rows = connection.execute(select(InboxMessage.id, InboxMessage.payload).where(InboxMessage.id > last)
                                      .order_by(InboxMessage.id).limit(chunk)).all()
        if not rows:
            return
        last = rows[-1][0]
        yield [bytes(r[1]) for r in rows]
