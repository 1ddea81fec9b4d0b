"""Tests of cpts_geo.reference.fetch on recorded responses: no test here touches the network.

The recorded responses live in tests/data/fetch/ (see make_fixtures.py there): a trimmed but
real npm tarball of @etalab/decoupage-administratif 6.0.0 with the registry's metadata document
whose integrity matches it, and gzip GeoJSON contours of a few real communes. They are served by
``RecordedAdapter``, mounted on a session whose default adapters are removed; any URL not
recorded raises, and sockets are disabled for the whole module.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import shutil
import socket
import stat
import subprocess
import sys
from collections.abc import Iterator
from http import HTTPStatus
from pathlib import Path

import pytest
import requests
import urllib3
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from cpts_geo.errors import CptsGeoError
from cpts_geo.reference import fetch, load_reference
from cpts_geo.reference.fetch import fetch_reference

FIXTURES = Path(__file__).parent / "data" / "fetch"
SHARED = Path(os.environ.get("CPTS_GEO_DATA", Path(__file__).parents[2] / "shared" / "data"))

META_URL = "https://registry.npmjs.org/@etalab/decoupage-administratif"
TAR_URL = ("https://registry.npmjs.org/@etalab/decoupage-administratif/-/"
           "decoupage-administratif-6.0.0.tgz")
BASE = "https://etalab-datasets.geo.data.gouv.fr/contours-administratifs"
COMMUNES_2026 = f"{BASE}/2026/geojson/communes-100m.geojson.gz"
COMMUNES_2025 = f"{BASE}/2025/geojson/communes-100m.geojson.gz"
SUMS_2025 = f"{BASE}/2025/geojson/SHA256SUMS"
ARR_2025 = f"{BASE}/2025/geojson/arrondissements-municipaux-100m.geojson.gz"

QUEYRAS = ["05001", "05003", "05007", "05027", "05038", "05077", "05157"]
MARSEILLE_ARRS = [str(c) for c in range(13201, 13217)]
# real populations (INSEE, in force on 1 January 2026) from the package
POPULATION = {"05001": 374, "05003": 369, "05007": 340, "05027": 205, "05038": 298,
              "05077": 307, "05157": 160, "13055": 886040, "97411": 155634}


def _fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


# --------------------------------------------------------------------------------------------
# the fake transport
# --------------------------------------------------------------------------------------------


class UnexpectedRequest(AssertionError):
    """A URL was requested that has no recorded response."""


class Reply:
    """One recorded response: status, body, headers; ``length`` overrides Content-Length."""

    def __init__(self, body: bytes = b"", status: int = 200, *, length: int | None = None,
                 headers: dict[str, str] | None = None, chunked: bool = False) -> None:
        self.body, self.status, self.chunked = body, status, chunked
        self.headers = {"Content-Type": "application/octet-stream", **(headers or {})}
        if not chunked:
            self.headers["Content-Length"] = str(len(body) if length is None else length)


NOT_FOUND = Reply(b"<html>404 Not Found</html>", 404)


class RecordedAdapter(BaseAdapter):
    """Serve recorded responses per URL; a list is consumed one item per request.

    An item may be a :class:`Reply`, ``bytes`` (200), or an exception instance to raise (what
    requests' own adapter raises on timeouts and connection failures).
    """

    def __init__(self, routes: dict[str, object]) -> None:
        super().__init__()
        self.routes = {url: (list(r) if isinstance(r, list) else r) for url, r in routes.items()}
        self.calls: list[str] = []
        self.timeouts: list[object] = []

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        url = request.url
        self.calls.append(url)
        self.timeouts.append(timeout)
        if url not in self.routes:
            raise UnexpectedRequest(f"no recorded response for {url}")
        route = self.routes[url]
        item = (route.pop(0) if len(route) > 1 else route[0]) if isinstance(route, list) \
            else route
        if isinstance(item, BaseException):
            raise item
        reply = item if isinstance(item, Reply) else Reply(item)  # type: ignore[arg-type]
        raw = urllib3.HTTPResponse(
            body=io.BytesIO(reply.body), headers=reply.headers, status=reply.status,
            preload_content=False, decode_content=False, enforce_content_length=True,
            reason=HTTPStatus(reply.status).phrase,
        )
        resp = requests.Response()
        resp.status_code = reply.status
        resp.headers = CaseInsensitiveDict(reply.headers)
        resp.raw = raw
        resp.reason = raw.reason
        resp.url = url
        resp.request = request
        resp.encoding = requests.utils.get_encoding_from_headers(resp.headers)
        resp.connection = self
        return resp

    def close(self) -> None:
        pass


def recorded_routes(**overrides: object) -> dict[str, object]:
    routes: dict[str, object] = {
        META_URL: Reply(_fixture("npm-metadata.json"),
                        headers={"Content-Type": "application/json"}),
        TAR_URL: _fixture("decoupage-administratif-6.0.0.tgz"),
        COMMUNES_2026: NOT_FOUND,  # not published yet: falls back to 2025
        COMMUNES_2025: _fixture("communes-100m.geojson.gz"),
        SUMS_2025: NOT_FOUND,
        ARR_2025: _fixture("arrondissements-municipaux-100m.geojson.gz"),
    }
    routes.update({k.replace("__", "/"): v for k, v in overrides.items()})
    return routes


def make_session(routes: dict[str, object]) -> tuple[requests.Session, RecordedAdapter]:
    session = requests.Session()
    session.trust_env = False
    session.adapters.clear()  # no real transport at all
    adapter = RecordedAdapter(routes)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session, adapter


@pytest.fixture(autouse=True, scope="module")
def no_network() -> Iterator[None]:
    """Any socket connection or DNS lookup in this module (fixtures included) is an error."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"network access attempted: {args!r}")

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(socket.socket, "connect", refuse)
        mp.setattr(socket.socket, "connect_ex", refuse)
        mp.setattr(socket, "getaddrinfo", refuse)
        mp.setattr(socket, "create_connection", refuse)
        yield


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    delays: list[float] = []
    monkeypatch.setattr(fetch, "_sleep", delays.append)
    return delays


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "cache"
    monkeypatch.setenv("CPTS_GEO_CACHE", str(path))
    return path


def run(dest: Path, routes: dict[str, object], **kwargs: object) -> RecordedAdapter:
    session, adapter = make_session(routes)
    fetch_reference(dest, session=session, progress=False, **kwargs)  # type: ignore[arg-type]
    return adapter


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


def leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith("."))


