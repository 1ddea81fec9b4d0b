"""The quick path of ``cpts-geo check``: the check read from the cache, without pandas.

* the lean project reader takes what it can read exactly as the full reader does, and gives up
  on the rest (the bad-input corpus and variants of a plain project file);
* :func:`quick_check` gives the same check as :func:`check_project` on random projects over the
  real PACA registry (conflicts, shares, revisions, parts, enclaves, zones blanches);
* the command prints the same bytes on both paths, imports no pandas on the quick one, and
  falls back to the full path when a cache file is missing or stale.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from cpts_geo.analysis.check import check_project, remember, units_of
from cpts_geo.analysis.check_fast import quick_check, registry_key, units_path, view_path
from cpts_geo.registry import default_registry_path, membership, read_any, read_registry
from cpts_geo.registry.quick import read_project

from conftest import PACA_DIR, SHARED

BAD = Path(__file__).parent / "data" / "bad"
ROOT = Path(__file__).parents[1]


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    """A cache directory of this module's own (the quick path's files are created here)."""
    path = tmp_path_factory.mktemp("cache")
    saved = os.environ.get("CPTS_GEO_CACHE")
    os.environ["CPTS_GEO_CACHE"] = str(path)
    yield path
    if saved is None:
        del os.environ["CPTS_GEO_CACHE"]
    else:
        os.environ["CPTS_GEO_CACHE"] = saved


@pytest.fixture(scope="module")
def setup(cache, ref):
    reg = read_any(None, ref)
    remember(None, None, reg, ref)
    return reg


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


PLAIN = "cpts_nom;statut;code_insee\nCPTS Estérel;Lettre d'intention;06079\n" \
        "CPTS Estérel;Lettre d'intention;06138\n"
ACCEPTED = {
    "semicolon.csv": PLAIN,
    "comma-bom.csv": "\ufeffcpts_id,cpts_nom,code_commune,partage\nE1,Estérel,06079,\n"
                     "E1,Estérel,06138,oui\n",
    "tab-crlf.csv": "nom_cpts\tcode_insee\r\nEstérel\t06079\r\nEstérel\t13201\r\n",
    "title-rows.csv": "Projet de CPTS\n\ncpts_nom;code_insee;commentaire\nEstérel;06079;x\n"
                      "Estérel;06138;\n;;\n",
    "stage-on-one-row.csv": "cpts_nom;stade;code_insee\nE;ACI signé;06079\nE;;06138\n",
    "id-only.csv": "cpts_id;code_commune\nP-1;06079\nP-1;2A004\n",
    "ragged.csv": "cpts_nom;code_insee\nE;06079;x\nE\t;06138\nE;13201;;\n",
}
REJECTED = {
    "former-code.csv": "cpts_nom;code_insee\nGuil;05120\n",
    "city-whole.csv": "cpts_nom;code_insee\nMarseille;13055\n",
    "names.csv": "cpts_nom;nom_commune\nE;Mandelieu-la-Napoule\n",
    "duplicate.csv": "cpts_nom;code_insee\nE;06079\nE;06079\n",
    "two-cpts.csv": "cpts_nom;code_insee\nE;06079\nF;06138\n",
    "cp1252.csv": ("cpts_nom;code_insee\nEstérel;06079\n", "cp1252"),
    "empty-code.csv": "cpts_nom;code_insee\nE;06079\nE;\n",
    "hors-cpts.csv": "cpts_nom;code_insee\nHORS CPTS;06079\n",
    "unknown-stage.csv": "cpts_nom;stade;code_insee\nE;en sommeil;06079\n",
    "two-stages.csv": "cpts_nom;stade;code_insee\nE;ACI signé;06079\nE;Lettre d'intention;06138\n",
    "bad-share.csv": "cpts_nom;partage;code_insee\nE;peut-être;06079\n",
    "departement.csv": "cpts_nom;departement;code_insee\nE;06;06079\n",
    "dates.csv": "cpts_nom;date_aci;code_insee\nE;01/02/2024;06079\n",
    "list-in-cell.csv": "cpts_nom;code_insee\nE;06079, 06138\n",
    "number-code.csv": "cpts_nom;code_insee\nE;6079\n",
    "json.json": '{"cpts": []}',
}


def _same_as_full(path: Path, ref) -> None:
    quick = read_project(path, set(ref.finest.index))
    if quick is None:
        return
    full = read_registry(path, ref)
    assert full.warnings == (), (path.name, full.warnings)
    members = membership(full, ref)
    assert quick.codes == tuple(members["code"]), path.name
    assert quick.partage == tuple(members["partage"].tolist()), path.name
    assert {quick.cpts_id} == set(full.claims["cpts_id"]), path.name
    assert quick.cpts_nom == full.claims["cpts_nom"].iloc[0], path.name


@pytest.mark.parametrize("name", sorted(ACCEPTED))
def test_the_lean_reader_reads_plain_projects_as_the_full_reader(tmp_path, ref, name):
    path = _write(tmp_path / name, ACCEPTED[name])
    assert read_project(path, set(ref.finest.index)) is not None, name
    _same_as_full(path, ref)


@pytest.mark.parametrize("name", sorted(REJECTED))
def test_the_lean_reader_leaves_the_rest_to_the_full_reader(tmp_path, ref, name):
    text = REJECTED[name]
    path = _write(tmp_path / name, *(text if isinstance(text, tuple) else (text,)))
    assert read_project(path, set(ref.finest.index)) is None, name


def _workbook(path: Path, *sheets: list[list[object]]) -> Path:
    import openpyxl

    wb = openpyxl.Workbook()
    for i, rows in enumerate(sheets):
        ws = wb.active if i == 0 else wb.create_sheet(f"Feuille{i + 1}")
        for row in rows:
            ws.append(row)
    wb.save(path)
    return path


def test_the_lean_reader_reads_a_plain_workbook_as_the_full_reader(tmp_path, ref):
    plain = [["Nom CPTS", "Code INSEE", "Statut"], ["CPTS Estérel", "06079", "ACI signé"],
             ["CPTS Estérel", 13201, "ACI signé"], [None, None, None], ["CPTS Estérel", "2A004"]]
    path = _workbook(tmp_path / "projet.xlsx", plain)
    quick = read_project(path, set(ref.finest.index))
    assert quick is not None and quick.codes == ("06079", "13201", "2A004")
    _same_as_full(path, ref)
    # a code that lost its leading zero in Excel, or a second sheet with a table: full reader
    lost = _workbook(tmp_path / "zero.xlsx", [["cpts_nom", "code_insee"], ["E", 6079]])
    assert read_project(lost, set(ref.finest.index)) is None
    two = _workbook(tmp_path / "two.xlsx", plain, plain)
    assert read_project(two, set(ref.finest.index)) is None


@pytest.mark.parametrize("path", sorted(BAD.iterdir()), ids=lambda p: p.name)
def test_the_bad_input_corpus_is_read_exactly_or_not_at_all(path, ref):
    """Whatever the lean reader takes from the corpus, the full reader reads the same way."""
    _same_as_full(path, ref)


def _grow(units, rng: random.Random, size: int) -> list[int]:
    """A contiguous set of PACA units grown from a random seed (sometimes with a hole)."""
    paca = np.flatnonzero(units.region == "93")
    start = int(rng.choice(paca.tolist()))
    chosen, frontier = [start], [start]
    while frontier and len(chosen) < size:
        u = frontier.pop(rng.randrange(len(frontier)))
        for v in units.indices[units.indptr[u]:units.indptr[u + 1]].tolist():
            if v not in chosen and units.region[v] == "93" and len(chosen) < size:
                chosen.append(v)
                frontier.append(v)
    return chosen


def _project_file(path: Path, codes: list[str], shares: list[bool], name: str) -> Path:
    rows = ["cpts_id;cpts_nom;code_insee;partage"]
    rows += [f"PRJ;{name};{c};{'oui' if s else ''}" for c, s in zip(codes, shares, strict=True)]
    return _write(path, "\n".join(rows) + "\n")


@pytest.mark.parametrize("seed", range(12))
def test_quick_check_equals_check_project(tmp_path, ref, setup, seed):
    rng = random.Random(seed)
    units = units_of(ref)
    pos = _grow(units, rng, rng.choice([2, 8, 25, 60]))
    if seed % 3 == 0 and len(pos) > 4:  # leave a unit out inside: an enclave, perhaps
        pos.pop(len(pos) // 2)
    codes = [str(units.codes[u]) for u in pos]
    shares = [rng.random() < 0.15 for _ in codes]
    name = "CPTS du Pays de Lérins" if seed == 5 else f"Projet {seed}"  # a namesake
    path = _project_file(tmp_path / "p.csv", codes, shares, name)
    revise = None
    if seed % 4 == 1:  # a revision of the CPTS holding the first unit, when there is one
        m = membership(setup, ref)
        holders = m.loc[m["code"] == codes[0], "cpts_id"].tolist()
        revise = holders[0] if holders else None
    quick = quick_check(path, None, SHARED, revise)
    assert quick is not None
    fast, view = quick
    full = check_project(read_registry(path, ref), setup, ref, revises=revise)
    assert fast.to_dict() == full.to_dict()
    assert view.warnings == setup.warnings and view.source == setup.source


def test_quick_check_needs_what_the_full_path_stores(tmp_path, ref, cache):
    registry = _write(tmp_path / "r.csv", (PACA_DIR / "cpts-communes.csv").read_text("utf-8"))
    project = _write(tmp_path / "p.csv", PLAIN)
    assert quick_check(project, registry, SHARED) is None  # never checked against
    reg = read_registry(registry, ref)
    remember(registry, None, reg, ref)
    assert quick_check(project, registry, SHARED) is not None
    # the registry changed: another key, the full path again
    registry.write_text("".join(registry.read_text("utf-8").splitlines(keepends=True)[:-1]),
                        encoding="utf-8")
    assert quick_check(project, registry, SHARED) is None
    # an unreadable view or unit file: the full path
    key = registry_key(default_registry_path(), None, ref.tables_checksum)
    view = view_path(key)
    saved = view.read_bytes()
    view.write_bytes(b"not an npz")
    assert quick_check(project, None, SHARED) is None
    view.write_bytes(saved)
    from cpts_geo.reference.geometry import input_checksum

    units = units_path(ref.tables_checksum, input_checksum(ref))
    saved = units.read_bytes()
    units.unlink()
    assert quick_check(project, None, SHARED) is None
    units.write_bytes(saved)
    assert quick_check(project, None, SHARED) is not None


_RUN = """
import sys
from cpts_geo.cli import main
try:
    main(sys.argv[1:], prog_name="cpts-geo")
