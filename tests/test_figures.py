"""Static figures (PNG/SVG) and iframe embed snippets, on the real PACA registry.

A second, synthetic registry is made from the real one (stages spread over the 70 CPTS, one
arrondissement claimed twice, one CPTS in La Réunion) so that every legend entry and a second
CRS are exercised.
"""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest
from PIL import Image

from cpts_geo.analysis import analyse, for_region
from cpts_geo.atlas.embed import embed_snippet, write_embed_snippets
from cpts_geo.atlas.figures import DPI, FIGSIZE, _nice_length, region_figure, write_figures
from cpts_geo.errors import CptsGeoError
from cpts_geo.registry import registry_from_frame
from cpts_geo.registry.stages import COLOURS, LABELS, STAGES

SVG = "{http://www.w3.org/2000/svg}"


def _fr(rate: float) -> str:
    return f"{rate:.2f}".replace(".", ",")


def _svg_texts(path: Path, gid: str) -> list[str]:
    """Texts of the SVG group ``gid`` (text is kept as text: svg.fonttype none)."""
    root = ET.parse(path).getroot()
    groups = [g for g in root.iter(f"{SVG}g") if g.get("id") == gid]
    assert len(groups) == 1, f"expected one <g id={gid!r}>"
    return [" ".join("".join(t.itertext()).split()) for t in groups[0].iter(f"{SVG}text")]


def _colour_count(image: Image.Image, hex_colour: str) -> int:
    rgb = np.asarray(image.convert("RGB")).reshape(-1, 3)
    target = np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)])
    return int((np.abs(rgb.astype(int) - target).sum(axis=1) == 0).sum())


@pytest.fixture(scope="module")
def national(ref, paca):
    return analyse(paca, ref)


@pytest.fixture(scope="module")
def figures(national, tmp_path_factory):
    out = tmp_path_factory.mktemp("figures")
    return out, write_figures(national, out, svg=True)


@pytest.fixture(scope="module")
def staged(ref, paca):
    """National analysis of PACA with every stage, two conflicts and a CPTS in La Réunion."""
    claims = paca.claims[["cpts_id", "cpts_nom", "code", "partage"]].copy()
    source_labels = ["ACI signé", "projet de santé validé", "lettre d'intention", "émergence", ""]
    ids = sorted(claims["cpts_id"].unique())
    claims["stade"] = claims["cpts_id"].map(
        {c: source_labels[i % 5] for i, c in enumerate(ids)})
    claims["partage"] = np.where(claims["partage"], "infra", "")
    names = claims.drop_duplicates("cpts_id").set_index("cpts_id")
    owner = claims.loc[claims["code"] == "13214", "cpts_id"].iloc[0]
    other = next(c for c in ids if c != owner)
    # 13214 (Marseille 14e, 5 km²) claimed twice; 13201 (Marseille 1er, 1.8 km², a gap in the
    # real registry) claimed by two CPTS: too small to see, it gets a symbol
    twice = [other, ids[0], ids[1]]
    extra = pd.DataFrame({"cpts_id": twice, "cpts_nom": list(names.loc[twice, "cpts_nom"]),
                          "code": ["13214", "13201", "13201"], "partage": "",
                          "stade": list(names.loc[twice, "stade"])})
    reunion = ref.units.index[ref.units["departement"] == "974"][:10]
    run = pd.DataFrame({"cpts_id": "REU-001", "cpts_nom": "CPTS Nord Réunion",
                        "code": list(reunion), "partage": "", "stade": "ACI signé"})
    frame = pd.concat([claims, extra, run], ignore_index=True)
    registry = registry_from_frame(frame.rename(columns={"code": "code_insee"}), ref,
                                   source="synthetique.csv")
    return analyse(registry, ref)


# --------------------------------------------------------------------------------------------
# files


def test_writes_one_png_and_svg_per_region_with_cpts(figures):
    out, written = figures
    assert [p.name for p in written] == ["93.png", "93.svg"]  # only PACA has CPTS
    assert sorted(p.name for p in out.iterdir()) == ["93.png", "93.svg"]  # no temp files left
    assert all(p.stat().st_size > 10_000 for p in written)


