"""Property tests: code formatting, and the registry reader on generated registries and garbage.

Registries are generated from the real current codes (communes, arrondissements, Corsica,
overseas) and real stage labels; each is written as CSV (``,`` or ``;``, UTF-8 with or without
BOM, Windows-1252), XLSX (codes typed as numbers) and JSON, and must read back to the same
claims. Random bytes and random CSV text must give a registry or the project's
:class:`~cpts_geo.errors.ValidationError`, never another exception.
"""

from __future__ import annotations

import csv
import io
import json
import re
import tempfile
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cpts_geo import ValidationError
from cpts_geo.reference.codes import format_code, normalise
from cpts_geo.registry import read_registry
from cpts_geo.registry.records import is_no_cpts
from cpts_geo.registry.stages import STAGES

from conftest import SHARED

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
CODE = re.compile(r"^(?:[0-9]{5}|2[AB][0-9]{3})$")


def _real_codes() -> tuple[list[str], list[str]]:
    with open(SHARED / "population" / "communes-2026.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    current = sorted(r["code"] for r in rows if r["zone"] != "com" and r["type"] in {
        "commune-actuelle", "arrondissement-municipal"})
    with open(SHARED / "population" / "passage-communes-historique.csv", encoding="utf-8") as fh:
        old = sorted({r["code_historique"] for r in csv.DictReader(fh)} - set(current))
    return current, old


CURRENT, HISTORICAL = _real_codes()
current_codes = st.sampled_from(CURRENT)
# real codes, with the Corsican, arrondissement and overseas ones drawn often enough
interesting_codes = st.one_of(
    current_codes,
    st.sampled_from([c for c in CURRENT if c.startswith(("2A", "2B", "97", "132", "751",
                                                         "6938", "0"))]))

# labels as real listings write them, per stage
STAGE_LABELS = {
    "fonctionnement": ["ACI signé", "Signataire", "En fonctionnement", "fonctionnement"],
    "projet_valide": ["Projet de santé validé", "ACI en cours de signature", "projet_valide"],
    "lettre_intention": ["Lettre d'intention validée", "LI validée", "En rédaction"],
    "emergence": ["Émergence", "Pré-projet", "emergence"],
    "non_renseigne": ["", "Non renseigné", "NR"],
}


# --------------------------------------------------------------------------------------------
# codes


@SETTINGS
@given(code=interesting_codes, pad=st.sampled_from(["", " ", "  ", "\t", "\u00a0", "\u202f"]),
       form=st.sampled_from(["str", "int", "float", "lower", "apostrophe", "float-text"]))
def test_format_code_recovers_every_real_code(code: str, pad: str, form: str) -> None:
    value: object
    if form in {"int", "float", "float-text"} and code.isdigit():
        value = {"int": int(code), "float": float(code), "float-text": f"{int(code)}.0"}[form]
    elif form == "lower":
        value = pad + code.lower() + pad
    elif form == "apostrophe":
        value = "'" + code
    else:
        value = pad + code + pad
    assert format_code(value) == code


@SETTINGS
@given(value=st.one_of(st.text(max_size=30), st.integers(), st.floats(), st.none(),
                       st.booleans(), st.binary(max_size=10), st.decimals()))
def test_format_code_gives_a_code_or_none_and_is_idempotent(value: object) -> None:
    out = format_code(value)
    assert out is None or (CODE.match(out) and format_code(out) == out)


@SETTINGS
@given(values=st.lists(st.one_of(current_codes, st.sampled_from(HISTORICAL),
                                 st.text(max_size=8), st.integers(-10, 100_000)), max_size=30))
def test_normalise_maps_to_current_codes_or_reports(ref, values: list[object]) -> None:
    n = normalise(values, ref.crosswalk, ref.current_codes)
    assert len(n.codes) == len(values)
    assert all(c in ref.current_codes for c in n.codes if c is not None)
    assert len(n.unknown) == sum(c is None for c in n.codes)
    for old, new in n.remapped.items():
        assert old not in ref.current_codes and new in ref.current_codes
    # every current code comes back unchanged, every historical one as the crosswalk says
    for value, code in zip(values, n.codes, strict=True):
        if isinstance(value, str) and value in ref.current_codes:
            assert code == value
        elif isinstance(value, str) and value in HISTORICAL:
            assert code is not None and code == n.remapped[value]


# --------------------------------------------------------------------------------------------
# registries round-trip through every format

NAME_CHARS = list("abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZéèêàçôœÉÎ-',;\"()&0123")
names = st.one_of(
    st.sampled_from(["CPTS du Pays de Lérins", "CPTS Cœur du Var", "CPTS Nice, Est",
                     "CPTS « Les Baous »", "Drôme Provençale Enclave des Papes",
                     'CPTS "Actes Santé"', "CPTS Val d'Oronaye; Ubaye"]),
    st.text(alphabet=st.sampled_from(NAME_CHARS), min_size=1, max_size=30).map(str.strip)
    .filter(lambda s: bool(s) and re.search(r"[A-Za-zé]", s) is not None)
    # a name such as "NON-RATTACHE" or "Zone blanche" marks the uncovered area, not a CPTS
    .filter(lambda s: not is_no_cpts(s)),
)


