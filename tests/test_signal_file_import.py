"""`vangnet signals import FILE`: a downloaded signal file goes through the same inbox as the IB pull."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from lxml import etree

from mappings.ib_signal import IB_NAMESPACE, fields_to_signal_element

VANGNET = str(Path(sys.executable).with_name("vangnet"))
HOSTILE = {
    "xxe": b'<?xml version="1.0"?><!DOCTYPE s [<!ENTITY x SYSTEM "file:///etc/passwd">]><s>&x;</s>',
    "billion-laughs": b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]><l>&b;</l>',
    "not-xml": b"BSN;naam\n999990019;Jansen\n",
    "utf16": '<?xml version="1.0" encoding="UTF-16"?><Signalen/>'.encode("utf-16"),
    "latin1": b'<?xml version="1.0" encoding="ISO-8859-1"?><Signalen/>',
}


def signal(n: int, bsn: str, **extra) -> dict:
    return {"bericht_id": f"F-{n}", "volgnummer": n, "soort": "ZIEKMELDING_VANGNETTER", "bsn": bsn,
            "gemeentecode": "0518", "eerste_ziektedag": "2027-01-04", "wettelijke_grondslag": "ZW_38_2", **extra}


def signal_file(path: Path, records: list[dict]) -> Path:
    root = etree.Element(f"{{{IB_NAMESPACE}}}Signalen", nsmap={None: IB_NAMESPACE})
    root.extend(fields_to_signal_element(r) for r in records)
    path.write_bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))
    return path


@pytest.fixture
def cli(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "VANGNET_"))}
    env["VANGNET_HOME"] = str(tmp_path / "home")

    def run(*args):
        return subprocess.run([VANGNET, *args], env=env, capture_output=True, text=True, timeout=120)

    assert run("db", "upgrade").returncode == 0
    return run


def test_import_stores_once_and_quarantines_the_bad_one(cli, tmp_path):
    path = signal_file(tmp_path / "signalen.xml", [
        signal(1, "999990019"), signal(2, "999990021"), signal(3, "999990020", datum_melding="2027-01-10"),
    ])
    first = cli("signals", "import", str(path), "--today", "2027-03-01")
    assert first.returncode == 0, first.stderr
    assert "3 signals found, 3 new" in first.stdout and "2 cases opened" in first.stdout
    assert "F-2" in first.stdout and "elfproef" in first.stdout
    again = cli("signals", "import", str(path), "--today", "2027-03-01")
    assert "3 signals found, 0 new" in again.stdout and "0 cases opened" in again.stdout
    cases = json.loads(cli("cases", "export", "--json").stdout)
    assert sorted(b for c in cases for b in c["bericht_ids"]) == ["F-1", "F-3"]
    for output in (first.stdout + first.stderr, again.stdout + again.stderr):
        assert "999990019" not in output and "999990021" not in output


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_file_is_kept_and_quarantined_with_a_reason(cli, tmp_path, name):
    path = tmp_path / f"{name}.xml"
    path.write_bytes(HOSTILE[name])
    result = cli("signals", "import", str(path), "--today", "2027-03-01")
    assert result.returncode == 0, result.stderr
    assert "could not be read" in result.stderr and "1 quarantined" in result.stdout
    assert "root:" not in result.stdout  # /etc/passwd was not read
    assert "999990019" not in result.stdout


def test_missing_file_is_a_clear_error(cli, tmp_path):
    result = cli("signals", "import", str(tmp_path / "nope.xml"))
    assert result.returncode == 1 and "does not exist" in result.stderr and "Traceback" not in result.stderr