def test_png_is_a_valid_image_of_the_documented_size(figures):
    _, written = figures
    with Image.open(written[0]) as im:
        im.verify()
    with Image.open(written[0]) as im:
        assert im.format == "PNG"
        assert im.size == (round(FIGSIZE[0] * DPI), round(FIGSIZE[1] * DPI)) == (1800, 1275)
        # all 70 PACA CPTS are 'non renseigné': their colour fills a good part of the map
        assert _colour_count(im, COLOURS["non_renseigne"]) > 0.15 * im.size[0] * im.size[1]
        assert _colour_count(im, COLOURS["fonctionnement"]) == 0


def test_svg_is_identical_across_runs(national, figures, tmp_path):
    _, written = figures
    again = write_figures(national, tmp_path, regions=["93"], png=False, svg=True)
    assert [p.name for p in again] == ["93.svg"]
    assert again[0].read_bytes() == written[1].read_bytes()
    text = written[1].read_text(encoding="utf-8")
    assert "<dc:date>" not in text


def test_png_is_identical_across_runs(national, figures, tmp_path):
    _, written = figures
    (again,) = write_figures(national, tmp_path, regions=["93"])
    assert again.read_bytes() == written[0].read_bytes()


def test_formats_can_be_switched_off(national, tmp_path):
    assert write_figures(national, tmp_path / "none", png=False) == []
    assert not (tmp_path / "none").exists()


# --------------------------------------------------------------------------------------------
# content


def test_title_has_region_name_and_coverage_from_the_analysis(figures, paca_analysis):
    _, written = figures
    rate = float(paca_analysis.couverture["region"].loc["93", "taux_tous_stades"])
    assert _svg_texts(written[1], "titre") == [
        "Provence-Alpes-Côte d'Azur (93) — CPTS par stade"]
    assert _svg_texts(written[1], "sous-titre") == [
        f"Couverture : {_fr(rate)} % de la population (tous stades)"]
    assert 95 < rate < 100  # the real PACA coverage (98,06 % with the 2026 populations)


def test_legend_shows_the_french_labels_of_the_stages_present(figures, paca_analysis):
    _, written = figures
    legend = _svg_texts(written[1], "legende")
    stages = paca_analysis.territories.table["stade"].value_counts()
    assert set(stages.index) == {"non_renseigne"}
    assert f"{LABELS['non_renseigne']} ({stages['non_renseigne']})" in legend
    for stage in STAGES:
        if stage not in stages.index:
            assert not any(t.startswith(LABELS[stage]) for t in legend)
    assert legend[0] == "Légende"
    assert "Zone blanche (aucune CPTS)" in legend  # PACA has 7 zones blanches
    assert "Petite zone blanche (symbole)" in legend  # Marseille 1er: too small to see
    assert "Commune partagée par plusieurs CPTS" in legend  # Nice, Toulon
    assert not any("conflit" in t for t in legend)  # no conflict in the real registry


def test_key_figures_and_sources(figures, paca_analysis):
    _, written = figures
    figures_text = " ".join(_svg_texts(written[1], "chiffres"))
    assert "70 CPTS touchant la région" in figures_text
    n_zb = len(paca_analysis.zones_blanches)
    assert f"{n_zb} zones blanches" in figures_text
    assert "Marseille 1er Arrondissement" in figures_text  # the most populated zone blanche
    assert "Communes partagées : Nice, Toulon" in figures_text
    assert "Conflits : aucun" in figures_text
    (sources,) = _svg_texts(written[1], "sources")
    assert sources.startswith("Sources : registre CPTS (cpts-communes.csv), IGN ADMIN EXPRESS,"
                              " INSEE populations légales 2026")


def test_map_is_drawn_in_metres_with_a_km_scale_bar(national):
    fig = region_figure(national, "93")
    ax = fig.axes[0]
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    # Lambert-93 metres around PACA, not degrees
    assert 750_000 < x0 < x1 < 1_150_000
    assert 6_150_000 < y0 < y1 < 6_500_000
    texts = [t.get_text() for t in ax.texts]
    assert any(t.endswith(" km") for t in texts)
    assert "Var (83)" in texts


@pytest.mark.parametrize(("width_m", "expected_m"), [
    (400_000, 50_000), (250_000, 50_000), (199_000, 20_000), (60_000, 10_000),
    (4_000, 500), (1, 1)])
def test_scale_bar_length_is_round(width_m, expected_m):
    assert _nice_length(width_m) == expected_m