@st.composite
def registries(draw: st.DrawFn) -> list[dict[str, object]]:
    """1-5 CPTS: name, stage, the stage label of each row, codes, shared codes."""
    cpts_names = draw(st.lists(names, min_size=1, max_size=5, unique_by=str.casefold))
    out = []
    for name in cpts_names:
        stage = draw(st.sampled_from(STAGES))
        codes = draw(st.lists(interesting_codes, min_size=1, max_size=8, unique=True))
        shared = draw(st.sets(st.sampled_from(codes), max_size=2))
        label = draw(st.sampled_from(STAGE_LABELS[stage]))
        first_only = draw(st.booleans())  # the stage written on the first row only
        out.append({"name": name, "stage": stage, "codes": codes, "shared": shared,
                    "labels": [label if (i == 0 or not first_only) else ""
                               for i in range(len(codes))]})
    return out


def expected_claims(reg: list[dict[str, object]]) -> set[tuple[str, str, str, bool]]:
    return {(c["name"], code, c["stage"], code in c["shared"])  # type: ignore[operator]
            for c in reg for code in c["codes"]}  # type: ignore[attr-defined]


def claims_of(path: Path, ref) -> set[tuple[str, str, str, bool]]:
    claims = read_registry(path, ref).claims
    assert len(claims) == len(set(zip(claims["cpts_nom"], claims["code"], strict=True)))
    return set(zip(claims["cpts_nom"], claims["code"], claims["stade"],
                   claims["partage"].astype(bool), strict=True))


def table_rows(reg: list[dict[str, object]]) -> list[list[str]]:
    rows = [["Nom de la CPTS", "Statut", "Code INSEE", "Partage"]]
    for c in reg:
        for code, label in zip(c["codes"], c["labels"], strict=True):  # type: ignore[call-overload]
            rows.append([c["name"], label, code, "infra" if code in c["shared"] else ""])
    return rows


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("properties")


@SETTINGS
@given(reg=registries(), delimiter=st.sampled_from([",", ";"]),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]))
def test_csv_round_trip(ref, workdir, reg, delimiter: str, encoding: str) -> None:
    path = workdir / "r.csv"
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter).writerows(table_rows(reg))
    path.write_bytes(buffer.getvalue().encode(encoding))
    assert claims_of(path, ref) == expected_claims(reg)


@settings(max_examples=30, deadline=None)
@given(reg=registries())
def test_xlsx_round_trip_with_codes_typed_as_numbers(ref, workdir, reg) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in table_rows(reg):
        code = row[2]
        ws.append([row[0], row[1], int(code) if code.isdigit() else code, row[3]])
    wb.save(workdir / "r.xlsx")
    assert claims_of(workdir / "r.xlsx", ref) == expected_claims(reg)


@SETTINGS
@given(reg=registries())
def test_json_round_trip(ref, workdir, reg) -> None:
    objects = [{"nom": c["name"], "statut": c["labels"][0],  # type: ignore[index]
                "communes": list(c["codes"]),  # type: ignore[call-overload]
                "infra": sorted(c["shared"])} for c in reg]  # type: ignore[call-overload]
    path = workdir / "r.json"
    path.write_text(json.dumps(objects, ensure_ascii=False), encoding="utf-8")
    assert claims_of(path, ref) == expected_claims(reg)


# --------------------------------------------------------------------------------------------
# garbage in: a registry or a ValidationError, nothing else


def read_or_refuse(data: bytes, suffix: str, ref) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"registre{suffix}"
        path.write_bytes(data)
        try:
            reg = read_registry(path, ref)
        except ValidationError as exc:
            assert exc.problems and str(exc).startswith(f"{len(exc.problems)} problem")
            return
        claims = reg.claims
        assert len(claims) > 0
        assert claims["code"].isin(ref.current_codes).all()
        assert set(claims["stade"]) <= set(STAGES)


MAGIC = [b"", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"PK\x03\x04", b"SQLite format 3\x00",
         b"{", b"[", b'{"type": "FeatureCollection", "features": [', b"\xd0\xcf\x11\xe0"]
SUFFIXES = ["", ".csv", ".txt", ".json", ".xlsx", ".geojson", ".gpkg"]


@settings(max_examples=100, deadline=None)
@given(magic=st.sampled_from(MAGIC), body=st.binary(max_size=1500),
       suffix=st.sampled_from(SUFFIXES))
def test_random_bytes_give_a_registry_or_a_validation_error(ref, magic: bytes, body: bytes,
                                                            suffix: str) -> None:
    read_or_refuse(magic + body, suffix, ref)


HEADERS = ["cpts_nom", "nom", "code_insee", "insee", "commune", "statut", "stade", "partage",
           "infra", "cpts_id", "code_arrondissement", "codes", ""]
cells = st.one_of(current_codes, st.sampled_from(HISTORICAL), st.sampled_from(HEADERS),
                  st.sampled_from([lbl for v in STAGE_LABELS.values() for lbl in v]),
                  st.sampled_from(["oui", "non", "infra", "x", "13055", "2a004", "6088",
                                   "13 001", "06079; 06138", '"', "'", "\n"]),
                  st.text(max_size=12))


@settings(max_examples=100, deadline=None)
@given(rows=st.lists(st.lists(cells, min_size=0, max_size=6), max_size=12),
       delimiter=st.sampled_from([",", ";", "\t", "|", " "]),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"]))
def test_random_csv_text_gives_a_registry_or_a_validation_error(ref, rows, delimiter: str,
                                                                encoding: str) -> None:
    text = "\n".join(delimiter.join(row) for row in rows)
    read_or_refuse(text.encode(encoding, errors="replace"), ".csv", ref)