def fails(dest: Path, routes: dict[str, object], **kwargs: object) -> str:
    with pytest.raises(CptsGeoError) as info:
        run(dest, routes, **kwargs)
    assert leftovers(dest.parent) == []  # no temporary directory left behind
    return str(info.value)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, RecordedAdapter]:
    dest = tmp_path_factory.mktemp("fetched") / "ref"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(fetch, "_sleep", lambda s: None)
        adapter = run(dest, recorded_routes())
    return dest, adapter


# --------------------------------------------------------------------------------------------
# a successful build
# --------------------------------------------------------------------------------------------


def test_build_loads_with_expected_units_and_population(built):
    dest, _ = built
    ref = load_reference(dest)
    units = ref.units
    communes = units[units["type"] == "commune"]
    assert sorted(communes.index) == sorted([*QUEYRAS, "13055", "97411"])  # COM 97501 left out
    assert sorted(units.index[units["type"] == "arrondissement"]) == MARSEILLE_ARRS
    assert {c: int(units.at[c, "population"]) for c in POPULATION} == POPULATION
    assert int(communes["population"].sum()) == sum(POPULATION.values())
    assert units.at["97411", "zone"] == "974"
    assert units.at["05001", "region"] == "93"
    assert int(units.loc[MARSEILLE_ARRS, "population"].sum()) == POPULATION["13055"]
    # the fixture holds Marseille only: the loader notes Paris's and Lyon's arrondissements
    assert len(ref.warnings) == 1 and "75101" in ref.warnings[0] and "132" not in ref.warnings[0]
    assert ref.crosswalk["05120"] == "05001"  # Ristolas → Abriès-Ristolas
    assert ref.region_name("93") == "Provence-Alpes-Côte d'Azur"
    assert ref.departement_name("05") == "Hautes-Alpes"
    assert sorted(ref.finest.index) == sorted([*QUEYRAS, "97411", *MARSEILLE_ARRS])


