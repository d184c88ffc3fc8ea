"""Signal intake: pull IB pages into the inbox (raw first), then turn inbox messages into signals.

Invariants (architecture.md): every message is committed to the inbox before it is parsed, and the
sender is acknowledged only after that commit; a bad message is quarantined with a reason and the rest
of the batch carries on; a repeated message changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlalchemy.exc import InterfaceError, OperationalError

import store
from lxml import etree

from mappings.ib_signal import SIGNAAL_TAG, SignalStructureError, signal_element_to_fields, signal_schema_problems
from mappings.safe_xml import UnsafeXmlError, parse_xml
from rules.signals import InvalidSignal, check_signal
from services.cases import apply_signal, replay_parked
from store.models import InboxStatus

MAX_BERICHT_ID = 64  # ib-signalen.xsd BerichtId maxLength
MAX_SIGNAL_BYTES = 64 * 1024  # one signal is well under 2 KB; anything near this is not a signal
DUTCH_TIME = ZoneInfo("Europe/Amsterdam")
SOURCE_IB = "ib"  # inbox source of everything IB sends, pulled or imported from a file


class SignalSource(Protocol):
    """What intake needs from a signal sender (the IB connector, or a stand-in)."""

    def fetch_page(self, after: int, max_count: int): ...

    def acknowledge(self, upto: int) -> None: ...


@dataclass
class PageResult:
    """Outcome of pulling one page."""

    received: int = 0
    new: int = 0
    cursor: int = 0
    more: bool = False
    gaps: list[tuple[int, int]] = field(default_factory=list)


@dataclass
class BatchResult:
    """Outcome of processing one inbox batch: counts only, never content."""

    claimed: int = 0
    signals_new: int = 0
    duplicates: int = 0
    quarantined: int = 0
    parked: int = 0
    cases_created: int = 0
    case_refs: list[str] = field(default_factory=list)

    def add(self, other: BatchResult) -> None:
        for name in ("claimed", "signals_new", "duplicates", "quarantined", "parked", "cases_created"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.case_refs += other.case_refs


def pull_page(client: SignalSource, engine: Engine, *, source: str, page_size: int, now: datetime) -> PageResult:
    """Fetch the page after our cursor, store it raw with the new cursor in one transaction, then ack."""
    with store.session_scope(engine) as session:
        cursor = store.get_cursor(session, source)
    page = client.fetch_page(after=cursor, max_count=page_size)
    result = PageResult(received=len(page.signals), cursor=cursor, more=bool(page.more))
    numbers = sorted({raw.volgnummer for raw in page.signals if raw.volgnummer is not None and raw.volgnummer > cursor})
    result.gaps = find_gaps(cursor, numbers)
    with store.session_scope(engine) as session:
        for raw in page.signals:
            _, created = store.add_raw(session, source=source, payload=raw.xml, received_at=now,
                                       message_key=raw.bericht_id)
            result.new += created
        if numbers:
            result.cursor = numbers[-1]
            store.set_cursor(session, source, result.cursor)
    if result.cursor > cursor:
        client.acknowledge(result.cursor)  # only after the commit above: nothing acknowledged is lost
    return result


def find_gaps(cursor: int, numbers: list[int]) -> list[tuple[int, int]]:
    """Missing sequence numbers (inclusive ranges) between `cursor` and the sorted `numbers`."""
    gaps, expected = [], cursor + 1
    for number in numbers:
        if number > expected:
            gaps.append((expected, number - 1))
        expected = number + 1
    return gaps


def process_inbox_batch(engine: Engine, *, source: str, limit: int, today: date) -> BatchResult:
    """Claim up to `limit` new inbox messages and turn each into a signal, a duplicate or a quarantine."""
    result = BatchResult()
    with store.session_scope(engine) as session:
        for message in store.claim_inbox(session, source, limit):
            result.claimed += 1
            try:
                with session.begin_nested():
                    _process_message(session, message, today, result)
            except (OperationalError, InterfaceError):
                raise  # the database, not the message, is in trouble: fail the batch, retry it whole
            except Exception as exc:  # noqa: BLE001 - quarantine, don't crash; the type says enough
                reason = f"interne fout bij verwerken ({type(exc).__name__}); meld dit aan beheer"
                store.quarantine(session, inbox_id=message.id, reason=reason, bericht_id=message.message_key)
                store.mark_inbox(session, message, InboxStatus.QUARANTINED, reason)
                result.quarantined += 1
        if result.claimed < limit:
            _sweep_parked(session)
    return result


def _sweep_parked(session) -> None:
    """The inbox is drained: retry every parked signal. Another worker may have parked one while the
    signal it waits for was applied here (PostgreSQL, concurrent batches); this way none stays stranded."""
    try:
        with session.begin_nested():
            replay_parked(session, every=True)
    except (OperationalError, InterfaceError):
        raise
    except Exception as exc:  # noqa: BLE001 - the parked signals stay parked; the trail says the sweep failed
        store.record_audit(session, actor="vangnet/intake", action="signals.sweep_failed",
                           details={"fout": type(exc).__name__})


def _process_message(session, message, today: date, result: BatchResult) -> None:
    try:
        element = parse_xml(message.payload, max_bytes=MAX_SIGNAL_BYTES)
        fields = signal_element_to_fields(element)
        signal = check_signal(fields, today=today)  # first: its reasons are the clearest
        problems = signal_schema_problems(element)
        if problems:
            raise InvalidSignal(signal.bericht_id, problems)
    except (UnsafeXmlError, SignalStructureError, InvalidSignal) as exc:
        bericht_id = getattr(exc, "bericht_id", None) or message.message_key
        if bericht_id is not None and len(bericht_id) > MAX_BERICHT_ID:
            bericht_id = None  # longer than the contract allows (and than the quarantine's column)
        store.quarantine(session, inbox_id=message.id, reason=str(exc), bericht_id=bericht_id)
        store.mark_inbox(session, message, InboxStatus.QUARANTINED, str(exc))
        result.quarantined += 1
        return
    row, created = store.add_signal(session, signal, inbox_id=message.id, received_at=message.received_at)
    if not created:
        store.mark_inbox(session, message, InboxStatus.DUPLICATE, f"bericht {signal.bericht_id} was al ontvangen")
        result.duplicates += 1
        return
    result.signals_new += 1
    applied = apply_signal(session, row, signal, received_on=message.received_at.astimezone(DUTCH_TIME).date())
    result.parked += applied.parked
    if applied.case_created:
        result.cases_created += 1
        result.case_refs.append(applied.case.ref)
    store.mark_inbox(session, message, InboxStatus.PROCESSED)


MAX_FILE_BYTES = 50 * 1024 * 1024


@dataclass
class ImportResult:
    """Outcome of storing a signal file in the inbox."""

    found: int = 0
    new: int = 0
    unreadable: bool = False


def import_signal_file(engine: Engine, data: bytes, *, source: str, now: datetime) -> ImportResult:
    """Store every ``Signaal`` of a downloaded signal file in the inbox, exactly as a pull would.

    A file that can't be read safely is stored whole, so processing quarantines it with the reason
    and nothing the user handed us is lost. The same signal imported twice (or also pulled) is one row.
    """
    if len(data) > MAX_FILE_BYTES:
        raise ValueError(f"het bestand is {len(data)} bytes; de grens is {MAX_FILE_BYTES} bytes: splits het op")
    try:
        root = parse_xml(data, max_bytes=MAX_FILE_BYTES)
        payloads = [etree.tostring(el, method="c14n", exclusive=True) for el in root.iter(SIGNAAL_TAG)]
    except UnsafeXmlError:
        payloads = []
    result = ImportResult(found=len(payloads), unreadable=not payloads)
    with store.session_scope(engine) as session:
        for payload in payloads or [data]:
            _, created = store.add_raw(session, source=source, payload=payload, received_at=now)
            result.new += created
        store.record_audit(session, actor="vangnet/import", action="signals.imported",
                           details={"found": result.found, "new": result.new, "unreadable": result.unreadable})
    return result
