"""Import the gemeente's own LKS registration (CSV or JSON) into the store, row by row.

Good rows are stored (bron REGISTRATIE); bad rows are reported with their row number and reason and
skipped; importing the same file again changes nothing. The audit trail gets the counts only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.engine import Engine

import store
from mappings.lks_file import LksFileError, parse_lks_file

ACTOR = "vangnet/import"

__all__ = ["ACTOR", "LksFileError", "LksImportResult", "import_lks"]


@dataclass
class LksImportResult:
    """Outcome of one import: counts, and (row number, reason) per rejected row; never a BSN."""

    read: int = 0
    stored_new: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)


def import_lks(engine: Engine, data: bytes, *, filename: str) -> LksImportResult:
    """Store the LKS periods of a registration file in one transaction.

    Raises `LksFileError` (nothing stored) when the file as a whole can't be read. A known period
    (same person, granting gemeente, begin) gets the file's einde and percentage.
    """
    bestand = parse_lks_file(data, filename=filename)
    result = LksImportResult(read=bestand.gelezen, rejected=list(bestand.afgekeurd))
    with store.session_scope(engine) as session:
        for regel in bestand.regels:
            bestaand = store.get_lks(session, regel.bsn, regel.periode)
            if bestaand is not None and store.periode_from_row(bestaand) == regel.periode:
                result.unchanged += 1
                continue
            _, created = store.upsert_lks(session, regel.bsn, regel.periode)
            if created:
                result.stored_new += 1
            else:
                result.updated += 1
        store.record_audit(session, actor=ACTOR, action="lks.imported", details={
            "formaat": bestand.formaat, "gelezen": result.read, "nieuw": result.stored_new,
            "bijgewerkt": result.updated, "ongewijzigd": result.unchanged, "afgekeurd": len(result.rejected),
        })
    return result