def test_build_layout_and_requests(built):
    dest, adapter = built
    assert sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file()) == [
        "SHA256SUMS",
        "SOURCES.json",
        "communes/arrondissements-municipaux.gpkg",
        "communes/communes-2025.gpkg",
        "population/communes-2026.csv",
        "population/departements-2026.csv",
        "population/epci-membres-2026.csv",
        "population/etalab-decoupage-administratif-6.0.0.tgz",
        "population/passage-communes-historique.csv",
        "population/regions-2026.csv",
    ]
    assert leftovers(dest.parent) == []
    # the 2026 contours are not published yet: 2025 is used
    assert adapter.calls == [META_URL, TAR_URL, COMMUNES_2026, COMMUNES_2025, SUMS_2025,
                             ARR_2025]
    # every request had a (connect, read) timeout
    assert all(isinstance(t, tuple) and len(t) == 2 and all(t) for t in adapter.timeouts)
    assert (dest / "population" / "etalab-decoupage-administratif-6.0.0.tgz").read_bytes() \
        == _fixture("decoupage-administratif-6.0.0.tgz")


def test_directory_mode_follows_the_umask(built):
    dest, _ = built
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(dest.stat().st_mode) == 0o777 & ~mask


def test_sources_manifest_records_urls_and_checksums(built):
    dest, _ = built
    manifest = json.loads((dest / "SOURCES.json").read_text(encoding="utf-8"))
    assert manifest["year"] == 2026
    assert manifest["contours_year"] == 2025
    assert manifest["package"] == "@etalab/decoupage-administratif@6.0.0"
    sources = {s["url"]: s for s in manifest["sources"]}
    assert set(sources) == {META_URL, TAR_URL, COMMUNES_2025, ARR_2025}
    assert sources[TAR_URL]["verified"] == "npm dist.integrity (sha512)"
    for url, name in [(META_URL, "npm-metadata.json"),
                      (TAR_URL, "decoupage-administratif-6.0.0.tgz"),
                      (COMMUNES_2025, "communes-100m.geojson.gz"),
                      (ARR_2025, "arrondissements-municipaux-100m.geojson.gz")]:
        data = _fixture(name)
        assert sources[url]["sha256"] == fetch._sha256_file(FIXTURES / name)
        assert sources[url]["bytes"] == len(data)
    for rel, digest in manifest["files"].items():
        assert fetch._sha256_file(dest / rel) == digest
    assert any("2026" in w and "2025" in w for w in manifest["warnings"])
    sums = (dest / "SHA256SUMS").read_text(encoding="utf-8").splitlines()
    assert f"{manifest['files']['population/communes-2026.csv']}  ./population/communes-2026.csv" \
        in sums


@pytest.mark.skipif(not (SHARED / "population" / "communes-2026.csv").exists(),
                    reason="shared reference data not available")
def test_population_files_are_identical_to_the_shared_ones(built):
    dest, _ = built
    pop = dest / "population"
    for name in ("regions-2026.csv", "departements-2026.csv"):  # complete in the fixture
        assert (pop / name).read_bytes() == (SHARED / "population" / name).read_bytes()
    ours = (pop / "communes-2026.csv").read_text(encoding="utf-8").splitlines()
    shared = (SHARED / "population" / "communes-2026.csv").read_text(encoding="utf-8")
    shared_lines = shared.splitlines()
    assert ours[0] == shared_lines[0]
    index = {line: i for i, line in enumerate(shared_lines)}
    positions = [index.get(line) for line in ours[1:]]
    assert None not in positions  # every row identical to a row of the shared file ...
    assert positions == sorted(positions)  # ... and in the same order
    assert len(ours) - 1 == 1 + 1 + 7 + 1 + 16 + 1 + 1  # deleguees of 05001 and 13055 parent
    epci = read_rows(pop / "epci-membres-2026.csv")
    shared_epci = {(r["epci_code"], r["code_commune"]): r
                   for r in read_rows(SHARED / "population" / "epci-membres-2026.csv")}
    assert epci and all(shared_epci[(r["epci_code"], r["code_commune"])] == r for r in epci)