except SystemExit as exc:
    code = exc.code
print("PANDAS" if "pandas" in sys.modules else "NO-PANDAS", code, file=sys.stderr)
"""


def _run(cache: Path, *args: str) -> tuple[str, str]:
    env = {**os.environ, "CPTS_GEO_CACHE": str(cache), "CPTS_GEO_DATA": str(SHARED)}
    out = subprocess.run([sys.executable, "-c", _RUN, "check", *args], capture_output=True,
                         text=True, env=env, cwd=ROOT, timeout=300)
    return out.stdout, out.stderr


@pytest.mark.parametrize(("extra", "kind"), [(["--json"], "csv"), ([], "csv"),
                                             (["--json"], "xlsx")],
                         ids=["json", "report", "xlsx"])
def test_the_command_prints_the_same_on_both_paths_without_pandas(tmp_path, extra, kind):
    cache = tmp_path / "cache"
    rows = [["cpts_nom", "code_insee"], ["Marseille", "13201"], ["Marseille", "13202"],
            ["Marseille", "06079"]]
    project = (_write(tmp_path / "p.csv", "\n".join(";".join(r) for r in rows) + "\n")
               if kind == "csv" else _workbook(tmp_path / "p.xlsx", rows))
    first, err1 = _run(cache, str(project), *extra)
    second, err2 = _run(cache, str(project), *extra)
    assert err1.splitlines()[-1] == "PANDAS 1"  # the full path (conflict: exit code 1)
    assert err2.splitlines()[-1] == "NO-PANDAS 1"  # the quick path
    assert first == second and first
    if extra:
        payload = json.loads(second)
        assert payload["conflits"][0]["codes"] == ["13202"]
        assert payload["avertissements"] == [] and len(payload["parties"]) == 2
    # with -v, --at or a sheet the full path is taken
    _, err3 = _run(cache, str(project), "-v", *extra)
    assert err3.splitlines()[-1] == "PANDAS 1"


def test_a_revision_of_no_cpts_says_the_same_on_both_paths(tmp_path):
    """The registry's warning line comes before the error, on the quick path too."""
    registry = tmp_path / "registre.csv"
    registry.write_bytes(default_registry_path().read_bytes())  # it has two warnings
    project = _write(tmp_path / "p.csv", PLAIN)
    args = (str(project), "--registry", str(registry))
    _run(tmp_path / "cache", *args)  # the full path, which stores the view
    quick = _run(tmp_path / "cache", *args, "--revise", "PACA-999")
    full = _run(tmp_path / "other-cache", *args, "--revise", "PACA-999")
    assert quick[1].splitlines()[-1] == "NO-PANDAS 2" and full[1].splitlines()[-1] == "PANDAS 2"
    assert quick[1].splitlines()[:-1] == full[1].splitlines()[:-1]
    assert "has 2 warning(s)" in quick[1] and "--revise 'PACA-999'" in quick[1]
    assert quick[0] == full[0] == ""


def test_the_tables_key_sees_an_edit_that_keeps_the_modification_time(tmp_path):
    from cpts_geo.reference.tables_cache import tables_key

    csv = tmp_path / "population" / "communes-2026.csv"
    csv.parent.mkdir()
    csv.write_text("code,population\n06079,21640\n", encoding="utf-8")
    before = tables_key(tmp_path)
    st = csv.stat()
    time.sleep(0.05)  # file times come from a coarse clock: let it move on
    csv.write_text("code,population\n06079,99999\n", encoding="utf-8")  # same size
    os.utime(csv, ns=(st.st_atime_ns, st.st_mtime_ns))
    after = csv.stat()
    assert after.st_mtime_ns == st.st_mtime_ns and after.st_ctime_ns != st.st_ctime_ns
    assert tables_key(tmp_path) != before
