"""The worked example (notebooks/walkthrough.ipynb) runs end to end and shows the right facts.

The notebook is executed with nbclient in a ``python3`` kernel that inherits ``CPTS_GEO_DATA``;
its cells are found by their tag (also their id) and their outputs checked against the real
PACA analysis.
"""

from __future__ import annotations

import base64
import io
import os
from pathlib import Path

import nbformat
import pytest
from PIL import Image

NOTEBOOK = Path(__file__).parents[1] / "notebooks" / "walkthrough.ipynb"


def _fr(rate: float) -> str:
    return f"{rate:.2f}".replace(".", ",") + " %"


def _n(value: int) -> str:
    return f"{int(value):,}".replace(",", "\u202f")


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    from nbclient import NotebookClient

    nb = nbformat.read(NOTEBOOK, as_version=4)
    workdir = tmp_path_factory.mktemp("notebook")
    client = NotebookClient(nb, timeout=600, kernel_name="python3", allow_errors=False,
                            resources={"metadata": {"path": str(workdir)}})
    client.execute()
    return nb


def _cell(nb, tag: str):
    found = [c for c in nb.cells if tag in c.get("metadata", {}).get("tags", [])]
    assert len(found) == 1, f"expected one cell tagged {tag!r}"
    return found[0]


def _text(nb, tag: str) -> str:
    """Everything a cell printed or displayed as text."""
    parts = []
    for out in _cell(nb, tag).outputs:
        if out.output_type == "stream":
            parts.append(out.text)
        elif out.output_type in ("execute_result", "display_data"):
            parts.append(out.data.get("text/plain", ""))
            parts.append(out.data.get("text/html", ""))
    return "\n".join(parts)


def test_committed_notebook_is_valid_with_outputs_cleared():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.kernelspec.name == "python3"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert len(code) >= 8
    for cell in code:
        assert cell.outputs == [], f"cell {cell.id} has outputs: clear them before committing"
        assert cell.execution_count is None
        assert cell.metadata.get("tags") == [cell.id]


def test_notebook_runs_without_error_or_warning(executed):
    for cell in executed.cells:
        if cell.cell_type != "code":
            continue
        assert cell.execution_count is not None
        for out in cell.outputs:
            assert out.output_type != "error", f"cell {cell.id}: {out.get('ename')}"
            if out.output_type == "stream":
                assert out.name == "stdout", f"cell {cell.id} wrote to stderr: {out.text}"


def test_reference_is_read_from_cpts_geo_data(executed):
    text = _text(executed, "reference")
    assert f"CPTS_GEO_DATA = {os.environ['CPTS_GEO_DATA']}\n" in text
    assert "34875 communes and 45 arrondissements municipaux" in text


def test_registry_has_70_cpts_and_reports_the_remapped_code(executed):
    text = _text(executed, "registry")
    assert "70 CPTS" in text
    assert "Non renseigné    70" in text
    assert "05120" in text and "05001" in text  # Ristolas → Abriès-Ristolas


def test_analysis_shows_the_coverage_of_the_region(executed, paca_analysis):
    text = _text(executed, "analysis")
    rate = float(paca_analysis.couverture["region"].loc["93", "taux_tous_stades"])
    assert "93 Provence-Alpes-Côte d'Azur : 70 CPTS" in text
    assert f"Couverture : {_fr(rate)} de la population (tous stades)" in text
    total = int(paca_analysis.couverture["region"].loc["93", "population_totale"])
    assert f"Population : {_n(total)} habitants" in text


def test_territories_table_lists_the_largest_cpts(executed, paca_analysis):
    text = _text(executed, "territories")
    table = paca_analysis.territories.table
    assert "70 territoires" in text
    largest = table.sort_values("population", ascending=False).iloc[0]
    assert largest["cpts_nom"] in text
    assert "Non renseigné" in text and "Plafond ACI" in text
    tiers = _text(executed, "tiers")
    for label, n in table["taille"].value_counts().items():
        assert f"Taille {label} (" in tiers
        assert str(n) in tiers


def test_coverage_by_departement(executed, paca_analysis):
    text = _text(executed, "coverage")
    dep = paca_analysis.couverture["departement"]
    assert list(dep.index) == ["04", "05", "06", "13", "83", "84"]
    for code, row in dep.iterrows():
        line = next(x for x in text.splitlines() if x.startswith(code + " "))
        assert row["nom"] in line
        assert f"{row['taux_tous_stades']:.2f}" in line


def test_shared_communes_are_nice_and_toulon_and_no_conflict(executed):
    text = _text(executed, "shared")
    lines = text.splitlines()
    nice = next(x for x in lines if x.startswith("Nice (06088"))
    toulon = next(x for x in lines if x.startswith("Toulon (83137"))
    assert nice.count("CPTS") == 3 and "CPTS Nice Nord et ses Collines" in nice
    assert toulon.count("CPTS") == 2 and "CPTS Toulon Littoral" in toulon
    assert "Conflits : aucun" in text


def test_zones_blanches(executed, paca_analysis):
    text = _text(executed, "gaps")
    zb = paca_analysis.zones_blanches
    assert f"{len(zb)} zones blanches, {_n(zb['population'].sum())} habitants" in text
    assert "Marseille 1er Arrondissement" in text
    assert "Vauvenargues" in text


def test_static_figure_is_displayed(executed):
    text = _text(executed, "figure")
    assert "Figures : 93.png, 93.svg" in text
    images = [out.data["image/png"] for out in _cell(executed, "figure").outputs
              if out.output_type == "display_data" and "image/png" in out.data]
    assert len(images) == 1
    with Image.open(io.BytesIO(base64.b64decode(images[0]))) as im:
        assert im.size == (1800, 1275)


def test_atlas_pages_figures_and_embed_snippets(executed):
    text = _text(executed, "atlas")
    assert "Pages : index.html, 93.html" in text
    files = next(x for x in text.splitlines() if x.startswith("Fichiers :"))
    listed = files.split(": ", 1)[1].split(", ")
    for name in ("index.html", "93.html", "93.png", "93.embed.html", "index.embed.html"):
        assert name in listed
    assert "lib" not in listed  # self-contained pages: nothing shipped beside them
    assert '<iframe src="93.html"' in text
    assert 'sandbox="allow-scripts"' in text and 'loading="lazy"' in text
    assert "Provence-Alpes-Côte d&#x27;Azur" in text
