"""The one-page PDF report of each région (``atlas --pdf``), read back with pypdf.

On the real PACA registry, and on the synthetic registry of ``test_figures.py`` (every stage,
conflicts, a CPTS in La Réunion) so that every table of the page is filled. Expected figures are
computed here from the analysis tables with plain pandas and French formatting written out by
hand, not by the report module.
"""

from __future__ import annotations

import io
import re

import pypdf
import pytest
from click.testing import CliRunner

from cpts_geo.analysis import analyse, for_region
from cpts_geo.atlas import write_atlas
from cpts_geo.atlas.reports import PAGE_SIZE, region_report, write_reports
from cpts_geo.cli import main
from cpts_geo.errors import CptsGeoError
from cpts_geo.registry.stages import LABELS, STAGES

from conftest import SHARED
from test_figures import staged  # noqa: F401  (the synthetic registry of the figure tests)

NNBSP, NBSP = "\u202f", "\u00a0"


def _int(n: int) -> str:
    return f"{n:,}".replace(",", NNBSP)


def _pct(rate: float) -> str:
    return f"{rate:.2f}".replace(".", ",") + NBSP + "%"


def _text(path) -> str:
    reader = pypdf.PdfReader(path)
    assert len(reader.pages) == 1
    return reader.pages[0].extract_text()


@pytest.fixture(scope="module")
def national(ref, paca):
    return analyse(paca, ref)


@pytest.fixture(scope="module")
def report(national, tmp_path_factory):
    out = tmp_path_factory.mktemp("pdf")
    (path,) = write_reports(national, out, regions=["93"])
    return path


def test_one_a4_landscape_page_with_the_region_and_its_coverage(report, paca_analysis):
    assert report.name == "93.pdf"
    reader = pypdf.PdfReader(report)
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width) / 72 * 25.4), round(float(box.height) / 72 * 25.4)) == (
        297, 210)
    text = reader.pages[0].extract_text()
    assert "Provence-Alpes-Côte d'Azur (93)" in text
    row = paca_analysis.couverture["region"].loc["93"]
    rate = 100 * row["population_couverte_tous_stades"] / row["population_totale"]
    assert f"Couverture : {_pct(rate)} de la population (tous stades)" in text
    assert f"Population de la région : {_int(int(row['population_totale']))} hab." in text
    for key in ("fonctionnement", "jusqu_projet_valide"):
        assert _pct(float(row[f"taux_{key}"])) in text


def test_tables_of_stages_tiers_and_zones_blanches(report, paca_analysis):
    text = _text(report)
    terr = paca_analysis.territories.table
    for stage in STAGES:  # every stage has its row, with its count
        count = int((terr["stade"] == stage).sum())
        assert re.search(re.escape(LABELS[stage]) + rf" {count}\b", text), stage
    for tier, count in terr["taille"].value_counts().items():
        assert re.search(rf"Taille {tier} \(.*?\) {count} ", text)
    assert f"Total {len(terr)} " in text
    zb = paca_analysis.zones_blanches.sort_values("population", ascending=False)
    total = int(zb["population"].sum())
    assert f"Zones blanches : {len(zb)} zones, {_int(total)} hab." in text
    for _, row in zb.head(4).iterrows():
        assert f"{row['zone_blanche']} {row['communes'][0]}" in text
        assert _int(int(row["population"])) in text
    assert f"… et {len(zb) - 4} autres zones (voir zones_blanches.csv)" in text
    assert "Conflits : aucun" in text


def test_metadata_without_date_and_same_bytes_twice(report, national, tmp_path):
    meta = pypdf.PdfReader(report).metadata
    assert "/CreationDate" not in meta and "/ModDate" not in meta
    assert meta["/Title"].startswith("Provence-Alpes-Côte d'Azur (93)")
    (again,) = write_reports(national, tmp_path, regions=["93"])
    assert again.read_bytes() == report.read_bytes()


def test_text_is_embedded_as_truetype_not_drawn(report):
    fonts = set()
    page = pypdf.PdfReader(report).pages[0]
    for font in page["/Resources"]["/Font"].values():
        fonts.add(font.get_object()["/Subtype"])
    assert fonts == {"/Type0"}  # pdf.fonttype 42: searchable text, small files


def test_every_stage_and_conflicts_are_reported(staged, tmp_path):  # noqa: F811
    analysis = staged
    paths = write_reports(analysis, tmp_path, regions=["93", "04"])
    assert [p.name for p in paths] == ["93.pdf", "04.pdf"]
    text = _text(paths[0])
    sub = for_region(analysis, "93")
    conflicts = sub.conflits
    units = sub.conflict_units
    assert f"Conflits : {len(units)} unités, {_int(int(units['population'].sum()))} hab." in text
    top = conflicts.sort_values("population", ascending=False).iloc[0]
    assert f"{top['nom_a']} / {top['nom_b']}"[:40] in text
    terr = sub.territories.table
    for stage in STAGES:
        assert re.search(re.escape(LABELS[stage]) + rf" {int((terr['stade'] == stage).sum())}\b",
                         text)
    assert "La Réunion (04)" in _text(paths[1])


def test_region_report_is_a_figure_of_a4_size(paca_analysis):
    fig = region_report(paca_analysis, "93")
    assert tuple(round(float(x), 3) for x in fig.get_size_inches()) == tuple(
        round(x, 3) for x in PAGE_SIZE)


def test_unknown_or_outside_region_is_refused(paca_analysis, national, tmp_path):
    with pytest.raises(CptsGeoError, match="'99' is not a région code"):
        write_reports(national, tmp_path, regions=["99"])
    with pytest.raises(CptsGeoError, match="outside this analysis"):
        write_reports(paca_analysis, tmp_path, regions=["11"])
    assert list(tmp_path.iterdir()) == []


def test_atlas_pdf_flag_writes_one_report_per_region(tmp_path):
    out = tmp_path / "atlas"
    res = CliRunner().invoke(main, ["atlas", "--region", "93", "--out", str(out), "--pdf"],
                             env={"CPTS_GEO_DATA": str(SHARED)})
    assert res.exit_code == 0, res.output
    assert (out / "93.pdf").is_file()
    assert "Provence-Alpes-Côte d'Azur (93)" in _text(out / "93.pdf")
    res = CliRunner().invoke(main, ["atlas", "--region", "93", "--out", str(out)],
                             env={"CPTS_GEO_DATA": str(SHARED)})
    assert res.exit_code == 0, res.output
    assert not (out / "93.pdf").exists()  # the previous run's report is not left stale


def test_write_atlas_pdf_lists_pages_only(national, tmp_path):
    pages = write_atlas(national, tmp_path, regions=["93"], pdf=True)
    assert [p.name for p in pages] == ["index.html", "93.html"]
    assert (tmp_path / "93.pdf").read_bytes().startswith(b"%PDF-")
    assert not (tmp_path / "93.png").exists()


def test_pdf_is_valid_for_a_strict_reader(report):
    reader = pypdf.PdfReader(io.BytesIO(report.read_bytes()), strict=True)
    assert len(reader.pages) == 1
