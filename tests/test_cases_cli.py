"""`vangnet cases list` pages (newest first) so it answers at once whatever the number of cases."""

from __future__ import annotations

from datetime import date

from typer.testing import CliRunner

import store
from flows.cli import app
from ib_helpers import valid_bsn
from schemas.case import CaseStatus


def _cases(engine, n: int) -> list[str]:
    with store.session_scope(engine) as s:
        cases = [store.create_case(s, gemeentecode="0518", bsn=valid_bsn(i), eerste_ziektedag=date(2027, 1, 4),
                                   datum_ontvangst=date(2027, 2, 1), opened_on=date(2027, 2, 1),
                                   status=CaseStatus.HANDMATIG if i == 2 else CaseStatus.OPEN) for i in range(1, n + 1)]
        s.flush()
        return [c.ref for c in cases]


def test_pages_newest_first_with_the_next_command(local_home):
    refs = _cases(local_home, 3)
    out = CliRunner().invoke(app, ["cases", "list", "--limit", "2"])
    assert out.exit_code == 0, out.output
    assert refs[2] in out.output and refs[1] in out.output and refs[0] not in out.output
    assert "1-2 of 3" in out.output and "vangnet cases list --offset 2 --limit 2" in out.output
    out = CliRunner().invoke(app, ["cases", "list", "--limit", "2", "--offset", "2"])
    assert refs[0] in out.output and refs[2] not in out.output and "--offset" not in out.output.split("of 3")[-1]
    out = CliRunner().invoke(app, ["cases", "list", "--status", "handmatig"])
    assert refs[1] in out.output and refs[0] not in out.output and "1-1 of 1" in out.output
    out = CliRunner().invoke(app, ["cases", "list", "--offset", "5"])
    assert out.exit_code == 0 and "none after the first 5 (of 3)" in out.output


def test_an_unknown_status_names_the_valid_ones(local_home):
    out = CliRunner().invoke(app, ["cases", "list", "--status", "bogus"])
    assert out.exit_code != 0 and "Unknown status 'bogus'" in str(out.exception)
    assert "OVERGEDRAGEN" in out.exception.hint