def test_every_stage_conflicts_and_an_overseas_region(staged, tmp_path):
    written = write_figures(staged, tmp_path, svg=True)
    assert [p.name for p in written] == ["04.png", "04.svg", "93.png", "93.svg"]
    legend = _svg_texts(tmp_path / "93.svg", "legende")
    counts = for_region(staged, "93").territories.table["stade"].value_counts()
    for stage in STAGES:
        assert f"{LABELS[stage]} ({counts[stage]})" in legend
    assert "Commune en conflit entre CPTS" in legend
    assert "Petite commune en conflit (symbole)" in legend  # Marseille 1er
    key_figures = " ".join(_svg_texts(tmp_path / "93.svg", "chiffres"))
    assert "Conflits : 2 unités" in key_figures
    assert "6 zones blanches" in key_figures  # Marseille 1er is claimed now
    # La Réunion: drawn in EPSG:2975 metres, one CPTS 'en fonctionnement'
    assert _svg_texts(tmp_path / "04.svg", "titre") == ["La Réunion (04) — CPTS par stade"]
    reunion = _svg_texts(tmp_path / "04.svg", "legende")
    assert f"{LABELS['fonctionnement']} (1)" in reunion
    ax = region_figure(staged, "04").axes[0]
    assert 300_000 < ax.get_xlim()[0] < ax.get_xlim()[1] < 400_000
    with Image.open(tmp_path / "93.png") as im:
        for stage in STAGES:
            assert _colour_count(im, COLOURS[stage]) > 1000, stage


# --------------------------------------------------------------------------------------------
# arguments and safety


def test_unknown_region_is_refused_with_the_known_codes(national, tmp_path):
    with pytest.raises(CptsGeoError, match=r"'99'.*93 \(Provence-Alpes-Côte d'Azur\)"):
        write_figures(national, tmp_path, regions=["99"])
    assert not list(tmp_path.iterdir())


def test_regional_analysis_draws_its_own_region_only(paca_analysis, tmp_path):
    assert [p.name for p in write_figures(paca_analysis, tmp_path)] == ["93.png"]
    with pytest.raises(CptsGeoError, match="national analysis"):
        write_figures(paca_analysis, tmp_path, regions=["11"])


def test_analysis_without_polygons_is_refused(ref, paca, tmp_path):
    flat = analyse(paca, ref, geometry=False)
    with pytest.raises(CptsGeoError, match=r"geometry=True"):
        write_figures(flat, tmp_path)
    assert not any(tmp_path.iterdir())


def test_region_without_cpts_can_be_asked_for(national, tmp_path):
    (png,) = write_figures(national, tmp_path, regions=["94"])  # Corse: no CPTS in registry
    assert png.name == "94.png"


@pytest.mark.parametrize("error", [RuntimeError("disk full"), KeyboardInterrupt()])
def test_interrupted_write_leaves_no_partial_file(national, tmp_path, monkeypatch, error):
    from matplotlib.figure import Figure

    (good,) = write_figures(national, tmp_path / "kept", regions=["93"])
    before = good.read_bytes()

    def broken(self, fname, **kwargs):
        fname.write(b"\x89PNG partial")
        raise error

    monkeypatch.setattr(Figure, "savefig", broken)
    with pytest.raises(type(error)):
        write_figures(national, tmp_path / "kept", regions=["93"])
    with pytest.raises(type(error)):
        write_figures(national, tmp_path / "fresh", regions=["93"], svg=True)
    assert good.read_bytes() == before  # the previous figure is intact
    assert sorted(p.name for p in (tmp_path / "kept").iterdir()) == ["93.png"]
    assert list((tmp_path / "fresh").iterdir()) == []


def test_matplotlib_settings_of_the_caller_are_left_alone(national, tmp_path):
    keys = ["svg.hashsalt", "svg.fonttype", "hatch.linewidth", "font.family", "path.simplify"]
    before = {k: matplotlib.rcParams[k] for k in keys}
    write_figures(national, tmp_path, svg=True)
    assert {k: matplotlib.rcParams[k] for k in keys} == before