def test_passage_maps_old_codes_and_current_codes(built):
    dest, _ = built
    rows = read_rows(dest / "population" / "passage-communes-historique.csv")
    assert list(rows[0]) == ["code_historique", "code_commune_2026"]
    passage = {r["code_historique"]: r["code_commune_2026"] for r in rows}
    assert passage["05120"] == "05001"
    assert all(passage[c] == c for c in [*QUEYRAS, "13055", "97411", "97501",
                                         *MARSEILLE_ARRS])


def test_geopackage_layers_crs_and_areas(built):
    import pyogrio

    dest, _ = built
    gpkg = dest / "communes" / "communes-2025.gpkg"
    layers = dict(pyogrio.list_layers(gpkg))
    assert list(layers) == ["metro_l93", "dom974_2975", "france_wgs84"]
    fields = ["code_commune", "nom", "departement", "region", "population", "surface_m2"]
    metro = pyogrio.read_dataframe(gpkg, layer="metro_l93")
    reunion = pyogrio.read_dataframe(gpkg, layer="dom974_2975")
    wgs = pyogrio.read_dataframe(gpkg, layer="france_wgs84")
    assert list(metro.columns) == [*fields, "geometry"]
    assert metro.crs.to_epsg() == 2154 and reunion.crs.to_epsg() == 2975
    assert wgs.crs.to_epsg() == 4326
    assert sorted(metro["code_commune"]) == sorted([*QUEYRAS, "13055"])  # no arrondissement
    assert list(reunion["code_commune"]) == ["97411"]
    assert len(wgs) == len(metro) + len(reunion)
    assert dict(zip(wgs["code_commune"], wgs["population"], strict=True)) == POPULATION
    assert set(metro.geometry.geom_type) == {"MultiPolygon"}
    # surface_m2 is the polygon's area in the zone's CRS, the same in every layer
    areas = dict(zip(metro["code_commune"], metro.geometry.area, strict=True))
    areas["97411"] = float(reunion.geometry.area.iloc[0])
    for code, area in zip(wgs["code_commune"], wgs["surface_m2"], strict=True):
        assert area == pytest.approx(areas[code], abs=0.1), code
    # the shapes are the shared layer's, rounded to 1e-4 degree: areas within 0.5 %
    if (SHARED / "communes" / "communes-2025.gpkg").exists():
        codes = ", ".join(f"'{c}'" for c in metro["code_commune"])
        real = pyogrio.read_dataframe(SHARED / "communes" / "communes-2025.gpkg",
                                      layer="metro_l93", where=f"code_commune IN ({codes})")
        real_area = dict(zip(real["code_commune"], real.geometry.area, strict=True))
        for code, area in areas.items():
            if code in real_area:
                assert area == pytest.approx(real_area[code], rel=0.005), code
    arr = pyogrio.read_dataframe(dest / "communes" / "arrondissements-municipaux.gpkg",
                                 layer="arrondissements_municipaux")
    assert list(arr.columns) == ["code", "nom", "code_commune_parent", "source", "geometry"]
    assert list(arr["code"]) == MARSEILLE_ARRS
    assert set(arr["code_commune_parent"]) == {"13055"}
    assert arr.crs.to_epsg() == 4326
    assert arr["nom"].iloc[0] == "Marseille 1er Arrondissement"
    assert ARR_2025 in arr["source"].iloc[0]


