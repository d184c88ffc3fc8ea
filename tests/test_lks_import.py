"""Importing the gemeente's own LKS registration (CSV and JSON): row checks with row numbers, storing,
re-import without duplicates; on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

import store
from mappings.lks_file import LksFileError, parse_lks_file
from schemas.lks import LksBron, LksPeriode
from services.lks import import_lks

A, B, C = "999990019", "999990020", "123456782"
BAD_BSN = "999990018"  # fails the 11-proef

CSV_GOOD = (
    "bsn,begin,einde,loonwaarde_pct,gemeentecode\n"
    f"{A},2022-01-01,2024-06-30,45,0518\n"
    f"{A},2024-07-01,,50.5,0518\n"
    f"{B},2019-03-01,2020-02-29,,0344\n"
).encode()


def count_rows(engine) -> int:
    with store.session_scope(engine) as s:
        return s.scalar(select(func.count()).select_from(store.LksRecord))


def lks_of(engine, bsn: str) -> list[LksPeriode]:
    with store.session_scope(engine) as s:
        return store.lks_for_person(s, bsn)


# --- the file mapping (pure) ---------------------------------------------------------------------


def test_csv_with_comma_open_end_and_empty_percentage():
    bestand = parse_lks_file(CSV_GOOD, filename="lks.csv")
    assert bestand.formaat == "csv" and bestand.gelezen == 3 and bestand.afgekeurd == []
    assert [r.rij for r in bestand.regels] == [2, 3, 4]
    first, open_, other = (r.periode for r in bestand.regels)
    assert first == LksPeriode(begin=date(2022, 1, 1), einde=date(2024, 6, 30), loonwaarde_pct=Decimal("45"),
                               gemeentecode="0518", bron=LksBron.REGISTRATIE)
    assert open_.einde is None and open_.loonwaarde_pct == Decimal("50.50")
    assert other.loonwaarde_pct is None and other.einde == date(2020, 2, 29)
    assert A not in repr(bestand) and B not in repr(bestand)


def test_csv_with_semicolons_decimal_comma_bom_and_extra_columns():
    data = (
        "\ufeffBSN;Begin;Einde;Loonwaarde_pct;Gemeentecode;naam;type_code\n"
        f"{A};2023-01-01;2023-12-31;45,5;0518;Jan;LKS\n"
        f"{B};2023-01-01;;62,25%;0518;Piet;\n"
    ).encode("utf-8")
    bestand = parse_lks_file(data, filename="LKS-export.CSV")
    assert bestand.afgekeurd == []
    assert [r.periode.loonwaarde_pct for r in bestand.regels] == [Decimal("45.50"), Decimal("62.25")]
    assert [r.periode.type_code for r in bestand.regels] == ["LKS", None]


def test_windows_1252_csv_is_read():
    data = f"bsn;begin;einde;loonwaarde_pct;gemeentecode;opmerking\n{A};2023-01-01;;45;0518;café\n".encode("cp1252")
    assert len(parse_lks_file(data, filename="lks.csv").regels) == 1


def test_bad_csv_rows_are_reported_by_row_number_without_the_bsn():
    data = (
        "bsn,begin,einde,loonwaarde_pct,gemeentecode\n"  # row 1
        f"{A},2022-01-01,2024-06-30,45,0518\n"  # 2 good
        f"{BAD_BSN},2022-01-01,,45,0518\n"  # 3
        f"{B},2022-13-01,,45,0518\n"  # 4
        "\n"  # 5 blank: skipped, still counted as a row
        f"{B},2024-02-01,2024-01-31,45,0518\n"  # 6
        f"{C},2022-01-01,,120,0518\n"  # 7
        f"{C},2022-01-01,,45,518\n"  # 8
        f"{C},2022-01-01\n"  # 9
        f",01-02-2022,,abc,\n"  # 10
        f"{A},2022-01-01,2024-12-31,45,0518\n"  # 11 same period as row 2
        f"{C},2022-01-01,,45.123,0518\n"  # 12
    ).encode()
    bestand = parse_lks_file(data, filename="lks.csv")
    assert [r.rij for r in bestand.regels] == [2]
    reasons = dict(bestand.afgekeurd)
    assert reasons == {
        3: "BSN voldoet niet aan de elfproef (of is geen 9 cijfers)",
        4: "begin is geen geldige datum (verwacht JJJJ-MM-DD)",
        6: "einde 2024-01-31 ligt voor begin 2024-02-01",
        7: "loonwaarde_pct moet tussen 0 en 100 liggen",
        8: "gemeentecode is geen CBS-gemeentecode van 4 cijfers",
        9: "de rij heeft 2 velden, de kopregel 5",
        10: "bsn ontbreekt; begin is geen geldige datum (verwacht JJJJ-MM-DD); loonwaarde_pct is geen getal; "
            "gemeentecode ontbreekt",
        11: "dezelfde LKS-periode (persoon, gemeente, begin) staat al in rij 2",
        12: "loonwaarde_pct heeft meer dan 2 decimalen",
    }
    assert bestand.gelezen == 10  # the blank row is not a data row
    for bsn in (A, B, C, BAD_BSN):
        assert all(bsn not in reason for reason in reasons.values())


def test_json_list_and_scenario_object():
    items = [
        {"bsn": A, "begin": "2022-01-01", "einde": "2024-06-30", "loonwaarde_pct": 45.5, "gemeentecode": "0518"},
        {"bsn": B, "begin": "2023-01-01", "einde": None, "loonwaarde_pct": None, "gemeentecode": "0518"},
    ]
    as_list = parse_lks_file(json.dumps(items).encode(), filename="lks.json")
    scenario = parse_lks_file(json.dumps({"signalen": [], "lks": items}).encode(), filename="scenario")
    assert as_list.formaat == scenario.formaat == "json"
    assert [r.periode for r in as_list.regels] == [r.periode for r in scenario.regels]
    assert as_list.regels[0].periode.loonwaarde_pct == Decimal("45.50") and as_list.regels[1].periode.einde is None
    assert [r.rij for r in as_list.regels] == [1, 2]


def test_bad_json_items_are_reported_by_position():
    items = [
        {"bsn": A, "begin": "2022-01-01", "einde": "", "loonwaarde_pct": "45", "gemeentecode": "0518"},
        "not an object",
        {"bsn": BAD_BSN, "begin": "2022-01-01", "gemeentecode": "0518"},
        {"bsn": B, "begin": ["2022-01-01"], "gemeentecode": "0518"},
        {"bsn": B, "begin": "2022-01-01", "gemeentecode": 518},
        {"bsn": B, "begin": "2022-01-01", "gemeentecode": "0518", "loonwaarde_pct": True},
    ]
    bestand = parse_lks_file(json.dumps(items).encode(), filename="lks.json")
    assert [r.rij for r in bestand.regels] == [1]
    assert dict(bestand.afgekeurd) == {
        2: "het item is geen object met de velden bsn, begin, einde, loonwaarde_pct, gemeentecode",
        3: "BSN voldoet niet aan de elfproef (of is geen 9 cijfers)",
        4: "begin heeft geen geldige waarde",
        5: "gemeentecode is geen CBS-gemeentecode van 4 cijfers",
        6: "loonwaarde_pct heeft geen geldige waarde",
    }


@pytest.mark.parametrize(("data", "filename", "message"), [
    (b"", "lks.csv", "het bestand is leeg"),
    (b"bsn;begin;einde\n999990019;2022-01-01;\n", "lks.csv",
     "kolommen ontbreken in de kopregel: loonwaarde_pct, gemeentecode"),
    (b"bsn,bsn,begin,einde,loonwaarde_pct,gemeentecode\n", "lks.csv", "kolommen staan dubbel in de kopregel: bsn"),
    (b"[{", "lks.json", "geen geldige JSON (regel 1, kolom 3)"),
    (b'{"signalen": []}', "scenario.json", "het JSON-object heeft geen lijst 'lks'"),
    (b'"tekst"', "lks.json", "verwacht een JSON-lijst"),
])
def test_unreadable_files_raise_a_clear_error(data: bytes, filename: str, message: str):
    with pytest.raises(LksFileError, match=re.escape(message)):
        parse_lks_file(data, filename=filename)


def test_format_is_sniffed_without_a_known_suffix():
    assert parse_lks_file(CSV_GOOD, filename="upload").formaat == "csv"
    assert parse_lks_file(b"  [ ]", filename="upload").formaat == "json"


# --- the import service on both databases ---------------------------------------------------------


def test_import_stores_good_rows_and_reports_bad_ones(engine):
    data = CSV_GOOD + f"{BAD_BSN},2022-01-01,,45,0518\n".encode()
    result = import_lks(engine, data, filename="lks.csv")
    assert (result.read, result.stored_new, result.updated, result.unchanged) == (4, 3, 0, 0)
    assert result.rejected == [(5, "BSN voldoet niet aan de elfproef (of is geen 9 cijfers)")]
    assert count_rows(engine) == 3
    assert [(p.begin, p.einde, p.loonwaarde_pct) for p in lks_of(engine, A)] == [
        (date(2022, 1, 1), date(2024, 6, 30), Decimal("45.00")),
        (date(2024, 7, 1), None, Decimal("50.50")),
    ]
    assert all(p.bron is LksBron.REGISTRATIE for p in lks_of(engine, A))


def test_reimport_is_idempotent_and_updates_changed_periods(engine):
    import_lks(engine, CSV_GOOD, filename="lks.csv")
    again = import_lks(engine, CSV_GOOD, filename="lks.csv")
    assert (again.stored_new, again.updated, again.unchanged, again.rejected) == (0, 0, 3, [])
    assert count_rows(engine) == 3

    # The open period ended meanwhile and the percentage was corrected: updated, not duplicated.
    changed = CSV_GOOD.replace(f"{A},2024-07-01,,50.5,0518".encode(), f"{A},2024-07-01,2025-03-31,55,0518".encode())
    result = import_lks(engine, changed, filename="lks.csv")
    assert (result.stored_new, result.updated, result.unchanged) == (0, 1, 2)
    assert count_rows(engine) == 3
    assert lks_of(engine, A)[1].einde == date(2025, 3, 31) and lks_of(engine, A)[1].loonwaarde_pct == Decimal("55")

    # The same data as JSON is the same periods.
    as_json = json.dumps({"lks": [
        {"bsn": A, "begin": "2022-01-01", "einde": "2024-06-30", "loonwaarde_pct": "45", "gemeentecode": "0518"},
    ]}).encode()
    assert import_lks(engine, as_json, filename="scenario.json").unchanged == 1


def test_import_audit_has_counts_only(engine):
    import_lks(engine, CSV_GOOD + f"{BAD_BSN},x,,,0518\n".encode(), filename=f"lks-{A}.csv")
    with store.session_scope(engine) as s:
        events = s.scalars(select(store.AuditEvent).where(store.AuditEvent.action == "lks.imported")).all()
        assert len(events) == 1
        assert events[0].details == {"formaat": "csv", "gelezen": 4, "nieuw": 3, "bijgewerkt": 0,
                                     "ongewijzigd": 0, "afgekeurd": 1}
        assert events[0].actor == "vangnet/import"


def test_unreadable_file_stores_nothing(engine):
    with pytest.raises(LksFileError):
        import_lks(engine, b"bsn,begin\n", filename="lks.csv")
    assert count_rows(engine) == 0