def test_import_does_not_load_matplotlib_nor_figures_pyplot(tmp_path):
    code = (
        "import sys, cpts_geo, cpts_geo.atlas.figures, cpts_geo.atlas.embed\n"
        "assert 'matplotlib' not in sys.modules, 'import cpts_geo loaded matplotlib'\n"
        "from pathlib import Path\n"
        "from cpts_geo.analysis import analyse\n"
        "from cpts_geo.registry import read_any\n"
        "ref = cpts_geo.load_reference()\n"
        "reg = read_any(None, ref)\n"
        f"cpts_geo.atlas.figures.write_figures(analyse(reg, ref), Path({str(tmp_path)!r}),"
        " svg=True)\n"
        "assert 'matplotlib.pyplot' not in sys.modules, 'write_figures loaded pyplot'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ}, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["93.png", "93.svg"]


# --------------------------------------------------------------------------------------------
# embed snippets


class _Iframes(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.frames: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "iframe":
            self.frames.append(dict(attrs))


def _iframe(snippet: str) -> dict[str, str | None]:
    parser = _Iframes()
    parser.feed(snippet)
    assert len(parser.frames) == 1
    return parser.frames[0]


def test_embed_snippet_is_a_lazy_sandboxed_responsive_iframe():
    snippet = embed_snippet("93.html", "Atlas des CPTS – Provence-Alpes-Côte d'Azur")
    frame = _iframe(snippet)
    assert frame["src"] == "93.html"
    assert frame["title"] == "Atlas des CPTS – Provence-Alpes-Côte d'Azur"
    assert frame["loading"] == "lazy"
    assert frame["sandbox"] == "allow-scripts"
    assert frame["height"] == "600"
    style = frame["style"] or ""
    assert "width:100%" in style and "aspect-ratio:4 / 3" in style
    assert "max-height:600px" in style
    assert embed_snippet("93.html", "t", height=450).count("max-height:450px") == 1


def test_embed_snippet_escapes_title_and_address():
    snippet = embed_snippet('atlas/a b"><script>.html', 'x" onload="alert(1)<script>')
    assert "<script>" not in snippet
    assert 'onload="' not in snippet
    frame = _iframe(snippet)
    assert frame["src"] == "atlas/a%20b%22%3E%3Cscript%3E.html"
    assert frame["title"] == 'x" onload="alert(1)<script>'  # text, once unescaped


@pytest.mark.parametrize("page", ["https://example.org/93.html", "/var/www/93.html",
                                  "//example.org/93.html", "javascript:alert(1)", ""])
def test_embed_snippet_needs_a_relative_page(page):
    with pytest.raises(ValueError, match="relative path"):
        embed_snippet(page, "Atlas")


@pytest.mark.parametrize("height", [0, -5, 600.5, True])
def test_embed_snippet_needs_a_positive_height(height):
    with pytest.raises(ValueError, match="height"):
        embed_snippet("93.html", "Atlas", height=height)


def test_write_embed_snippets_uses_each_page_title(tmp_path):
    atlas = tmp_path / "atlas"
    atlas.mkdir()
    pages = [atlas / "index.html", atlas / "93.html", atlas / "11.html"]
    pages[0].write_text("<html><head><title>Atlas des CPTS – France</title></head></html>",
                        encoding="utf-8")
    pages[1].write_text("<title>Atlas des CPTS – Provence-Alpes-C&ocirc;te d&#39;Azur</title>",
                        encoding="utf-8")
    pages[2].write_text("<html><body>no title</body></html>", encoding="utf-8")
    written = write_embed_snippets(atlas, pages)
    assert [p.name for p in written] == ["index.embed.html", "93.embed.html", "11.embed.html"]
    frames = [_iframe(p.read_text(encoding="utf-8")) for p in written]
    assert [f["src"] for f in frames] == ["index.html", "93.html", "11.html"]
    assert [f["title"] for f in frames] == ["Atlas des CPTS – France",
                                           "Atlas des CPTS – Provence-Alpes-Côte d'Azur",
                                           "Atlas des CPTS – 11"]
    assert sorted(p.name for p in atlas.iterdir()) == sorted(
        ["index.html", "93.html", "11.html", "index.embed.html", "93.embed.html",
         "11.embed.html"])
    # snippets written elsewhere point at the pages relatively
    (elsewhere,) = write_embed_snippets(tmp_path / "snippets", [pages[1]])
    assert _iframe(elsewhere.read_text(encoding="utf-8"))["src"] == "../atlas/93.html"


def test_write_embed_snippets_needs_existing_pages(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"missing\.html"):
        write_embed_snippets(tmp_path, [tmp_path / "missing.html"])
    assert list(tmp_path.iterdir()) == []