def test_built_geometry_is_usable_by_the_reference(built, cache):
    dest, _ = built
    ref = load_reference(dest)
    metro = ref.geometry("metro")
    assert metro.crs.to_epsg() == 2154
    assert sorted(metro.index) == sorted([*QUEYRAS, *MARSEILLE_ARRS])
    reunion = ref.geometry("974")
    assert list(reunion.index) == ["97411"] and reunion.crs.to_epsg() == 2975


def test_explicit_year_selects_that_package_version(tmp_path):
    meta = json.loads(_fixture("npm-metadata.json"))
    assert fetch._select_version(meta, 2025, META_URL) == "5.3.0"
    assert fetch._select_version(meta, 2024, META_URL) == "4.1.0"
    assert fetch._select_version(meta, 2022, META_URL) == "2.3.1"
    with pytest.raises(CptsGeoError, match=r"no version .* for 2030 .*2021, 2022"):
        fetch._select_version(meta, 2030, META_URL)
    with pytest.raises(CptsGeoError, match="2021 onwards"):
        fetch_reference(tmp_path / "x", year=1999, session=make_session({})[0])


def test_contours_of_the_year_used_when_published_with_sha256sums(tmp_path):
    communes = _fixture("communes-100m.geojson.gz")
    arrs = _fixture("arrondissements-municipaux-100m.geojson.gz")
    sums = (f"{fetch._sha256_file(FIXTURES / 'communes-100m.geojson.gz')}  "
            "communes-100m.geojson.gz\n"
            f"{fetch._sha256_file(FIXTURES / 'arrondissements-municipaux-100m.geojson.gz')} "
            "*./arrondissements-municipaux-100m.geojson.gz\n").encode()
    base = f"{BASE}/2026/geojson"
    routes = recorded_routes()
    routes.update({COMMUNES_2026: communes, f"{base}/SHA256SUMS": sums,
                   f"{base}/arrondissements-municipaux-100m.geojson.gz": arrs})
    dest = tmp_path / "ref"
    adapter = run(dest, routes)
    assert COMMUNES_2025 not in adapter.calls
    assert (dest / "communes" / "communes-2026.gpkg").exists()
    manifest = json.loads((dest / "SOURCES.json").read_text(encoding="utf-8"))
    assert {s["verified"] for s in manifest["sources"][2:]} == {"SHA256SUMS"}
    assert manifest["warnings"] == []


def test_arrondissements_taken_from_the_communes_file_when_missing(tmp_path):
    dest = tmp_path / "ref"
    # and an explicit year: 2026 → 6.0.0, the newest 6.x
    adapter = run(dest, recorded_routes(**{ARR_2025: NOT_FOUND}), year=2026)
    assert adapter.calls[:2] == [META_URL, TAR_URL]
    ref = load_reference(dest)
    assert ref.arrondissement_layer_path is not None
    import pyogrio

    arr = pyogrio.read_dataframe(ref.arrondissement_layer_path)
    assert list(arr["code"]) == MARSEILLE_ARRS
    manifest = json.loads((dest / "SOURCES.json").read_text(encoding="utf-8"))
    assert any(ARR_2025 in w for w in manifest["warnings"])


def _gz_features(features: list[dict]) -> bytes:
    doc = {"type": "FeatureCollection", "features": features}
    return gzip.compress(json.dumps(doc).encode(), mtime=0)


def test_older_contour_codes_are_brought_to_current_codes(tmp_path, built):
    import pyogrio

    feats = list(_iter_gz("communes-100m.geojson.gz"))
    abries = next(f for f in feats if f["properties"]["code"] == "05001")
    ristolas = {**abries, "properties": {**abries["properties"], "code": "05120",
                                         "nom": "Ristolas"}}  # drawn apart, merged since
    stray = {**abries, "properties": {**abries["properties"], "code": "2A999"}}
    dest = tmp_path / "ref"
    run(dest, recorded_routes(**{COMMUNES_2025: _gz_features([*feats, ristolas, stray])}))
    metro = pyogrio.read_dataframe(dest / "communes" / "communes-2025.gpkg", layer="metro_l93")
    before = pyogrio.read_dataframe(built[0] / "communes" / "communes-2025.gpkg",
                                    layer="metro_l93")
    assert sorted(metro["code_commune"]) == sorted(before["code_commune"])
    area = dict(zip(before["code_commune"], before["surface_m2"], strict=True))
    assert float(metro.loc[metro["code_commune"] == "05001", "surface_m2"].iloc[0]) == \
        pytest.approx(area["05001"], rel=1e-6)
    manifest = json.loads((dest / "SOURCES.json").read_text(encoding="utf-8"))
    assert any("2A999" in w and "left out" in w for w in manifest["warnings"])


