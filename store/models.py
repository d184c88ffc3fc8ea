"""The database tables (SQLAlchemy 2 declarative). Portable between SQLite and PostgreSQL.

Any change here needs a new migration in store/migrations/versions; tests compare the two.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    inspect,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from schemas.case import Besluit, CaseStatus, Stap
from schemas.lks import LksBron
from schemas.signal import EzwbUitkomst, RedenEinde, SignaalSoort, WettelijkeGrondslag
from store.db import utcnow
from store.types import UTCDateTime, str_enum

CASE_REF_PREFIX = "VN-"


class InboxStatus(StrEnum):
    NEW = "NEW"
    PROCESSED = "PROCESSED"
    QUARANTINED = "QUARANTINED"
    DUPLICATE = "DUPLICATE"


class SignalStatus(StrEnum):
    NIEUW = "NIEUW"
    VERWERKT = "VERWERKT"
    GEPARKEERD = "GEPARKEERD"
    GECORRIGEERD = "GECORRIGEERD"  # superseded by a CORRECTIE (fits VARCHAR(16): no migration)
    INGETROKKEN = "INGETROKKEN"  # withdrawn by an INTREKKING


class OutboxStatus(StrEnum):
    PENDING = "PENDING"
    DONE = "DONE"
    FAILED = "FAILED"


class ConsultPurpose(StrEnum):
    PROBLEEMANALYSE = "probleemanalyse"
    HERBEOORDELING = "herbeoordeling"


class OrderKind(StrEnum):
    REGIE = "regie"
    TRAJECT = "traject"


NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Money = Numeric(12, 2)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON()}

    def __repr__(self) -> str:
        # Only the key and status: rows hold BSNs and health-related dates that must not reach logs.
        state = inspect(self)
        key = state.identity[0] if state.identity else None
        status = getattr(self, "status", None)
        extra = f" status={status}" if status is not None else ""
        return f"<{type(self).__name__} {key}{extra}>"


class InboxMessage(Base):
    """A raw inbound message, committed before any parsing. The same bytes from one source are one row."""

    __tablename__ = "inbox_messages"
    __table_args__ = (
        UniqueConstraint("source", "content_sha256"),
        Index(None, "source", "status", "received_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(32))
    message_key: Mapped[str | None] = mapped_column(String(128))
    content_sha256: Mapped[str] = mapped_column(String(64))
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    content_type: Mapped[str] = mapped_column(String(100))
    received_at: Mapped[datetime]
    status: Mapped[InboxStatus] = mapped_column(str_enum(InboxStatus, 16), default=InboxStatus.NEW)
    processed_at: Mapped[datetime | None]
    status_reason: Mapped[str | None] = mapped_column(Text)


class IntakeCursor(Base):
    """The last sequence number taken in per source (pull intake)."""

    __tablename__ = "intake_cursors"

    source: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_volgnummer: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SignalRow(Base):
    """A parsed signal (schemas.signal.Signal), unique on bericht_id."""

    __tablename__ = "signals"
    __table_args__ = (Index("ix_signals_status", "status"), Index("ix_signals_verwijst_naar", "verwijst_naar"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    inbox_id: Mapped[int] = mapped_column(ForeignKey("inbox_messages.id"), index=True)
    bericht_id: Mapped[str] = mapped_column(String(64), unique=True)
    volgnummer: Mapped[int] = mapped_column(BigInteger)
    soort: Mapped[SignaalSoort] = mapped_column(str_enum(SignaalSoort, 32))
    bsn: Mapped[str] = mapped_column(String(9))
    gemeentecode: Mapped[str] = mapped_column(String(4))
    eerste_ziektedag: Mapped[date | None]
    datum_einde_dienstverband: Mapped[date | None]
    datum_melding: Mapped[date | None]
    wettelijke_grondslag: Mapped[WettelijkeGrondslag | None] = mapped_column(str_enum(WettelijkeGrondslag, 16))
    werkgever_loonheffingennummer: Mapped[str | None] = mapped_column(String(12))
    datum_herstel: Mapped[date | None]
    datum_einde_zw: Mapped[date | None]
    reden_einde: Mapped[RedenEinde | None] = mapped_column(str_enum(RedenEinde, 16))
    ezwb_uitkomst: Mapped[EzwbUitkomst | None] = mapped_column(str_enum(EzwbUitkomst, 16))
    ezwb_datum: Mapped[date | None]
    nieuwe_gemeentecode: Mapped[str | None] = mapped_column(String(4))
    verwijst_naar: Mapped[str | None] = mapped_column(String(64))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    status: Mapped[SignalStatus] = mapped_column(str_enum(SignalStatus, 16), default=SignalStatus.NIEUW)
    received_at: Mapped[datetime]


class FeedCursor(Base):
    """Where an external feed with opaque text cursors (a provider's invoice feed) was read up to."""

    __tablename__ = "feed_cursors"

    source: Mapped[str] = mapped_column(String(100), primary_key=True)
    cursor: Mapped[str] = mapped_column(String(500))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class QuarantineRow(Base):
    """A record that could not be processed, with a reason a person understands."""

    __tablename__ = "quarantine"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    inbox_id: Mapped[int] = mapped_column(ForeignKey("inbox_messages.id"), index=True)
    bericht_id: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]
    resolution: Mapped[str | None] = mapped_column(Text)


