"""The medical-data guard: only whitelisted, well-shaped fields survive; drops are named, never quoted."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from rules.medical_guard import (
    ALLOWED_FIELDS,
    GUARD_VERSION,
    MEDICAL_FIELDS,
    MOGELIJKHEDEN,
    RUBRIEKEN,
    UNKNOWN_FIELD,
    UNKNOWN_RUBRIC,
    guard_advice,
)

MEDICAL_TEXT = "Lumbale hernia L5-S1 na val; fysiotherapie en naproxen 500 mg"

FULL = {
    "booking_id": "B-000017",
    "consult_ref": "consult:VN-000001:probleemanalyse:1",
    "case_ref": "VN-000001",
    "datum_consult": "2027-02-10",
    "type_profiel": "FML",
    "functionele_mogelijkheden": {"persoonlijk_functioneren": "normaal", "statische_houdingen": "sterk beperkt",
                                  "werktijden": "beperkt"},
    "beperkingen": ["niet langer dan 30 minuten staan", "niet tillen boven 10 kg"],
    "verwachte_duur": "3 tot 6 maanden",
    "arbeidsongeschiktheid_pct": 60,
    "advies_aanpassingen": ["zit-sta-bureau"],
    "diagnose": MEDICAL_TEXT,
    "oorzaak": "val van trap",
    "behandeling": "fysiotherapie",
    "medicatie": "naproxen",
    "toelichting_arts": "patient slaapt slecht door de pijn",
}


def test_full_document_keeps_the_functional_fields_and_drops_the_medical_ones():
    result = guard_advice(FULL)
    assert set(result.kept) == ALLOWED_FIELDS
    assert result.kept["functionele_mogelijkheden"]["statische_houdingen"] == "sterk beperkt"
    assert sorted(result.dropped) == sorted(MEDICAL_FIELDS)
    assert result.version == GUARD_VERSION
    stored = json.dumps(result.kept)
    for text in ("hernia", "naproxen", "fysiotherapie", "val van trap", "slaapt"):
        assert text not in stored


def test_unknown_fields_are_dropped_under_a_neutral_name():
    result = guard_advice({"case_ref": "VN-000001", "hiv_status": "positief", "Diagnose": "x", 7: "y"})
    assert result.kept == {"case_ref": "VN-000001"}
    assert result.dropped == (UNKNOWN_FIELD, UNKNOWN_FIELD, UNKNOWN_FIELD)  # the key itself may be health data


def test_rubrics_and_values_are_checked():
    result = guard_advice({"functionele_mogelijkheden": {
        "werktijden": "beperkt", "psychisch_functioneren_na_burnout": "beperkt", "sociaal_functioneren": "slecht",
        "dynamische_handelingen": {"tillen": "beperkt"}}})
    assert result.kept == {"functionele_mogelijkheden": {"werktijden": "beperkt"}}
    assert sorted(result.dropped) == sorted([UNKNOWN_RUBRIC, "functionele_mogelijkheden.sociaal_functioneren",
                                             "functionele_mogelijkheden.dynamische_handelingen"])


def test_long_or_odd_list_items_are_dropped():
    long_text = "Beperkt belastbaar " + "x" * 200
    result = guard_advice({"beperkingen": ["kort", long_text, 42, "", {"a": "b"}, "regel\nmet enter"],
                           "advies_aanpassingen": "geen lijst"})
    assert result.kept == {"beperkingen": ["kort"]}
    assert result.dropped == ("beperkingen[1]", "beperkingen[2]", "beperkingen[3]", "beperkingen[4]",
                              "beperkingen[5]", "advies_aanpassingen")


def test_percentage_is_validated_not_clamped():
    assert guard_advice({"arbeidsongeschiktheid_pct": 35}).kept == {"arbeidsongeschiktheid_pct": 35}
    assert guard_advice({"arbeidsongeschiktheid_pct": 35.0}).kept == {"arbeidsongeschiktheid_pct": 35}
    assert guard_advice({"arbeidsongeschiktheid_pct": 0}).kept == {"arbeidsongeschiktheid_pct": 0}
    for bad in (-1, 100.5, 10**400, float("nan"), float("inf"), True, "60", None):
        result = guard_advice({"arbeidsongeschiktheid_pct": bad})
        assert result.kept == {} and result.dropped == ("arbeidsongeschiktheid_pct",), bad


def test_scalar_fields_are_checked():
    result = guard_advice({"datum_consult": "10-02-2027", "type_profiel": "RIV", "case_ref": "VN 1; diagnose: x",
                           "verwachte_duur": "y" * 201})
    assert result.kept == {} and len(result.dropped) == 4


def test_not_a_mapping():
    assert guard_advice(["diagnose"]).kept == {}  # type: ignore[arg-type]


# -- property: nothing outside the whitelist ever survives ----------------------------------------
_keys = st.one_of(st.sampled_from(sorted(ALLOWED_FIELDS | MEDICAL_FIELDS | RUBRIEKEN)), st.text(max_size=12),
                  st.integers())
_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=300),
                     st.sampled_from(sorted(MOGELIJKHEDEN | {"FML", "IZP", "2027-02-10", MEDICAL_TEXT})))
_values = st.recursive(_scalars, lambda inner: st.one_of(st.lists(inner, max_size=5),
                                                          st.dictionaries(_keys, inner, max_size=5)), max_leaves=25)


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(k)
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(_keys, _values, max_size=12), st.dictionaries(st.sampled_from(sorted(MEDICAL_FIELDS)), _values))
def test_nothing_outside_the_whitelist_survives(doc, medical):
    doc = {**doc, **medical}
    result = guard_advice(doc)
    kept = result.kept
    assert set(kept) <= ALLOWED_FIELDS
    json.dumps(kept, allow_nan=False)  # storable as JSON, no NaN
    for name in ("functionele_mogelijkheden",):
        if name in kept:
            assert set(kept[name]) <= RUBRIEKEN and set(kept[name].values()) <= MOGELIJKHEDEN
    for name in ("beperkingen", "advies_aanpassingen"):
        if name in kept:
            assert all(isinstance(item, str) and 0 < len(item) <= 200 for item in kept[name])
    for name in ALLOWED_FIELDS - {"functionele_mogelijkheden", "beperkingen", "advies_aanpassingen"}:
        assert not isinstance(kept.get(name), (dict, list))
    if "arbeidsongeschiktheid_pct" in kept:
        assert 0 <= kept["arbeidsongeschiktheid_pct"] <= 100
    # the content of medical fields never survives (unless the same text also sat in an allowed field)
    allowed_texts = {t for t in _strings({k: v for k, v in doc.items() if k in ALLOWED_FIELDS}) for t in (t, t.strip())}
    kept_texts = set(_strings(kept))
    for value in medical.values():
        for text in _strings(value):
            assert text in allowed_texts or text not in kept_texts
    # drops are counted and never quote content
    assert all(d in MEDICAL_FIELDS or d in {UNKNOWN_FIELD, UNKNOWN_RUBRIC} or d.split("[")[0].split(".")[0]
               in ALLOWED_FIELDS for d in result.dropped)
    assert len(result.dropped) >= len(medical) + sum(1 for k in doc if k not in ALLOWED_FIELDS and k not in medical)