# --------------------------------------------------------------------------------------------
# retries and failures
# --------------------------------------------------------------------------------------------


def test_retry_after_503_succeeds(tmp_path, no_sleep):
    busy = Reply(b"Service Unavailable", 503)
    adapter = run(tmp_path / "ref", recorded_routes(**{
        TAR_URL: [busy, busy, _fixture("decoupage-administratif-6.0.0.tgz")]}))
    assert adapter.calls.count(TAR_URL) == 3
    assert no_sleep == [1.0, 2.0]  # exponential backoff
    assert load_reference(tmp_path / "ref").units.at["13055", "population"] == 886040


def test_persistent_503_gives_up(tmp_path, no_sleep):
    dest = tmp_path / "ref"
    msg = fails(dest, recorded_routes(**{TAR_URL: Reply(b"", 503)}))
    assert TAR_URL in msg and "HTTP 503" in msg and f"{fetch.RETRIES + 1} attempts" in msg
    assert len(no_sleep) == fetch.RETRIES
    assert not dest.exists()


def test_http_404_is_not_retried(tmp_path, no_sleep):
    dest = tmp_path / "ref"
    session, adapter = make_session(recorded_routes(**{TAR_URL: NOT_FOUND}))
    with pytest.raises(CptsGeoError, match="HTTP 404") as info:
        fetch_reference(dest, session=session, progress=False)
    assert TAR_URL in str(info.value)
    assert adapter.calls.count(TAR_URL) == 1 and no_sleep == []
    assert not dest.exists() and leftovers(tmp_path) == []


@pytest.mark.parametrize(("error", "words"), [
    (requests.exceptions.ConnectTimeout("connect timed out"), ["timed out connecting",
                                                               "registry.npmjs.org"]),
    (requests.exceptions.ReadTimeout("read timed out"), ["timed out downloading"]),
])
def test_timeouts(tmp_path, error, words):
    dest = tmp_path / "ref"
    msg = fails(dest, recorded_routes(**{TAR_URL: error}))
    assert TAR_URL in msg
    for word in words:
        assert word in msg
    assert not dest.exists()


def _offline_error(host: str) -> requests.exceptions.ConnectionError:
    """What requests raises when DNS fails (no network), built without any network."""
    from urllib3.exceptions import MaxRetryError, NameResolutionError

    reason = NameResolutionError(host, None, socket.gaierror(  # type: ignore[arg-type]
        -3, "Temporary failure in name resolution"))
    return requests.exceptions.ConnectionError(MaxRetryError(None, "/", reason))  # type: ignore


def test_offline_says_no_internet_and_suggests_data(tmp_path, no_sleep):
    dest = tmp_path / "ref"
    msg = fails(dest, recorded_routes(**{META_URL: _offline_error("registry.npmjs.org")}))
    assert META_URL in msg
    assert "no internet" in msg and "DNS" in msg
    assert "--data" in msg and "CPTS_GEO_DATA" in msg
    assert "Traceback" not in msg and "object at 0x" not in msg
    assert not dest.exists()


def test_connection_refused_is_reported(tmp_path):
    err = requests.exceptions.ConnectionError(
        "HTTPSConnectionPool(host='etalab-datasets.geo.data.gouv.fr', port=443): Max retries "
        "exceeded (Caused by NewConnectionError('Failed to establish a new connection: "
        "[Errno 101] Network is unreachable'))")
    msg = fails(tmp_path / "ref", recorded_routes(**{COMMUNES_2026: err}))
    assert COMMUNES_2026 in msg and "Network is unreachable" in msg and "--data" in msg