class Case(Base):
    """One vangnetter case. At most one active case (closed_on IS NULL) per (gemeentecode, bsn)."""

    __tablename__ = "cases"
    __table_args__ = (
        Index(
            "uq_cases_active_person",
            "gemeentecode",
            "bsn",
            unique=True,
            sqlite_where=text("closed_on IS NULL"),
            postgresql_where=text("closed_on IS NULL"),
        ),
        Index("ix_cases_status_id", "status", "id"),  # `cases list --status`, paged newest first
        Index("ix_cases_gemeentecode_bsn", "gemeentecode", "bsn"),  # a person's closed cases (illness periods)
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    gemeentecode: Mapped[str] = mapped_column(String(4))
    bsn: Mapped[str] = mapped_column(String(9))
    eerste_ziektedag: Mapped[date | None]
    datum_einde_dienstverband: Mapped[date | None]
    datum_melding: Mapped[date | None]
    datum_ontvangst: Mapped[date]
    besluit: Mapped[Besluit | None] = mapped_column(str_enum(Besluit, 32))
    reden: Mapped[str | None] = mapped_column(Text)
    status: Mapped[CaseStatus] = mapped_column(str_enum(CaseStatus, 16), default=CaseStatus.OPEN)
    zaak_identificatie: Mapped[str | None] = mapped_column(String(40))
    zaak_url: Mapped[str | None] = mapped_column(String(1000))
    opened_on: Mapped[date]
    closed_on: Mapped[date | None]
    closed_reason: Mapped[str | None] = mapped_column(Text)
    anonymised_on: Mapped[date | None]
    """Set by the retention flow: the BSN and the dossier's content are gone, the counts remain."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @property
    def ref(self) -> str:
        """Public reference, e.g. "VN-000012" (safe for logs, run names and letters)."""
        return f"{CASE_REF_PREFIX}{self.id:06d}"


class WvpStep(Base):
    """One WVP step of a case with its due date and what actually happened."""

    __tablename__ = "wvp_steps"
    __table_args__ = (
        UniqueConstraint("case_id", "stap"),
        # The deadline monitor: steps not done by due date; holds every column it reads (index-only scan).
        Index(
            "ix_wvp_steps_open_due",
            "datum",
            "case_id",
            "stap",
            "gemeente_verantwoordelijk",
            sqlite_where=text("done_on IS NULL"),
            postgresql_where=text("done_on IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    stap: Mapped[Stap] = mapped_column(str_enum(Stap, 32))
    datum: Mapped[date]
    wettelijke_datum: Mapped[date]
    onverwijld: Mapped[bool] = mapped_column(Boolean, default=False)
    gemeente_verantwoordelijk: Mapped[bool] = mapped_column(Boolean, default=True)
    done_on: Mapped[date | None]
    deviation_reason: Mapped[str | None] = mapped_column(Text)
    deviation_consulted_on: Mapped[date | None]


class Consult(Base):
    """An appointment with the bedrijfsarts; `idempotency_key` is sent with the booking."""

    __tablename__ = "consults"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    purpose: Mapped[ConsultPurpose] = mapped_column(str_enum(ConsultPurpose, 32))
    status: Mapped[str] = mapped_column(String(32))
    latest_date: Mapped[date | None]
    slot_start: Mapped[datetime | None]
    booking_ref: Mapped[str | None] = mapped_column(String(128))
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    outcome: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Order(Base):
    """An order (opdracht) to a provider; invoices are matched to it by order_number."""

    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    order_number: Mapped[str] = mapped_column(String(64), unique=True)
    provider_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[OrderKind] = mapped_column(str_enum(OrderKind, 16))
    roles: Mapped[dict[str, Any]]  # role -> hourly rate excl. VAT (as a string, e.g. "125.00")
    budget_hours: Mapped[dict[str, Any] | None]  # role -> ordered hours
    budget_amount: Mapped[Decimal | None] = mapped_column(Money)
    start_date: Mapped[date]
    end_date: Mapped[date | None]
    status: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ConsultAdvice(Base):
    """The bedrijfsarts' advice after the medical-data guard: only the allowed functional fields.

    What the guard dropped is never stored; `dropped_fields` counts it (the audit names the field kinds).
    """

    __tablename__ = "consult_advice"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    consult_id: Mapped[int] = mapped_column(ForeignKey("consults.id"), unique=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    advice: Mapped[dict[str, Any]]
    dropped_fields: Mapped[int] = mapped_column(Integer, default=0)
    guard_version: Mapped[str] = mapped_column(String(16))


class OrderReport(Base):
    """A report a provider owes under an order (e.g. 6-8 weeks after the start); missing ones are overdue."""

    __tablename__ = "order_reports"
    __table_args__ = (UniqueConstraint("order_id", "kind", "due_date"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    due_date: Mapped[date]
    received_on: Mapped[date | None]


class Invoice(Base):
    """A received e-invoice as read and checked; the raw UBL stays in the inbox (one invoice per inbox row).

    The same supplier + invoice number may occur twice: the second is kept (and rejected as a duplicate)
    so the provider hears why. `verdict` is the current state: the rules' `auto_verdict`, changed by a
    clerk's `decision` on a DISPUTED invoice. No personal data: invoices reach a case only via the order.
    """

    __tablename__ = "invoices"
    __table_args__ = (Index("ix_invoices_supplier_id_invoice_number", "supplier_id", "invoice_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    inbox_id: Mapped[int] = mapped_column(ForeignKey("inbox_messages.id"), unique=True)
    source_ref: Mapped[str | None] = mapped_column(String(300))  # feed:<name>:<item id> or drop:<file name>
    document: Mapped[str] = mapped_column(String(16))
    profile: Mapped[str | None] = mapped_column(String(32))
    supplier_id: Mapped[str] = mapped_column(String(64))
    invoice_number: Mapped[str] = mapped_column(String(64))
    order_number: Mapped[str | None] = mapped_column(String(64), index=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    type_code: Mapped[str] = mapped_column(String(8))
    issue_date: Mapped[date]
    period_start: Mapped[date | None]
    period_end: Mapped[date | None]
    currency: Mapped[str] = mapped_column(String(3))
    total_excl_vat: Mapped[Decimal] = mapped_column(Money)
    total_vat: Mapped[Decimal] = mapped_column(Money)
    total_incl_vat: Mapped[Decimal] = mapped_column(Money)
    billed_hours: Mapped[dict[str, Any]] = mapped_column(JSON)  # role -> hours (str), negative for a credit note
    billed_amount: Mapped[Decimal] = mapped_column(Money)  # excl. VAT, negative for a credit note
    billing_references: Mapped[list[str]] = mapped_column(JSON)
    content_fingerprint: Mapped[str] = mapped_column(String(64), index=True)
    auto_verdict: Mapped[str] = mapped_column(String(16))
    verdict: Mapped[str] = mapped_column(String(16), index=True)
    decision: Mapped[str | None] = mapped_column(String(16))  # approve / reject / partial
    approved_amount: Mapped[Decimal | None] = mapped_column(Money)  # excl. VAT, for a partial approval
    decision_reason: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class InvoiceFinding(Base):
    """One validation or reconciliation finding on an invoice."""

    __tablename__ = "invoice_findings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    severity: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(32))
    line: Mapped[str | None] = mapped_column(String(64))  # the invoice line's cbc:ID
    message: Mapped[str] = mapped_column(Text)
    location: Mapped[str | None] = mapped_column(Text)


class InvoiceExport(Base):
    """An approved invoice handed to finance: one row per invoice (the export's idempotency key).

    Rows are committed with their `batch` before the booking file is written; `written_at` is set once
    the batch's files are on disk, so a crash in between rewrites the same batch rather than a new one.
    """

    __tablename__ = "invoice_exports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), unique=True)
    batch: Mapped[str] = mapped_column(String(64), index=True)
    amount_excl_vat: Mapped[Decimal] = mapped_column(Money)
    vat: Mapped[Decimal] = mapped_column(Money)
    exported_at: Mapped[datetime] = mapped_column(default=utcnow)
    written_at: Mapped[datetime | None]


class OutboxItem(Base):
    """An external effect to perform (once) after the transaction that decided it has committed."""

    __tablename__ = "outbox"
    __table_args__ = (Index(None, "effect", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    effect: Mapped[str] = mapped_column(String(64))
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    payload: Mapped[dict[str, Any]]
    status: Mapped[OutboxStatus] = mapped_column(str_enum(OutboxStatus, 16), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    done_at: Mapped[datetime | None]


class AuditEvent(Base):
    """The dossier (Regeling art. 4). Append-only: see store.audit and the migration's trigger."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    details: Mapped[dict[str, Any] | None]


class LksRecord(Base):
    """One LKS period of a person (schemas.lks.LksPeriode plus the BSN). A period is identified by
    who granted it, when it began and where it was found: a re-import updates einde and percentage."""

    __tablename__ = "lks_periods"
    __table_args__ = (UniqueConstraint("bsn", "gemeentecode", "begin", "bron"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bsn: Mapped[str] = mapped_column(String(9))
    gemeentecode: Mapped[str] = mapped_column(String(4))  # the granting gemeente
    begin: Mapped[date]
    einde: Mapped[date | None]
    loonwaarde_pct: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    bron: Mapped[LksBron] = mapped_column(str_enum(LksBron, 16))
    type_code: Mapped[str | None] = mapped_column(String(16))
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)


class PlanVanAanpak(Base):
    """One version of a case's plan van aanpak (Regeling art. 5). Versions are never changed: a
    bijstelling (art. 5(4)) is the next version, with the reason that gave cause."""

    __tablename__ = "plans_van_aanpak"
    __table_args__ = (UniqueConstraint("case_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    agreed_on: Mapped[date]
    contact_person: Mapped[str] = mapped_column(String(100))
    activities: Mapped[list[Any]] = mapped_column(JSON)  # [{"activiteit", "doel", "streefdatum"}]
    evaluation_moments: Mapped[list[Any]] = mapped_column(JSON)  # ISO dates
    reason: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PlanCopy(Base):
    """A copy of a plan version sent to the vangnetter or the contact person (art. 5: recorded)."""

    __tablename__ = "plan_copies"
    __table_args__ = (UniqueConstraint("plan_id", "recipient"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans_van_aanpak.id"), index=True)
    recipient: Mapped[str] = mapped_column(String(16))
    sent_on: Mapped[date]
    recorded_by: Mapped[str] = mapped_column(String(64))


class LadderEntry(Base):
    """The case's trede on the re-integratieladder (0-9) from a date on."""

    __tablename__ = "ladder_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    trede: Mapped[int] = mapped_column(Integer)
    since: Mapped[date]
    recorded_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CaseInstrument(Base):
    """A re-integration instrument (schemas.dossier.Instrument) used by a case, from `started_on` to `ended_on`."""

    __tablename__ = "case_instruments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    instrument: Mapped[str] = mapped_column(String(32))
    started_on: Mapped[date]
    ended_on: Mapped[date | None]
    recorded_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DossierEntry(Base):
    """A piece of the dossier no other record supplies (schemas.dossier.EntryKind): the last job, an
    evaluation, the vangnetter's opinion, ... Text written by staff for the RIV; never a diagnosis."""

    __tablename__ = "dossier_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    entry_date: Mapped[date]
    text: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RivDocument(Base):
    """A re-integratieverslag as generated: its version, fingerprint and gaps; `final` when handed over."""

    __tablename__ = "riv_documents"
    __table_args__ = (UniqueConstraint("case_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    generated_on: Mapped[date]
    sha256: Mapped[str] = mapped_column(String(64))
    gaps: Mapped[list[Any]] = mapped_column(JSON)  # part letters
    final: Mapped[bool] = mapped_column(Boolean, default=False)
    recorded_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
