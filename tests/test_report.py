"""The management report from the store: the numbers of the hand-counted dataset (tests/report_data.py) on
SQLite and PostgreSQL, no BSN in any query or output, the page in headless Chromium with all seven charts
(the screenshot is kept as var/test-artifacts/report-screenshot.png), and `vangnet report`."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import event
from typer.testing import CliRunner

import store
from documents.charts import EMPTY_TEXT
from flows.errors import VangnetError
from ib_helpers import valid_bsn
from report_data import CASES, EXPECTED, GEMEENTE, PERIOD, PROVIDER_NAMES, build_report_dataset
from services.management_report import FIGURES, build_report, write_report

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACT = REPO / "var" / "test-artifacts" / "report-screenshot.png"
GENERATED = date(2027, 4, 2)
BSNS = [valid_bsn(n) for n in range(900, 900 + len(CASES))]


def test_numbers_of_the_dataset(engine):
    build_report_dataset(engine)
    r = build_report(engine, PERIOD, provider_names=PROVIDER_NAMES)
    assert r.gemeente == GEMEENTE and list(r.figures()) == list(FIGURES)
    months = r.caseload.months
    assert [m.period.label for m in months][0] == "2026-04" and months[-1].period == PERIOD
    assert [m.open_at_end for m in months] == EXPECTED["caseload_open"]
    assert [m.new for m in months] == EXPECTED["caseload_new"]
    assert [m.closed for m in months] == EXPECTED["caseload_closed"]
    lt = r.lead_times
    assert lt.signal.days == EXPECTED["signal_days"] and lt.takeover.days == EXPECTED["takeover_days"]
    assert lt.signal.histogram() == EXPECTED["signal_hist"] and lt.takeover.histogram() == EXPECTED["takeover_hist"]
    assert (lt.signal.median, lt.signal.p90) == (EXPECTED["signal_median"], EXPECTED["signal_p90"])
    assert (lt.takeover.median, lt.takeover.p90) == (EXPECTED["takeover_median"], EXPECTED["takeover_p90"])
    assert {s.stap: s.counts for s in r.wvp_steps.steps} == EXPECTED["wvp"]
    assert r.consults.counts == EXPECTED["consults"]
    assert {p.provider: (p.orders, p.budget, p.approved_to_date, p.approved_in_period, p.orders_without_budget)
            for p in r.costs.providers} == EXPECTED["costs"]
    assert {k: (r.invoices.counts[k], r.invoices.amounts[k]) for k in r.invoices.counts} == EXPECTED["invoices"]
    assert r.ladder.moves == EXPECTED["ladder_moves"] and r.ladder.distribution == EXPECTED["ladder_distribution"]


def test_no_query_selects_a_bsn(engine):
    build_report_dataset(engine)
    statements: list[str] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement.lower())

    event.listen(engine, "before_cursor_execute", capture)
    try:
        build_report(engine, PERIOD)
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    selects = [s for s in statements if s.lstrip().startswith("select")]
    assert len(selects) >= 7
    assert not [s for s in selects if re.search(r"\bbsn\b", s)]
    columns = [s.split("from", 1)[0] for s in selects]  # what is read, not how it is filtered
    # One named field of the audit details (the decision's date) may be read, never the details themselves.
    one_field = re.compile(r"json_extract\(audit_events\.details, \?\)|audit_events\.details ->> ")
    columns = [one_field.sub("<one field>", c) for c in columns]
    assert any("<one field>" in c for c in columns)
    assert not [c for c in columns if re.search(r"\.(reden|closed_reason|text|advice|payload|details)\b", c)]


def _sqlite_engine(tmp_path):
    url = f"sqlite:///{tmp_path / 'vangnet.db'}"
    store.upgrade(url)
    return store.make_engine(url)


def test_an_empty_store_still_gives_every_chart_saying_so(tmp_path):
    engine = _sqlite_engine(tmp_path)
    report = build_report(engine, PERIOD)
    assert all(metric.is_empty for metric in report.figures().values())
    index = write_report(report, tmp_path / "out", generated_on=GENERATED)
    html = index.read_text(encoding="utf-8")
    for key in FIGURES:
        assert (tmp_path / "out" / "figures" / f"{key}.png").stat().st_size > 2000
        assert EMPTY_TEXT in (tmp_path / "out" / "figures" / f"{key}.svg").read_text(encoding="utf-8")
        assert f'id="fig-{key}"' in html
    assert report.gemeente is None and "gemeente" not in html.split("</header>")[0]


def test_page_has_no_personal_data_and_no_outside_resources(tmp_path):
    engine = _sqlite_engine(tmp_path)
    build_report_dataset(engine)
    index = write_report(build_report(engine, PERIOD, provider_names=PROVIDER_NAMES), tmp_path / "out",
                         generated_on=GENERATED)
    texts = [index.read_text(encoding="utf-8")] + [p.read_text(encoding="utf-8")
                                                   for p in (tmp_path / "out" / "figures").glob("*.svg")]
    assert len(texts) == 1 + len(FIGURES)
    for text in texts:
        assert not any(bsn in text for bsn in BSNS)
        assert "VN-0" not in text
    html = texts[0]
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html) and "@import" not in html
    assert "Managementrapportage vangnetters — maart 2027" in html and "gemeente 0518" in html
    assert "€\u00a02.090,00" in html and "Reïntegratie Zuid" in html  # the cost table, formatted in Dutch


# -- headless Chromium --------------------------------------------------------------------------------
def _chromium(args: list[str], profile: Path) -> subprocess.CompletedProcess:
    if not CHROMIUM.exists():
        pytest.fail("The report test renders the page in headless Chromium, which is not installed at "
                    f"{CHROMIUM}. Install it: `apt-get install chromium` (Debian package; `make test` does this).",
                    pytrace=False)
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={profile}"]
    return subprocess.run([str(CHROMIUM), *flags, *args], capture_output=True, text=True, timeout=120)


def _body(dom: str) -> dict[str, str]:
    body = re.search(r"<body([^>]*)>", dom)
    assert body, dom[:500]
    return dict(re.findall(r'data-([a-z-]+)="([^"]*)"', body.group(1)))


def test_page_renders_in_headless_chromium_with_all_charts(tmp_path):
    from PIL import Image

    engine = _sqlite_engine(tmp_path)
    build_report_dataset(engine)
    out = tmp_path / "report"
    index = write_report(build_report(engine, PERIOD, provider_names=PROVIDER_NAMES), out, generated_on=GENERATED)
    url = index.resolve().as_uri()

    dom = _chromium(["--window-size=1280,800", "--virtual-time-budget=5000", "--dump-dom", url], tmp_path / "p1")
    assert dom.returncode == 0, dom.stderr[-2000:]
    body = _body(dom.stdout)
    assert body.get("figures-loaded") == str(len(FIGURES)) == "7", body
    assert int(body["page-height"]) <= 4000, "the screenshot (1280x4000) would cut off charts"
    for key in FIGURES:
        figure = re.search(rf'<figure id="fig-{key}">(.*?)</figure>', dom.stdout, re.S)
        assert figure and f'src="figures/{key}.png"' in figure.group(1) and "<table>" in figure.group(1), key

    shot = tmp_path / "screenshot.png"
    run = _chromium([f"--screenshot={shot}", "--window-size=1280,4000", url], tmp_path / "p2")
    assert run.returncode == 0 and shot.is_file(), run.stderr[-2000:]
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(shot, ARTIFACT)
    assert shot.stat().st_size > 100_000
    with Image.open(shot) as image:
        assert image.size == (1280, 4000)
        rgb = image.convert("RGB")
        colours = rgb.getcolors(maxcolors=1 << 20)
        assert colours is not None and len(colours) > 200  # charts, not a blank or single-colour page
        # The last chart (ladder) sits in the lower part of the page: that part is not blank either.
        low = rgb.crop((0, int(body["page-height"]) // 2, 1280, int(body["page-height"])))
        assert len(low.getcolors(maxcolors=1 << 20) or []) > 50

    # The count is real: with one chart missing the page reports six.
    (out / "figures" / "ladder.png").unlink()
    again = _chromium(["--window-size=1280,800", "--virtual-time-budget=5000", "--dump-dom", url], tmp_path / "p3")
    assert _body(again.stdout).get("figures-loaded") == "6"


# -- the command --------------------------------------------------------------------------------------
@pytest.fixture
def cli_home(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'vangnet.db'}"
    monkeypatch.setenv("VANGNET_HOME", str(tmp_path))
    monkeypatch.setenv("VANGNET_DATABASE_URL", url)
    monkeypatch.delenv("VANGNET_REPORT_DIR", raising=False)
    store.upgrade(url)
    engine = store.make_engine(url)
    build_report_dataset(engine)
    yield tmp_path
    engine.dispose()


def test_cli_writes_the_report_and_prints_where(cli_home):
    from flows.cli import app

    out = cli_home / "out"
    result = CliRunner().invoke(app, ["report", "--period", "2027-03", "--out", str(out), "--today", "2027-04-02"])
    assert result.exit_code == 0, result.output
    assert f"written to {out.resolve() / 'index.html'}" in result.output.replace("\n", "")
    assert (out / "index.html").is_file() and len(list((out / "figures").glob("*.png"))) == 7
    assert "kvk:11111111" in (out / "index.html").read_text(encoding="utf-8")  # no contract names this provider


def test_cli_defaults_to_last_month_in_the_report_folder(cli_home):
    from flows.cli import app

    result = CliRunner().invoke(app, ["report", "--today", "2027-04-02"])
    assert result.exit_code == 0, result.output
    page = cli_home / "reports" / "2027-03" / "index.html"
    assert page.is_file() and "maart 2027" in page.read_text(encoding="utf-8")


@pytest.mark.parametrize(("args", "message"), [
    (["--period", "2027-13"], "is not a month"),
    (["--period", "maart"], "is not a month"),
    (["--period", "2027-05"], "has not started yet"),
])
def test_cli_refuses_a_wrong_period(cli_home, args, message):
    from flows.cli import app

    result = CliRunner().invoke(app, ["report", *args, "--today", "2027-04-02"])
    assert result.exit_code == 1 and isinstance(result.exception, VangnetError)
    assert message in str(result.exception)