def test_other_request_errors_are_not_retried(tmp_path, no_sleep):
    session, adapter = make_session(recorded_routes(**{
        TAR_URL: requests.exceptions.TooManyRedirects("Exceeded 30 redirects.")}))
    with pytest.raises(CptsGeoError, match="Exceeded 30 redirects") as info:
        fetch_reference(tmp_path / "ref", session=session, progress=False)
    assert TAR_URL in str(info.value)
    assert adapter.calls.count(TAR_URL) == 1 and no_sleep == []
    assert leftovers(tmp_path) == []


def test_truncated_download_is_detected(tmp_path, no_sleep):
    data = _fixture("communes-100m.geojson.gz")
    cut = Reply(data[: len(data) // 2], length=len(data))
    dest = tmp_path / "ref"
    session, adapter = make_session(recorded_routes(**{COMMUNES_2025: cut}))
    with pytest.raises(CptsGeoError) as info:
        fetch_reference(dest, session=session, progress=False)
    msg = str(info.value)
    assert "truncated" in msg and COMMUNES_2025 in msg and str(len(data)) in msg
    assert adapter.calls.count(COMMUNES_2025) == fetch.RETRIES + 1  # retried
    assert not dest.exists() and leftovers(tmp_path) == []


def test_truncated_gzip_without_content_length(tmp_path):
    data = _fixture("communes-100m.geojson.gz")
    msg = fails(tmp_path / "ref",
                recorded_routes(**{COMMUNES_2025: Reply(data[:-100], chunked=True)}))
    assert "truncated" in msg and "gzip" in msg and COMMUNES_2025 in msg


def test_corrupt_gzip(tmp_path):
    msg = fails(tmp_path / "ref", recorded_routes(**{COMMUNES_2025: b"<html>oops</html>"}))
    assert "not a valid gzip" in msg and COMMUNES_2025 in msg


def test_tampered_tarball_keeps_the_previous_directory(tmp_path, built):
    dest = tmp_path / "ref"
    shutil.copytree(built[0], dest)
    before = snapshot(dest)
    tampered = bytearray(_fixture("decoupage-administratif-6.0.0.tgz"))
    tampered[100] ^= 0xFF
    msg = fails(dest, recorded_routes(**{TAR_URL: bytes(tampered)}))
    assert "checksum mismatch" in msg and TAR_URL in msg and "sha512-" in msg
    assert snapshot(dest) == before


def test_sha256sums_mismatch(tmp_path):
    sums = b"0" * 64 + b"  communes-100m.geojson.gz\n"
    dest = tmp_path / "ref"
    msg = fails(dest, recorded_routes(**{SUMS_2025: sums}))
    assert "checksum mismatch" in msg and COMMUNES_2025 in msg and "SHA256SUMS" in msg
    assert not dest.exists()


def test_missing_contours_for_both_years(tmp_path):
    msg = fails(tmp_path / "ref", recorded_routes(**{COMMUNES_2025: NOT_FOUND}))
    assert COMMUNES_2026 in msg and COMMUNES_2025 in msg and "HTTP 404" in msg


def test_interrupted_build_leaves_nothing(tmp_path):
    dest = tmp_path / "ref"
    session, _ = make_session(recorded_routes(**{ARR_2025: KeyboardInterrupt()}))
    with pytest.raises(KeyboardInterrupt):
        fetch_reference(dest, session=session, progress=False)
    assert not dest.exists() and leftovers(tmp_path) == []


def test_not_json_metadata(tmp_path):
    msg = fails(tmp_path / "ref", recorded_routes(**{META_URL: b"<html>captive portal</html>"}))
    assert META_URL in msg and "not valid JSON" in msg


# --------------------------------------------------------------------------------------------
# replacing a previous directory
# --------------------------------------------------------------------------------------------


def test_replaces_previous_directory_and_keeps_other_entries(tmp_path):
    dest = tmp_path / "ref"
    (dest / "population").mkdir(parents=True)
    (dest / "population" / "communes-2024.csv").write_text("old\n", encoding="utf-8")
    (dest / "cpts" / "paca").mkdir(parents=True)
    (dest / "cpts" / "paca" / "cpts.json").write_text("[]\n", encoding="utf-8")
    (dest / "NOTES.md").write_text("mine\n", encoding="utf-8")
    dest.chmod(0o750)
    run(dest, recorded_routes())
    assert stat.S_IMODE(dest.stat().st_mode) == 0o750
    assert not (dest / "population" / "communes-2024.csv").exists()
    assert (dest / "population" / "communes-2026.csv").exists()
    assert (dest / "cpts" / "paca" / "cpts.json").read_text(encoding="utf-8") == "[]\n"
    assert (dest / "NOTES.md").read_text(encoding="utf-8") == "mine\n"
    assert leftovers(tmp_path) == []


def test_refuses_to_replace_an_unrelated_directory(tmp_path):
    dest = tmp_path / "home"
    dest.mkdir()
    (dest / "thesis.tex").write_text("precious\n", encoding="utf-8")
    session, adapter = make_session(recorded_routes())
    with pytest.raises(CptsGeoError, match="does not look like a reference data directory"):
        fetch_reference(dest, session=session, progress=False)
    assert adapter.calls == []
    assert snapshot(dest) == {"thesis.tex": b"precious\n"}


# --------------------------------------------------------------------------------------------
# no network, no heavy imports, progress bar
# --------------------------------------------------------------------------------------------


def test_no_network_in_these_tests():
    session, adapter = make_session({})
    assert session.adapters and all(isinstance(a, RecordedAdapter)
                                     for a in session.adapters.values())
    with pytest.raises(UnexpectedRequest):
        session.get("https://example.org/", timeout=(1, 1))
    with pytest.raises(AssertionError, match="network access attempted"):
        requests.get("https://example.org/", timeout=(1, 1))
    with pytest.raises(AssertionError, match="network access attempted"):
        socket.create_connection(("example.org", 443))
    assert adapter.calls == ["https://example.org/"]


def test_fetch_module_imports_no_geo_or_http_stack():
    code = ("import sys, cpts_geo.reference.fetch; "
            "print(sorted(m for m in ('geopandas', 'pyogrio', 'requests', 'tqdm') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).parents[1])
    assert out.stdout.strip() == "[]"


def test_progress_only_on_a_terminal(monkeypatch, capsys, tmp_path):
    assert fetch._progress_enabled(False) is False
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    assert fetch._progress_enabled(True) is True
    assert fetch._progress_enabled(False) is False
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False, raising=False)
    session, _ = make_session(recorded_routes())
    assert fetch._download(session, TAR_URL, tmp_path / "f", what="t", progress=True)
    assert capsys.readouterr().err == ""


def test_progress_bar_drawn_on_a_terminal(monkeypatch, tmp_path):
    stream = io.StringIO()
    stream.isatty = lambda: True  # type: ignore[method-assign]
    monkeypatch.setattr(sys, "stderr", stream)
    session, _ = make_session(recorded_routes())
    path = tmp_path / "f"
    fetched = fetch._download(session, TAR_URL, path, what="t", progress=True)
    size = len(_fixture("decoupage-administratif-6.0.0.tgz"))
    assert fetched is not None and fetched.size == size
    assert "100%" in stream.getvalue()  # tqdm drew a bar with a known total


def _iter_gz(name: str) -> Iterator[dict]:
    with gzip.open(FIXTURES / name) as fh:
        yield from json.load(fh)["features"]


def test_fixtures_are_real_shaped():
    feats = list(_iter_gz("communes-100m.geojson.gz"))
    assert {"code", "nom", "departement", "region"} <= set(feats[0]["properties"])
    assert any(f["properties"].get("commune") == "13055" for f in feats)
    meta = json.loads(_fixture("npm-metadata.json"))
    assert meta["dist-tags"]["latest"] == "6.0.0"
    assert meta["versions"]["6.0.0"]["dist"]["tarball"] == TAR_URL

