"""INSEE codes: formatting, the historical → current crosswalk, arrondissements municipaux."""

from __future__ import annotations

import numpy as np
import pytest

from cpts_geo.reference.codes import (
    ARRONDISSEMENTS,
    CITY_OF_ARRONDISSEMENT,
    Normalised,
    format_code,
    normalise,
    resolve,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1001, "01001"),  # a number: the leading zero is lost
        ("1001", "01001"),
        (" 01001 ", "01001"),
        ("2a004", "2A004"),  # Corsica in lower case
        (" 2b033\t", "2B033"),
        (1001.0, "01001"),  # a spreadsheet float
        ("1001.0", "01001"),
        ("06088", "06088"),
        (6088, "06088"),
        ("13 001", "13001"),  # French thousands separator
        ("13\u202f001", "13001"),  # narrow no-break space
        ("\u00a083137\u00a0", "83137"),  # no-break spaces
        ("'06088", "06088"),  # Excel's text apostrophe
        ('"06088"', "06088"),
        ("\ufeff06088", "06088"),  # a BOM stuck to the first cell
        ("\uff10\uff16\uff10\uff18\uff18", "06088"),  # full-width digits
        (np.int64(6088), "06088"),
        (np.float64(6088.0), "06088"),
        ("13201", "13201"),  # an arrondissement
    ],
)
def test_format_code_accepts_what_spreadsheets_produce(value: object, expected: str) -> None:
    assert format_code(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        None, True, False, "", "   ", "abc", "Nice", float("nan"), float("inf"), 1001.5,
        101,  # three digits: not a code that lost one zero
        "101", "13", 123456, "123456", "2A04", "2C004", "2A0044", "-1001", -1001,
        "\u0661\u0660\u0660\u0661",  # Arabic-Indic digits are digits, not INSEE codes
        "\u00b9\u00b2\u00b3\u2074\u2075",  # superscripts
        [6088], {"code": "06088"}, "0" * 1000,
    ],
)
def test_format_code_rejects_what_cannot_be_a_code(value: object) -> None:
    assert format_code(value) is None


def test_format_code_is_idempotent_on_every_real_code(ref) -> None:
    codes = list(ref.units.index) + list(ref.crosswalk)
    assert len(codes) > 39_000
    assert all(format_code(c) == c for c in codes)


def test_normalise_formats_and_remaps_with_the_real_crosswalk(ref) -> None:
    n = normalise([1001, " 2a004 ", "05120", "06088", "13201"], ref.crosswalk,
                  ref.current_codes)
    assert isinstance(n, Normalised)
    assert n.codes == ["01001", "2A004", "05001", "06088", "13201"]
    assert n.remapped == {"05120": "05001"}
    assert n.unknown == []


def test_normalise_reports_unknown_values_in_place(ref) -> None:
    values = ["99999", "Nice", None, "06088", "2A999"]
    n = normalise(values, ref.crosswalk, ref.current_codes)
    assert n.codes == [None, None, None, "06088", None]
    assert n.unknown == ["99999", "Nice", None, "2A999"]
    assert n.remapped == {}


def test_normalise_without_current_only_formats_and_remaps() -> None:
    n = normalise(["99999", "5120"], {"05120": "05001"})
    assert n.codes == ["99999", "05001"]
    assert n.remapped == {"05120": "05001"}


def test_arrondissements_are_never_remapped_to_their_city(ref) -> None:
    # the COG crosswalk maps 13201 → 13055 (Marseille): a claim on the 1st arrondissement must
    # stay a claim on the 1st arrondissement, with or without the current codes
    assert ref.crosswalk["13201"] == "13055"
    for current in (None, ref.current_codes):
        n = normalise(["13201", "75101", "69381"], ref.crosswalk, current)
        assert n.codes == ["13201", "75101", "69381"]
        assert n.remapped == {}


def test_resolve_follows_chains_and_stops_on_cycles() -> None:
    crosswalk = {"01001": "01002", "01002": "01003", "09001": "09002", "09002": "09001"}
    assert resolve("01001", crosswalk) == "01003"
    assert resolve("01001", crosswalk, current={"01003"}) == "01003"
    assert resolve("01001", crosswalk, current={"01002"}) == "01002"
    assert resolve("01001", crosswalk, current={"77777"}) is None
    assert resolve("09001", crosswalk, current={"01003"}) is None  # a cycle ends
    assert resolve("09001", crosswalk) in {"09001", "09002"}


def test_every_crosswalk_target_is_current(ref) -> None:
    current = ref.current_codes
    for old in ref.crosswalk:
        new = resolve(old, ref.crosswalk, current)
        assert new is not None and new in current, old


def test_historical_codes_of_paca_map_to_their_commune_nouvelle(ref) -> None:
    n = normalise(["05120", "05143", "05069", "04198"], ref.crosswalk, ref.current_codes)
    assert n.codes == ["05001", "05053", "05053", "04033"]
    assert ref.units.loc["05053", "nom"] == "Garde-Colombe"


def test_arrondissement_tables_match_the_reference(ref) -> None:
    assert sum(len(v) for v in ARRONDISSEMENTS.values()) == 45
    arrs = ref.units[ref.units["type"] == "arrondissement"]
    assert set(arrs.index) == set(CITY_OF_ARRONDISSEMENT)
    assert (arrs["commune"] == [CITY_OF_ARRONDISSEMENT[c] for c in arrs.index]).all()
    assert ARRONDISSEMENTS["13055"][0] == "13201" and ARRONDISSEMENTS["13055"][-1] == "13216"
    assert len(ARRONDISSEMENTS["75056"]) == 20 and len(ARRONDISSEMENTS["69123"]) == 9
