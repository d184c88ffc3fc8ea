"""The pseudonymised research export (outcome monitoring in the style of ZonMw studies), as pure functions.

One row per case, keyed by a pseudonym instead of the BSN. What a row may hold is fixed by `COLUMNS`
(the data dictionary): counts, codes, whole weeks and months, never a name, a BSN, a date of birth, an
exact date or free text (dossier entries, plan activities, reasons). Dates are coarsened to "YYYY-MM".

The pseudonym is HMAC-SHA256 under a secret key, not a plain hash: a BSN has 9 digits and about one in
eleven numbers passes the 11-proef, so a plain SHA-256 of (gemeentecode, BSN) is reversed by hashing
all ~90 million candidates, which takes minutes. Without the key that enumeration is impossible; with
the same key the same person gets the same pseudonym in every export, so studies can follow a person
across exports and cases. The key is configuration and never in the repository. The gemeentecode is
part of the hashed input, so a person who moves to another gemeente gets a new pseudonym there: two
gemeenten sharing a key still cannot link their people (drop it from the input if a study must).

Pseudonymised data is still personal data under the AVG: the export goes only to researchers under a
processing or research agreement, and small groups (one gemeente, one month) may need suppression by
the researcher before publication.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from hashlib import sha256

from schemas.case import Stap

MIN_KEY_BYTES = 16


@dataclass(frozen=True)
class Column:
    """One column of the export with its data-dictionary entry."""

    name: str
    type: str
    description: str
    values: str


COLUMNS: tuple[Column, ...] = (
    Column("pseudoniem", "tekst (64 hex-tekens)",
           "HMAC-SHA256 van gemeentecode en BSN met de onderzoekssleutel; dezelfde persoon heeft bij dezelfde "
           "sleutel in elke export hetzelfde pseudoniem", "0-9a-f"),
    Column("gemeentecode", "tekst (4 cijfers)", "CBS-code van de gemeente van de zaak", "bijv. 0518"),
    Column("maand_eerste_ziektedag", "jaar-maand", "maand van de eerste ziektedag (D)", "JJJJ-MM of leeg"),
    Column("maand_signaal", "jaar-maand", "maand waarin de gemeente het signaal van UWV/IB ontving", "JJJJ-MM"),
    Column("maand_overname", "jaar-maand", "maand van het besluit OVERNAME (overnametoets)",
           "JJJJ-MM; leeg zonder overname"),
    Column("maand_einde", "jaar-maand", "maand waarin de zaak werd gesloten", "JJJJ-MM; leeg als de zaak loopt"),
    Column("besluit", "code", "uitkomst van de overnametoets",
           "OVERNAME, GEEN_LKS, ANDERE_GEMEENTE, HANDMATIG; leeg als nog niet besloten"),
    Column("status", "code", "stand van de zaak op de exportdatum",
           "OPEN, HANDMATIG, OVERGEDRAGEN, GESLOTEN, INGETROKKEN"),
    Column("weken_tot_signaal", "geheel getal (weken)", "hele weken van de eerste ziektedag tot de ontvangst van het "
           "signaal (naar beneden afgerond)", ">= 0; leeg zonder eerste ziektedag"),
    Column("weken_tot_overname", "geheel getal (weken)", "hele weken van de eerste ziektedag tot het besluit OVERNAME",
           ">= 0; leeg zonder overname of eerste ziektedag"),
    Column("trede_start", "geheel getal", "eerste geregistreerde trede op de re-integratieladder",
           "0-9; leeg als niet geregistreerd"),
    Column("trede_laatst", "geheel getal", "laatste geregistreerde trede op de re-integratieladder",
           "0-9; leeg als niet geregistreerd"),
    Column("instrumenten", "lijst van codes", "ingezette re-integratie-instrumenten, alfabetisch, gescheiden door ;",
           "jobcoaching, proefplaatsing, no_riskpolis, werkplekaanpassing, loonkostensubsidie, scholing, "
           "arbeidsdeskundig_onderzoek, tweede_spoor, beschut_werk; leeg als geen"),
    Column("aantal_consulten", "geheel getal", "gehouden consulten bij de bedrijfsarts", ">= 0"),
    Column("aantal_no_shows", "geheel getal", "consulten waarvoor de vangnetter niet verscheen", ">= 0"),
    Column("stappen_op_tijd", "geheel getal", "WVP-stappen van de gemeente gedaan op of voor de geldende datum "
           "(de wettelijke datum, de art. 7-datum na afwijking, of bij een al verstreken termijn de datum van "
           "ontvangst)", ">= 0"),
    Column("stappen_te_laat", "geheel getal", "WVP-stappen van de gemeente gedaan na de geldende datum, of niet "
           "gedaan terwijl die datum voor de exportdatum (of het sluiten van de zaak) verstreek", ">= 0"),
    Column("plan_versies", "geheel getal", "versies van het plan van aanpak (1 = plan, meer = bijstellingen)", ">= 0"),
    Column("riv_compleet", "0/1", "er is een definitief re-integratieverslag zonder ontbrekende onderdelen",
           "1 = ja, 0 = nee"),
    Column("kosten_goedgekeurd", "geheel getal (euro)", "goedgekeurde facturen van aanbieders op opdrachten van "
           "deze zaak, exclusief btw, afgerond op hele euro's (creditnota's tellen negatief)", "euro"),
    Column("wia_aanvraag_gedaan", "0/1", "de WVP-stap wia_aanvraag is als gedaan geregistreerd", "1 = ja, 0 = nee"),
)
COLUMN_NAMES: tuple[str, ...] = tuple(c.name for c in COLUMNS)

# The gemeente's own deadlines; the ex-employer's RIV request is an intake task, not a WVP term.
COUNTED_STEPS = frozenset({Stap.PROBLEEMANALYSE, Stap.PLAN_VAN_AANPAK, Stap.HERIJKING_1, Stap.HERIJKING_2,
                           Stap.HERIJKING_3, Stap.RIV, Stap.WIA_AANVRAAG})


@dataclass(frozen=True)
class StepFacts:
    """A WVP step as the export sees it: its due date in force and when it was done."""

    stap: Stap
    datum: date
    done_on: date | None
    gemeente_verantwoordelijk: bool = True


@dataclass(frozen=True)
class ResearchFacts:
    """What the store knows of one case, reduced to what a research row is computed from."""

    gemeentecode: str
    bsn: str = field(repr=False)
    datum_ontvangst: date
    status: str
    eerste_ziektedag: date | None = None
    overname_op: date | None = None
    closed_on: date | None = None
    besluit: str | None = None
    treden: tuple[int, ...] = ()
    """Ladder treden in date order."""
    instrumenten: tuple[str, ...] = ()
    consulten_gehouden: int = 0
    no_shows: int = 0
    steps: tuple[StepFacts, ...] = ()
    plan_versies: int = 0
    riv_compleet: bool = False
    kosten_goedgekeurd: Decimal = Decimal(0)


def check_key(key: bytes) -> bytes:
    """The key itself when long enough; ValueError otherwise (never a weak or default key)."""
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(f"de onderzoekssleutel is {len(key)} bytes; minimaal {MIN_KEY_BYTES} bytes zijn nodig")
    return key


def pseudonym(key: bytes, gemeentecode: str, bsn: str) -> str:
    """HMAC-SHA256 (hex) of "gemeentecode:bsn" under `key`: stable per person and key, not reversible without it."""
    check_key(key)
    return hmac.new(key, f"{gemeentecode}:{bsn}".encode("ascii"), sha256).hexdigest()


def month(d: date | None) -> str:
    """"YYYY-MM" for a date, "" for none."""
    return f"{d.year:04d}-{d.month:02d}" if d is not None else ""


def whole_weeks(start: date | None, end: date | None) -> str:
    """Whole weeks from `start` to `end` (rounded down), "" when either is missing or end is before start."""
    if start is None or end is None or end < start:
        return ""
    return str((end - start).days // 7)


def step_timing(steps: tuple[StepFacts, ...], *, today: date, closed_on: date | None) -> tuple[int, int]:
    """(on time, late) over the gemeente's WVP steps. A step not done counts as late only when its date
    passed before `today` and before the case closed (after closing nothing more is due)."""
    horizon = min(today, closed_on) if closed_on is not None else today
    on_time = late = 0
    for s in steps:
        if s.stap not in COUNTED_STEPS or not s.gemeente_verantwoordelijk:
            continue
        if s.done_on is not None:
            if s.done_on <= s.datum:
                on_time += 1
            else:
                late += 1
        elif s.datum < horizon:
            late += 1
    return on_time, late


def _flag(value: bool) -> str:
    return "1" if value else "0"


def research_row(facts: ResearchFacts, *, key: bytes, today: date) -> dict[str, str]:
    """The export row of one case: exactly `COLUMN_NAMES`, all values text."""
    on_time, late = step_timing(facts.steps, today=today, closed_on=facts.closed_on)
    wia = any(s.stap is Stap.WIA_AANVRAAG and s.done_on is not None for s in facts.steps)
    row = {
        "pseudoniem": pseudonym(key, facts.gemeentecode, facts.bsn),
        "gemeentecode": facts.gemeentecode,
        "maand_eerste_ziektedag": month(facts.eerste_ziektedag),
        "maand_signaal": month(facts.datum_ontvangst),
        "maand_overname": month(facts.overname_op),
        "maand_einde": month(facts.closed_on),
        "besluit": facts.besluit or "",
        "status": facts.status,
        "weken_tot_signaal": whole_weeks(facts.eerste_ziektedag, facts.datum_ontvangst),
        "weken_tot_overname": whole_weeks(facts.eerste_ziektedag, facts.overname_op),
        "trede_start": str(facts.treden[0]) if facts.treden else "",
        "trede_laatst": str(facts.treden[-1]) if facts.treden else "",
        "instrumenten": ";".join(sorted(set(facts.instrumenten))),
        "aantal_consulten": str(facts.consulten_gehouden),
        "aantal_no_shows": str(facts.no_shows),
        "stappen_op_tijd": str(on_time),
        "stappen_te_laat": str(late),
        "plan_versies": str(facts.plan_versies),
        "riv_compleet": _flag(facts.riv_compleet),
        "kosten_goedgekeurd": str(int(facts.kosten_goedgekeurd.quantize(Decimal(1), rounding=ROUND_HALF_UP))),
        "wia_aanvraag_gedaan": _flag(wia),
    }
    assert tuple(row) == COLUMN_NAMES  # the dictionary and the rows cannot drift apart
    return row


def dictionary_markdown() -> str:
    """The data dictionary as a Markdown document (shipped next to every export)."""
    lines = [
        "# Onderzoeksexport vangnet: datadictionary",
        "",
        "Eén regel per zaak. CSV: UTF-8, komma als scheidingsteken, eerste regel de kolomnamen (RFC 4180).",
        "Geen BSN, naam, geboortedatum, exacte datum of vrije tekst: datums zijn afgerond op maanden, het",
        "pseudoniem is een HMAC-SHA256 met een geheime sleutel (dezelfde sleutel = hetzelfde pseudoniem per",
        "persoon). Zaken die na de bewaartermijn zijn geanonimiseerd staan er niet in: hun BSN bestaat niet meer.",
        "Gepseudonimiseerde gegevens blijven persoonsgegevens (AVG): alleen onder een verwerkersovereenkomst.",
        "",
        "| kolom | type | omschrijving | waarden / eenheid |",
        "|---|---|---|---|",
    ]
    lines += [f"| {c.name} | {c.type} | {c.description} | {c.values} |" for c in COLUMNS]
    return "\n".join(lines) + "\n"
