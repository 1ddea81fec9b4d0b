"""The reference loader on the real shared data: units, population, CRS, geometry."""

from __future__ import annotations

import csv
import subprocess
import sys

import numpy as np
import pytest
import shapely

from cpts_geo import ZONE_CRS, CptsGeoError, load_reference, locate_data
from cpts_geo.reference import zone_of

from conftest import SHARED


def _raw_rows():
    with open(SHARED / "population" / "communes-2026.csv", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_units_and_population_match_the_insee_file(ref):
    rows = _raw_rows()
    communes = [r for r in rows if r["type"] == "commune-actuelle" and r["zone"] != "com"]
    units = ref.units
    assert (units["type"] == "commune").sum() == len(communes) == 34875
    assert (units["type"] == "arrondissement").sum() == 45
    assert int(units.loc[units["type"] == "commune", "population"].sum()) == sum(
        int(r["population"]) for r in communes) == 68_350_798
    # the finest units partition France: same population, no double count
    assert int(ref.finest["population"].sum()) == 68_350_798
    assert not ref.finest.index.isin(["75056", "69123", "13055"]).any()
    assert units["departement"].nunique() == 101
    assert units.index.map(type).unique().tolist() == [str]


def test_codes_are_strings_with_leading_zeros_and_corsica(ref):
    assert ref.units.at["01001", "nom"] == "L'Abergement-Clémenciat"
    assert ref.units.at["2A004", "departement"] == "2A"
    assert ref.units.at["13201", "commune"] == "13055"
    assert ref.units.at["13201", "type"] == "arrondissement"


@pytest.mark.parametrize(("dep", "zone"), [("01", "metro"), ("2B", "metro"), ("971", "971"),
                                           ("976", "976")])
def test_zone_of(dep, zone):
    assert zone_of(dep) == zone


def test_crosswalk_maps_historical_codes(ref):
    assert ref.crosswalk["05120"] == "05001"
    assert "01001" not in ref.crosswalk  # current codes are not remapped


def test_each_zone_has_its_projected_crs_and_a_clean_coverage(ref):
    for zone in ref.zones:
        geoms = ref.geometry(zone)
        assert geoms.crs.to_string() == ZONE_CRS[zone]
        expected = ref.finest.index[ref.finest["zone"] == zone]
        assert set(geoms.index) == set(expected)
        arr = np.asarray(geoms.array)
        assert shapely.is_valid(arr).all()
        assert bool(shapely.coverage_is_valid(arr))


def test_arrondissements_are_fitted_to_their_city(ref):
    """The arrondissements tile their city: union equals the commune outline, no overlaps."""
    import pyogrio

    geoms = ref.geometry("metro")
    raw = pyogrio.read_dataframe(SHARED / "communes" / "communes-2025.gpkg", layer="metro_l93",
                                 where="code_commune IN ('13055', '75056', '69123')")
    for city, outline in zip(raw["code_commune"], raw.geometry, strict=True):
        arrs = geoms[ref.units.index[ref.units["commune"].eq(city)
                                     & ref.units["type"].eq("arrondissement")]]
        union = shapely.union_all(np.asarray(arrs.array))
        assert shapely.area(shapely.symmetric_difference(union, outline)) < 1e-3 * outline.area
        assert sum(shapely.area(np.asarray(arrs.array))) == pytest.approx(outline.area, rel=1e-3)


def test_areas_are_computed_in_metres(ref):
    from cpts_geo.analysis.topology import unit_areas

    areas = unit_areas(ref)
    # Marseille is about 240 km², Paris 105 km² (sums of their arrondissements)
    assert areas[list(ref.expand("13055"))].sum() == pytest.approx(240, rel=0.05)
    assert areas[list(ref.expand("75056"))].sum() == pytest.approx(105, rel=0.05)
    assert areas["97411"] == pytest.approx(143, rel=0.1)  # Saint-Denis (La Réunion)


def test_locate_data_order(tmp_path, monkeypatch):
    monkeypatch.setenv("CPTS_GEO_DATA", str(SHARED))
    assert locate_data() == SHARED.resolve()
    with pytest.raises(CptsGeoError, match=r"No reference data found in .*--data"):
        locate_data(tmp_path)
    monkeypatch.setenv("CPTS_GEO_DATA", str(tmp_path))
    with pytest.raises(CptsGeoError, match="CPTS_GEO_DATA"):
        locate_data()
    monkeypatch.delenv("CPTS_GEO_DATA")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(CptsGeoError, match="cpts-geo fetch"):
        locate_data()


def test_load_reference_reports_a_broken_population_file(tmp_path):
    (tmp_path / "population").mkdir()
    (tmp_path / "population" / "communes-2026.csv").write_text("code,nom\n01001,X\n",
                                                               encoding="utf-8")
    with pytest.raises(CptsGeoError, match="missing column"):
        load_reference(tmp_path)


def test_population_without_arrondissement_polygons_is_still_right(tmp_path):
    """A data directory without arrondissement polygons: every non-map figure still holds."""
    import os

    from cpts_geo.analysis import analyse, summary
    from cpts_geo.registry import read_registry

    for sub in ("population", "communes"):
        (tmp_path / sub).mkdir()
    for f in (SHARED / "population").iterdir():
        os.symlink(f, tmp_path / "population" / f.name)
    os.symlink(SHARED / "communes" / "communes-2025.gpkg",
               tmp_path / "communes" / "communes-2025.gpkg")
    bare = load_reference(tmp_path)
    full = load_reference(SHARED)
    reg_bare = read_registry(SHARED / "cpts" / "paca-2026-01" / "cpts-communes.csv", bare)
    reg_full = read_registry(SHARED / "cpts" / "paca-2026-01" / "cpts-communes.csv", full)
    a, b = summary(analyse(reg_bare, bare, region="93")), summary(analyse(reg_full, full,
                                                                          region="93"))
    for key in ("population_totale", "population_couverte", "taux_couverture", "par_stade",
                "partages", "conflits"):
        assert a[key] == b[key]
    gaps_a = sorted(c for z in a["zones_blanches"] for c in z["codes"])
    gaps_b = sorted(c for z in b["zones_blanches"] for c in z["codes"])
    assert gaps_a == gaps_b
    # the city keeps its commune polygon under the city code
    assert "13055" in bare.geometry("metro").index


def test_import_does_not_pull_heavy_optional_modules():
    code = ("import sys, cpts_geo; "
            "print(sorted(m for m in ('folium', 'matplotlib', 'geopandas', 'requests') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"
