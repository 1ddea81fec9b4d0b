"""Rebuild the recorded responses used by tests/test_fetch.py from the real data.

Run from the project root with the shared data beside it::

    python tests/data/fetch/make_fixtures.py [../shared/data]

Everything written here is a trimmed copy of real public data:

* ``decoupage-administratif-6.0.0.tgz``: the real npm tarball of
  ``@etalab/decoupage-administratif`` 6.0.0 (package.json, README.md, LICENSE kept as is) with
  ``data/communes.json`` cut down to a few real communes (Queyras in the Hautes-Alpes, Marseille
  and its 16 arrondissements, Saint-Denis de La Réunion, Saint-Pierre-et-Miquelon) in their
  original order, and the complete ``regions.json`` and ``departements.json``. Built
  deterministically (fixed mtimes, gzip mtime 0).
* ``npm-metadata.json``: the registry's metadata document for the package as recorded from
  ``https://registry.npmjs.org/@etalab/decoupage-administratif``, with ``dist.integrity`` and
  ``dist.shasum`` of 6.0.0 replaced by those of the trimmed tarball above.
* ``communes-100m.geojson.gz``: the same communes (and Marseille's arrondissements, with a
  ``commune`` property, as in the Etalab file) with their real shapes from the ``france_wgs84``
  layer of communes-2025.gpkg and arrondissements-municipaux.gpkg, coordinates rounded to 4
  decimals as in the Etalab 100 m files, properties ``code, nom, departement, region, epci``.
* ``arrondissements-municipaux-100m.geojson.gz``: Marseille's 16 arrondissements, properties
  ``code, nom, departement, region, commune``.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import sys
import tarfile
from pathlib import Path

import pyogrio
import shapely

HERE = Path(__file__).resolve().parent
PACKAGE = "etalab-decoupage-administratif-6.0.0.tgz"
QUEYRAS = ("05001", "05003", "05007", "05027", "05038", "05077", "05157")
MARSEILLE = "13055"
ARRS = tuple(str(c) for c in range(13201, 13217))
DROM = ("97411",)
COM = ("97501",)
KEEP = {*QUEYRAS, MARSEILLE, *ARRS, *DROM, *COM}
MTIME = 1_775_000_000  # fixed: the tarball must be byte-stable


def _round(geom: shapely.Geometry) -> shapely.Geometry:
    return shapely.set_precision(geom, 1e-4)


def _gzip(data: bytes) -> bytes:
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0, compresslevel=9) as gz:
        gz.write(data)
    return buf.getvalue()


def _feature_collection(features: list[dict]) -> bytes:
    doc = {"type": "FeatureCollection", "features": features}
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()


def main(shared: Path) -> None:
    real = shared / "population" / PACKAGE
    members: dict[str, bytes] = {}
    with tarfile.open(real, "r:gz") as tar:
        for m in tar.getmembers():
            if m.isfile():
                fh = tar.extractfile(m)
                assert fh is not None
                members[m.name] = fh.read()
    communes = json.loads(members["package/data/communes.json"])
    kept = [r for r in communes
            if r["code"] in KEEP or r.get("chefLieu") in KEEP or r.get("commune") in KEEP]
    epci = json.loads(members["package/data/epci.json"])
    epci_kept = []
    epci_of: dict[str, str] = {}
    for e in epci:
        membres = [m for m in e["membres"] if m["code"] in KEEP]
        if membres:
            epci_kept.append({**e, "membres": membres})
            for m in membres:
                epci_of[m["code"]] = e["code"]
    arrondissements = json.loads(members["package/data/arrondissements.json"])
    arr_kept = [a for a in arrondissements
                if a["departement"] in {r["departement"] for r in kept}]

    def dump(obj: object) -> bytes:
        return json.dumps(obj, ensure_ascii=False).encode()

    files = {
        "package/package.json": members["package/package.json"],
        "package/README.md": members["package/README.md"],
        "package/LICENSE": members["package/LICENSE"],
        "package/data/communes.json": dump(kept),
        "package/data/departements.json": members["package/data/departements.json"],
        "package/data/regions.json": members["package/data/regions.json"],
        "package/data/arrondissements.json": dump(arr_kept),
        "package/data/epci.json": dump(epci_kept),
    }
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), MTIME, 0o644
            tar.addfile(info, io.BytesIO(data))
    tgz = _gzip(raw.getvalue())
    (HERE / "decoupage-administratif-6.0.0.tgz").write_bytes(tgz)

    meta_path = HERE / "npm-metadata.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    dist = meta["versions"]["6.0.0"]["dist"]
    dist["integrity"] = "sha512-" + base64.b64encode(hashlib.sha512(tgz).digest()).decode()
    dist["shasum"] = hashlib.sha1(tgz).hexdigest()
    meta_path.write_text(json.dumps(meta, ensure_ascii=False, indent=1) + "\n",
                         encoding="utf-8")

    by_code = {r["code"]: r for r in communes if r["type"] == "commune-actuelle"}
    arr_rows = {r["code"]: r for r in communes if r["type"] == "arrondissement-municipal"}
    frame = pyogrio.read_dataframe(shared / "communes" / "communes-2025.gpkg",
                                   layer="france_wgs84")
    frame = frame[frame["code_commune"].isin(list(KEEP))].sort_values("code_commune")
    arr = pyogrio.read_dataframe(shared / "communes" / "arrondissements-municipaux.gpkg")
    arr = arr[arr["code"].isin(list(ARRS))].sort_values("code")

    def arr_features() -> list[dict]:
        out = []
        for code, geom in zip(arr["code"], arr.geometry, strict=True):
            r = arr_rows[code]
            props = {"code": code, "nom": r["nom"], "departement": r["departement"],
                     "region": r["region"], "commune": r["commune"]}
            out.append({"type": "Feature", "properties": props,
                        "geometry": shapely.geometry.mapping(_round(geom))})
        return out

    features = []
    for code, geom in zip(frame["code_commune"], frame.geometry, strict=True):
        r = by_code[code]
        props = {"code": code, "nom": r["nom"], "departement": r["departement"],
                 "region": r["region"], "epci": epci_of.get(code)}
        features.append({"type": "Feature", "properties": props,
                         "geometry": shapely.geometry.mapping(_round(geom))})
    features += arr_features()
    (HERE / "communes-100m.geojson.gz").write_bytes(_gzip(_feature_collection(features)))
    (HERE / "arrondissements-municipaux-100m.geojson.gz").write_bytes(
        _gzip(_feature_collection(arr_features())))


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("../shared/data"))
