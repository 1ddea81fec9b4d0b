"""Build the reference data directory from the public sources, on a machine with internet.

Two sources, both public (Licence Ouverte):

* the npm package ``@etalab/decoupage-administratif`` (codes, names, types, départements,
  régions, EPCI and INSEE legal populations), downloaded as the tarball the npm registry lists
  for the version and checked against the registry's ``dist.integrity`` (SHA-512);
* the Etalab / IGN commune contours (``contours-administratifs/{year}/geojson``,
  ``communes-100m.geojson.gz`` and ``arrondissements-municipaux-100m.geojson.gz``, gzip GeoJSON
  in EPSG:4326), checked for gzip integrity, for truncation against ``Content-Length`` and, when
  the server publishes a ``SHA256SUMS`` list, against it.

They become the layout :func:`cpts_geo.reference.load_reference` reads (see the data README)::

    population/communes-YYYY.csv, regions-YYYY.csv, departements-YYYY.csv,
    population/epci-membres-YYYY.csv, passage-communes-historique.csv,
    population/etalab-decoupage-administratif-X.Y.Z.tgz   (the verified tarball, as published)
    communes/communes-YYYY.gpkg                (metro_l93, dom971_5490 ... dom976_4471,
                                                france_wgs84)
    communes/arrondissements-municipaux.gpkg   (layer arrondissements_municipaux)
    SOURCES.json                               (URLs, sizes, SHA-256 and how each was verified)
    SHA256SUMS                                 (SHA-256 of every file written)

Everything is built in a temporary sibling of the destination and moved into place only when
complete: a failure never leaves a half-written directory, and a previous directory stays as it
was. Every network failure becomes a :class:`~cpts_geo.errors.CptsGeoError` naming the URL and
what failed.
"""

from __future__ import annotations

import base64
import csv
import gzip
import hashlib
import json
import logging
import os
import re
import secrets
import shutil
import sys
import tarfile
import time
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ..atomic import swap_directory
from ..errors import CptsGeoError
from .codes import CITY_OF_ARRONDISSEMENT
from .zones import ZONE_CRS, zone_of

if TYPE_CHECKING:
    import geopandas as gpd
    import requests

__all__ = ["fetch_reference"]

logger = logging.getLogger(__name__)

NPM_PACKAGE = "@etalab/decoupage-administratif"
NPM_REGISTRY = "https://registry.npmjs.org"
CONTOURS_BASE = "https://etalab-datasets.geo.data.gouv.fr/contours-administratifs"
COMMUNES_FILE = "communes-100m.geojson.gz"
ARRONDISSEMENTS_FILE = "arrondissements-municipaux-100m.geojson.gz"
CHECKSUMS_FILE = "SHA256SUMS"
#: (connect, read) timeouts in seconds, given to every request.
TIMEOUT: tuple[float, float] = (10.0, 60.0)
#: Retries after the first attempt, on connection errors, timeouts, truncated bodies and 5xx.
RETRIES = 3
#: Seconds to wait before retry n (1, 2, ...): ``BACKOFF * 2 ** (n - 1)``.
BACKOFF = 1.0
_RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
_CHUNK = 1 << 16
_USER_AGENT = "cpts_geo-fetch (+https://github.com/; reference data builder)"
_NPM_ACCEPT = "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*"
#: Entries of the destination that ``fetch`` writes; any other entry is carried over.
_OWNED = frozenset({"population", "communes", "SOURCES.json", "SHA256SUMS"})
_COMMUNE_COLUMNS = (
    "code", "nom", "type", "zone", "departement", "region", "arrondissement", "siren",
    "commune_parente", "population", "anciens_codes", "codes_postaux",
)
_REGION_COLUMNS = ("code", "chefLieu", "nom", "typeLiaison", "zone")
_DEPARTEMENT_COLUMNS = ("code", "region", "chefLieu", "nom", "typeLiaison", "zone")
_EPCI_COLUMNS = ("epci_code", "epci_nom", "epci_type", "code_commune", "nom_commune")
_DATA_HINT = (
    "run `cpts-geo fetch` on a machine with internet, or point --data DIR or the CPTS_GEO_DATA "
    "variable at an existing reference data directory (one holding "
    "population/communes-YYYY.csv, e.g. a copy of ../shared/data)."
)
_NO_INTERNET_HINT = "this machine seems to have no internet access: " + _DATA_HINT
_DNS_MARKERS = (
    "NameResolutionError", "Failed to resolve", "Name or service not known",
    "Temporary failure in name resolution", "nodename nor servname", "getaddrinfo failed",
    "No address associated with hostname",
)
_sleep: Callable[[float], None] = time.sleep


@dataclass(frozen=True)
class _Fetched:
    """One file downloaded: where it came from, where it is, its size and digests."""

    url: str
    path: Path
    size: int
    digests: Mapping[str, str]  # algorithm -> hex digest


@dataclass
class _Manifest:
    """What ``SOURCES.json`` records."""

    year: int
    package_version: str = ""
    contours_year: int | None = None
    sources: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def warn(self, message: str) -> None:
        logger.warning("%s", message)
        self.warnings.append(message)


class _Retryable(Exception):
    """A transient failure of one attempt; ``error`` is raised when attempts run out."""

    def __init__(self, error: CptsGeoError) -> None:
        super().__init__(str(error))
        self.error = error


# --------------------------------------------------------------------------------------------
# public API
# --------------------------------------------------------------------------------------------


def fetch_reference(
    dest: str | os.PathLike[str],
    *,
    year: int | None = None,
    session: requests.Session | None = None,
    progress: bool = True,
) -> Path:
    """Download the public sources and build a reference data directory at ``dest``.

    The directory has the layout :func:`cpts_geo.reference.load_reference` reads (the one of
    ``../shared/data``): populations and codes from the npm package
    ``@etalab/decoupage-administratif``, commune polygons from the Etalab/IGN contours, one
    GeoPackage layer per zone in its projected CRS, plus ``SOURCES.json`` recording every URL
    with its SHA-256 and how it was verified. It is built in a temporary sibling directory and
    moved into place only when complete; on failure ``dest`` is left exactly as it was (or
    absent) and no temporary directory remains. When ``dest`` already holds a reference data
    directory it is replaced, except for entries ``fetch`` does not write (a ``cpts/``
    registry folder, notes...), which are carried over.

    Parameters
    ----------
    dest
        The reference data directory to create or replace (``data/communes`` by default on the
        command line). An existing directory that does not look like one is refused.
    year
        Millésime of the Code officiel géographique: the newest package version published for
        that year (major version ``year - 2020``: 6.x is 2026) and the contours of that year,
        or of the year before when that year's contours are not published yet. ``None``: the
        package's ``latest`` version and its year.
    session
        The :class:`requests.Session` to use (proxies, certificates, tests); a new one when
        ``None``.
    progress
        Show a progress bar per download on standard error (only when it is a terminal).

    Returns
    -------
    Path
        ``dest``, absolute.

    Raises
    ------
    CptsGeoError
        On any failure: no internet, DNS failure, timeout, HTTP error status, checksum
        mismatch, truncated or corrupt download, unexpected content, unwritable destination.
        The message names the URL and the cause; nothing is left half-written.

    Examples
    --------
    On a machine with internet, ``fetch_reference("data/communes")`` builds the directory
    (``cpts-geo fetch`` on the command line). What is wrong is found before any download:

    >>> from cpts_geo.reference.fetch import fetch_reference
    >>> fetch_reference(tmp / "communes", year=2019)
    Traceback (most recent call last):
    ...
    cpts_geo.errors.CptsGeoError: year was 2019 but the package @etalab/decoupage-administratif
    covers 2021 onwards (see its README: version 1.x is 2021, 6.x is 2026)
    >>> _ = (tmp / "notes.txt").write_text("à garder", encoding="utf-8")
    >>> fetch_reference(tmp)  # not a reference data directory: never replaced
    Traceback (most recent call last):
    ...
    cpts_geo.errors.CptsGeoError: ... exists and does not look like a reference data directory
    (no population/ nor communes/); refusing to replace it. Choose an empty or new directory.
    >>> [p.name for p in tmp.iterdir()]
    ['notes.txt']
    """
    if year is not None and not 2021 <= int(year) <= 2100:
        raise CptsGeoError(
            f"year was {year} but the package {NPM_PACKAGE} covers 2021 onwards "
            "(see its README: version 1.x is 2021, 6.x is 2026)"
        )
    target = Path(dest).expanduser().resolve()
    _check_destination(target)
    own_session = session is None
    http = _new_session() if session is None else session
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = _sibling(target, "fetch")
        tmp.mkdir()  # mode from the umask, unlike mkdtemp's 0700
        if target.is_dir():
            tmp.chmod(target.stat().st_mode & 0o7777)
    except OSError as exc:
        if own_session:
            http.close()
        raise CptsGeoError(f"cannot create a directory next to {target}: {exc}") from None
    try:
        try:
            _build(tmp, year=year, session=http, progress=progress)
            swap_directory(tmp, target, skip=_OWNED)
        except OSError as exc:  # disk full, permissions... (network errors are handled below)
            raise CptsGeoError(f"cannot write the reference data directory {target}: "
                               f"{exc}; the previous directory, if any, is unchanged") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        if own_session:
            http.close()
    return target


# --------------------------------------------------------------------------------------------
# the build
# --------------------------------------------------------------------------------------------


def _build(root: Path, *, year: int | None, session: requests.Session, progress: bool) -> None:
    """Download everything and write the full layout under ``root`` (a fresh directory)."""
    downloads = root / ".downloads"
    pop_dir, geo_dir = root / "population", root / "communes"
    for d in (downloads, pop_dir, geo_dir):
        d.mkdir()
    manifest = _Manifest(year=year or 0)

    # 1. npm package: metadata, version, verified tarball
    meta_url = f"{NPM_REGISTRY}/{NPM_PACKAGE}"
    meta_file = _download(session, meta_url, downloads / "npm-metadata.json",
                          what="npm package metadata", progress=False,
                          headers={"Accept": _NPM_ACCEPT})
    assert meta_file is not None
    manifest.sources.append(_source_entry(meta_file, f"{NPM_PACKAGE} registry metadata",
                                          "HTTPS only (gives the tarball's integrity)"))
    meta = _read_json_file(meta_file.path, meta_url, "npm package metadata")
    version = _select_version(meta, year, meta_url)
    dist = meta["versions"][version].get("dist") or {}
    tar_url = dist.get("tarball")
    if not isinstance(tar_url, str) or not tar_url.startswith(("https://", "http://")):
        raise CptsGeoError(f"{meta_url}: version {version} of {NPM_PACKAGE} has no "
                           "dist.tarball URL; the registry answer is not what was expected")
    expected = _expected_integrity(dist, meta_url, version)
    tarball = _download(
        session, tar_url, pop_dir / f"etalab-decoupage-administratif-{version}.tgz",
        what=f"{NPM_PACKAGE} {version}", progress=progress,
        algorithms=sorted({"sha256", expected[0]}),
    )
    assert tarball is not None
    _verify_integrity(tarball, expected)
    manifest.package_version = version
    manifest.sources.append(_source_entry(tarball, f"{NPM_PACKAGE} {version} (npm tarball)",
                                          f"npm dist.integrity ({expected[0]})", kept=root))
    package = _read_package(tarball.path, tar_url)
    pkg_year = year if year is not None else _package_year(version, package.get("README", ""))
    manifest.year = pkg_year

    # 2. population, codes, crosswalk
    communes = package["communes"]
    _write_population(pop_dir, pkg_year, package)

    # 3. contours
    passage = _passage(communes)
    fetched_communes, cy = _download_contours(session, pkg_year, downloads, progress, manifest)
    sums = _published_checksums(session, cy, downloads)
    contours_url = _contours_url(cy, COMMUNES_FILE)
    _verify_published(fetched_communes, sums, COMMUNES_FILE)
    verified = "SHA256SUMS" if sums and COMMUNES_FILE in sums else "gzip CRC + Content-Length"
    manifest.contours_year = cy
    manifest.sources.append(_source_entry(fetched_communes, f"Etalab contours {cy}: communes",
                                          verified))
    geojson = _gunzip(fetched_communes.path, downloads / "communes.geojson", contours_url)
    arr_from_communes = _write_communes_gpkg(
        geojson, contours_url, communes, passage, geo_dir / f"communes-{cy}.gpkg", manifest)

    arr_url = _contours_url(cy, ARRONDISSEMENTS_FILE)
    fetched_arr = _download(session, arr_url, downloads / ARRONDISSEMENTS_FILE,
                            what="contours of the arrondissements municipaux",
                            progress=progress, optional=True)
    arr_source: tuple[Path | gpd.GeoDataFrame, str] | None = None
    if fetched_arr is not None:
        _verify_published(fetched_arr, sums, ARRONDISSEMENTS_FILE)
        verified = ("SHA256SUMS" if sums and ARRONDISSEMENTS_FILE in sums
                    else "gzip CRC + Content-Length")
        manifest.sources.append(_source_entry(
            fetched_arr, f"Etalab contours {cy}: arrondissements municipaux", verified))
        arr_source = (_gunzip(fetched_arr.path, downloads / "arrondissements.geojson", arr_url),
                      arr_url)
    elif arr_from_communes is not None and len(arr_from_communes):
        manifest.warn(f"{arr_url} is not published (HTTP 404): the arrondissements municipaux "
                      f"were taken from {contours_url}")
        arr_source = (arr_from_communes, contours_url)
    else:
        manifest.warn(f"{arr_url} is not published (HTTP 404): no arrondissement polygons; "
                      "Paris, Lyon and Marseille are drawn whole")
    if arr_source is not None:
        _write_arrondissements_gpkg(arr_source[0], arr_source[1], cy, communes,
                                    geo_dir / "arrondissements-municipaux.gpkg", manifest)

    # 4. provenance
    shutil.rmtree(downloads)
    _write_manifest(root, manifest)


def _download_contours(
    session: requests.Session, year: int, downloads: Path, progress: bool, manifest: _Manifest
) -> tuple[_Fetched, int]:
    """The communes contours of ``year``, or of the year before when not published yet."""
    tried: list[str] = []
    for cy in (year, year - 1):
        url = _contours_url(cy, COMMUNES_FILE)
        fetched = _download(session, url, downloads / COMMUNES_FILE,
                            what=f"commune contours {cy}", progress=progress, optional=True)
        if fetched is not None:
            if cy != year:
                manifest.warn(f"the commune contours of {year} are not published yet "
                              f"({tried[0]}: HTTP 404); using those of {cy}, with codes "
                              "brought to the current ones through the crosswalk")
            return fetched, cy
        tried.append(url)
    raise CptsGeoError(
        f"no commune contours found for {year} nor {year - 1}: {' and '.join(tried)} answered "
        "HTTP 404. Pass another --year, or check "
        f"{CONTOURS_BASE}/ for the years published."
    )


def _contours_url(year: int, name: str) -> str:
    return f"{CONTOURS_BASE}/{year}/geojson/{name}"


# --------------------------------------------------------------------------------------------
# HTTP: session, retries, streaming download, error messages
# --------------------------------------------------------------------------------------------


def _new_session() -> requests.Session:
    """A session with a clear User-Agent (retries are done by :func:`_download`)."""
    import requests

    session = requests.Session()
    session.headers["User-Agent"] = _USER_AGENT
    return session


def _progress_enabled(progress: bool) -> bool:
    """Whether to draw progress bars: asked for, and standard error is a terminal."""
    if not progress:
        return False
    try:
        return bool(sys.stderr.isatty())
    except (AttributeError, ValueError):  # closed or replaced stream
        return False


def _download(
    session: requests.Session,
    url: str,
    path: Path,
    *,
    what: str,
    progress: bool,
    algorithms: Sequence[str] = ("sha256",),
    headers: Mapping[str, str] | None = None,
    optional: bool = False,
) -> _Fetched | None:
    """Stream ``url`` into ``path`` with retries; ``None`` on HTTP 404 when ``optional``.

    Raises
    ------
    CptsGeoError
        After the last attempt, or at once for an HTTP status that retrying cannot fix.
    """
    attempts = RETRIES + 1
    for attempt in range(1, attempts + 1):
        try:
            return _attempt(session, url, path, what=what, progress=progress,
                            algorithms=algorithms, headers=headers, optional=optional,
                            attempts=attempt)
        except _Retryable as exc:
            path.unlink(missing_ok=True)
            if attempt == attempts:
                raise exc.error from None
            delay = BACKOFF * 2 ** (attempt - 1)
            logger.info("%s; retrying in %.0f s (attempt %d of %d)", exc, delay, attempt + 1,
                        attempts)
            _sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover


def _attempt(
    session: requests.Session,
    url: str,
    path: Path,
    *,
    what: str,
    progress: bool,
    algorithms: Sequence[str],
    headers: Mapping[str, str] | None,
    optional: bool,
    attempts: int,
) -> _Fetched | None:
    import requests
    from tqdm.auto import tqdm

    tries = f"{attempts} attempt{'s' if attempts > 1 else ''}"
    try:
        resp = session.get(url, stream=True, timeout=TIMEOUT, headers=dict(headers or {}))
    except requests.exceptions.RequestException as exc:
        raise _classify(exc, url, what, tries) from None
    with resp:
        status = resp.status_code
        if status == 404 and optional:
            return None
        answer = f"HTTP {status} {resp.reason or ''}".rstrip()
        if status in _RETRY_STATUS:
            raise _Retryable(CptsGeoError(
                f"could not download {what}: {url} answered {answer} ({tries}); the server "
                "is failing or overloaded, try again later"))
        if status >= 400:
            raise CptsGeoError(f"could not download {what}: {url} answered {answer}")
        encoding = resp.headers.get("Content-Encoding", "identity").lower()
        length = _content_length(resp.headers.get("Content-Length"))
        hashes = {a: hashlib.new(a) for a in algorithms}
        size = 0
        bar = tqdm(total=length if encoding == "identity" else None, unit="B",
                   unit_scale=True, unit_divisor=1024, desc=path.name, leave=True,
                   disable=not _progress_enabled(progress), file=sys.stderr)
        try:
            with open(path, "wb") as fh, bar:
                for chunk in resp.iter_content(_CHUNK):
                    fh.write(chunk)
                    for h in hashes.values():
                        h.update(chunk)
                    size += len(chunk)
                    bar.update(len(chunk))
        except requests.exceptions.ChunkedEncodingError:
            received = _wire_bytes(resp, size)
            raise _Retryable(_truncated(url, what, received, length, tries)) from None
        except requests.exceptions.RequestException as exc:
            raise _classify(exc, url, what, tries) from None
        except OSError as exc:
            raise CptsGeoError(f"cannot write {path} while downloading {url}: {exc}") from None
        received = _wire_bytes(resp, size)
        if length is not None and received < length:
            raise _Retryable(_truncated(url, what, received, length, tries))
    return _Fetched(url, path, size, {a: h.hexdigest() for a, h in hashes.items()})


def _content_length(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _wire_bytes(resp: requests.Response, decoded: int) -> int:
    """Bytes received on the wire (what Content-Length counts), falling back to ``decoded``."""
    tell = getattr(resp.raw, "tell", None)
    if callable(tell):
        try:
            return int(tell())
        except (OSError, ValueError, TypeError):
            pass
    return decoded


def _truncated(url: str, what: str, received: int, length: int | None,
               tries: str) -> CptsGeoError:
    expected = f" of the {length} announced by Content-Length" if length is not None else ""
    return CptsGeoError(
        f"truncated download of {what} from {url}: the connection ended after {received} "
        f"bytes{expected} ({tries}). The network or the server cut the transfer; try again."
    )


def _classify(exc: BaseException, url: str, what: str, tries: str) -> Exception:
    """Turn a requests exception into the error to raise: retryable when transient."""
    import requests

    host = urlsplit(url).hostname or url
    # urllib3's NewConnectionError (and NameResolutionError) subclass ConnectTimeoutError:
    # requests' ConnectTimeout is the real timeout, so look at DNS failures first
    if isinstance(exc, requests.exceptions.ConnectionError) and _is_dns_failure(exc):
        msg = (f"could not resolve the host name {host} to download {what} from {url} "
               f"(DNS lookup failed, {tries}): {_NO_INTERNET_HINT}")
    elif isinstance(exc, requests.exceptions.ConnectTimeout):
        msg = (f"timed out connecting to {host} for {what} ({url}): no answer within "
               f"{TIMEOUT[0]:g} s ({tries}). The server is unreachable or the network is too "
               f"slow; try again later. If this machine has no internet access, {_DATA_HINT}")
    elif isinstance(exc, requests.exceptions.Timeout) or _caused_by(exc, "ReadTimeoutError"):
        msg = (f"timed out downloading {what} from {url}: no data for {TIMEOUT[1]:g} s "
               f"({tries}). The server or the network is too slow; try again later.")
    elif isinstance(exc, requests.exceptions.SSLError):
        msg = (f"secure connection to {host} failed for {what} ({url}): {_root_cause(exc)} "
               f"({tries}). A proxy may be intercepting HTTPS; set REQUESTS_CA_BUNDLE to its "
               "certificate.")
    elif isinstance(exc, requests.exceptions.ConnectionError):
        msg = (f"could not connect to {host} to download {what} from {url} "
               f"({_root_cause(exc)}; {tries}): {_NO_INTERNET_HINT}")
    else:  # invalid URL, too many redirects...: retrying cannot help
        return CptsGeoError(f"could not download {what} from {url}: {_root_cause(exc)}")
    return _Retryable(CptsGeoError(msg))


def _chain(exc: BaseException) -> Iterable[BaseException]:
    """``exc`` and what it wraps (args, ``reason``, cause, context), each once."""
    seen: set[int] = set()
    stack: list[BaseException] = [exc]
    while stack:
        e = stack.pop()
        if id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        nested = [*(a for a in e.args if isinstance(a, BaseException)),
                  getattr(e, "reason", None), e.__cause__, e.__context__]
        stack.extend(n for n in nested if isinstance(n, BaseException))


def _caused_by(exc: BaseException, class_name: str) -> bool:
    """Whether ``exc`` is or wraps an exception of the class named ``class_name``."""
    return any(type(e).__name__ == class_name for e in _chain(exc))


def _is_dns_failure(exc: BaseException) -> bool:
    import socket

    for e in _chain(exc):
        if isinstance(e, socket.gaierror) or type(e).__name__ == "NameResolutionError":
            return True
    text = repr(exc)
    return any(marker in text for marker in _DNS_MARKERS)


def _root_cause(exc: BaseException) -> str:
    """The innermost message worth showing, without object addresses."""
    innermost = list(_chain(exc))[-1]
    text = str(innermost) or type(innermost).__name__
    text = re.sub(r"<[\w.]+ object at 0x[0-9a-f]+>:?\s*", "", text)
    return text.strip() or type(exc).__name__


# --------------------------------------------------------------------------------------------
# checksums
# --------------------------------------------------------------------------------------------


def _expected_integrity(dist: Mapping[str, Any], url: str, version: str) -> tuple[str, set[str]]:
    """The strongest algorithm in ``dist.integrity`` (else ``dist.shasum``) and its digests."""
    strength = {"sha1": 1, "sha256": 2, "sha384": 3, "sha512": 4}
    found: dict[str, set[str]] = {}
    integrity = dist.get("integrity")
    if isinstance(integrity, str):
        for token in integrity.split():
            algo, _, b64 = token.partition("-")
            algo = algo.lower()
            if algo in strength and b64:
                try:
                    found.setdefault(algo, set()).add(
                        base64.b64decode(b64.split("?")[0], validate=True).hex())
                except ValueError:
                    continue
    shasum = dist.get("shasum")
    if not found and isinstance(shasum, str) and re.fullmatch(r"[0-9a-fA-F]{40}", shasum):
        found["sha1"] = {shasum.lower()}
    if not found:
        raise CptsGeoError(f"{url}: version {version} of {NPM_PACKAGE} has no usable "
                           "dist.integrity nor dist.shasum; refusing to use an unverified "
                           "tarball")
    algo = max(found, key=strength.__getitem__)
    return algo, found[algo]


def _verify_integrity(fetched: _Fetched, expected: tuple[str, set[str]]) -> None:
    algo, digests = expected
    got = fetched.digests[algo]
    if got not in digests:
        want = " or ".join(f"{algo}-{base64.b64encode(bytes.fromhex(d)).decode()}"
                           for d in sorted(digests))
        have = f"{algo}-{base64.b64encode(bytes.fromhex(got)).decode()}"
        raise CptsGeoError(
            f"checksum mismatch for {fetched.url}: the npm registry's dist.integrity is {want} "
            f"but the {fetched.size} bytes downloaded hash to {have}. The file is corrupt or "
            "was altered in transit; nothing was written. Try again, and check any proxy."
        )


def _published_checksums(session: requests.Session, year: int,
                         downloads: Path) -> dict[str, str] | None:
    """The ``SHA256SUMS`` list next to the contours, when the server publishes one."""
    url = _contours_url(year, CHECKSUMS_FILE)
    fetched = _download(session, url, downloads / CHECKSUMS_FILE, what="checksum list",
                        progress=False, optional=True)
    if fetched is None:
        return None
    sums: dict[str, str] = {}
    text = fetched.path.read_text(encoding="utf-8", errors="replace")
    for line in text.splitlines():
        m = re.fullmatch(r"\s*([0-9a-fA-F]{64})\s+\*?(?:\./)?(.+?)\s*", line)
        if m:
            sums[m.group(2).rsplit("/", 1)[-1]] = m.group(1).lower()
    return sums


def _verify_published(fetched: _Fetched, sums: Mapping[str, str] | None, name: str) -> None:
    if not sums or name not in sums:
        return
    if fetched.digests["sha256"] != sums[name]:
        raise CptsGeoError(
            f"checksum mismatch for {fetched.url}: the published {CHECKSUMS_FILE} gives "
            f"sha256 {sums[name]} but the {fetched.size} bytes downloaded hash to "
            f"{fetched.digests['sha256']}. The file is corrupt or was altered in transit; "
            "nothing was written. Try again."
        )


def _gunzip(src: Path, dst: Path, url: str) -> Path:
    """Decompress ``src`` into ``dst``, checking the gzip CRC and length (detects truncation)."""
    try:
        with gzip.open(src, "rb") as fin, open(dst, "wb") as fout:
            shutil.copyfileobj(fin, fout, _CHUNK)
    except EOFError:
        raise CptsGeoError(
            f"truncated download from {url}: the gzip stream ends before its end marker "
            f"({src.stat().st_size} bytes received). The transfer was cut; try again."
        ) from None
    except (gzip.BadGzipFile, zlib.error) as exc:
        raise CptsGeoError(f"corrupt download from {url}: not a valid gzip file ({exc}). "
                           "Try again.") from None
    return dst


def _source_entry(fetched: _Fetched, what: str, verified: str,
                  kept: Path | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "what": what,
        "url": fetched.url,
        "bytes": fetched.size,
        "sha256": fetched.digests["sha256"],
        "verified": verified,
    }
    if kept is not None:
        entry["file"] = fetched.path.relative_to(kept).as_posix()
    return entry


# --------------------------------------------------------------------------------------------
# the npm package
# --------------------------------------------------------------------------------------------


def _read_json_file(path: Path, url: str, what: str) -> Any:
    try:
        with open(path, "rb") as fh:
            return json.load(fh)
    except (ValueError, UnicodeDecodeError) as exc:
        raise CptsGeoError(f"{url}: the {what} is not valid JSON ({exc})") from None


def _semver(version: str) -> tuple[int, int, int] | None:
    m = re.fullmatch(r"(\d+)\.(\d+)\.(\d+)", version)
    return (int(m[1]), int(m[2]), int(m[3])) if m else None


def _select_version(meta: Any, year: int | None, url: str) -> str:
    """The package version for ``year``: the newest release of major ``year - 2020``.

    Examples
    --------
    >>> meta = {"dist-tags": {"latest": "6.0.0"},
    ...         "versions": {v: {} for v in ("5.0.1", "5.3.0", "5.2.0", "6.0.0", "0.9.0-5")}}
    >>> _select_version(meta, 2025, "u"), _select_version(meta, None, "u")
    ('5.3.0', '6.0.0')
    """
    versions = meta.get("versions") if isinstance(meta, dict) else None
    if not isinstance(versions, dict) or not versions:
        raise CptsGeoError(f"{url}: no versions listed for {NPM_PACKAGE}; the registry answer "
                           "is not what was expected")
    if year is None:
        latest = (meta.get("dist-tags") or {}).get("latest")
        if latest not in versions:
            raise CptsGeoError(f"{url}: no 'latest' version of {NPM_PACKAGE}")
        return str(latest)
    releases = {v: s for v in versions if (s := _semver(v)) is not None}
    candidates = [v for v, s in releases.items() if s[0] == year - 2020]
    if not candidates:
        years = sorted({s[0] + 2020 for s in releases.values() if s[0] >= 1})
        raise CptsGeoError(f"no version of {NPM_PACKAGE} for {year} on {url}; years "
                           f"available: {', '.join(map(str, years))}")
    return max(candidates, key=releases.__getitem__)


def _package_year(version: str, readme: str) -> int:
    """COG year of a package version: its row in the README table, else major + 2020.

    Examples
    --------
    >>> _package_year("6.0.0", "| 2026  | 6.0.0 | `npm install ...` |"), _package_year("5.3.0", "")
    (2026, 2025)
    """
    for m in re.finditer(r"^\|\s*(\d{4})\s*\|\s*(\d+\.\d+(?:\.\d+)?)\s*\|", readme, re.M):
        if m.group(2) == version:
            return int(m.group(1))
    semver = _semver(version)
    if semver is None or semver[0] < 1:
        raise CptsGeoError(f"cannot tell the year of {NPM_PACKAGE} {version}; pass --year")
    return semver[0] + 2020


def _read_package(path: Path, url: str) -> dict[str, Any]:
    """``communes``, ``departements``, ``regions``, ``epci`` (lists) and ``README`` (text)."""
    wanted = {"communes": "data/communes.json", "departements": "data/departements.json",
              "regions": "data/regions.json", "epci": "data/epci.json"}
    out: dict[str, Any] = {}
    try:
        with tarfile.open(path, "r:gz") as tar:
            members = {m.name.split("/", 1)[-1]: m for m in tar.getmembers() if m.isfile()}
            for key, name in wanted.items():
                member = members.get(name)
                if member is None:
                    if key == "epci":
                        continue
                    raise CptsGeoError(f"{url}: the package has no {name}; its layout changed")
                fh = tar.extractfile(member)
                assert fh is not None
                out[key] = json.load(fh)
            readme = members.get("README.md")
            readme_fh = tar.extractfile(readme) if readme is not None else None
            out["README"] = readme_fh.read().decode("utf-8", "replace") if readme_fh else ""
    except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
        raise CptsGeoError(f"{url}: cannot read the package tarball ({exc})") from None
    except ValueError as exc:
        raise CptsGeoError(f"{url}: a JSON file of the package is not valid ({exc})") from None
    communes = out["communes"]
    if not isinstance(communes, list) or not communes or not all(
            isinstance(r, dict) and {"code", "nom", "type"} <= r.keys() for r in communes):
        raise CptsGeoError(f"{url}: data/communes.json is not a list of communes with code, "
                           "nom and type; the package layout changed")
    return out


def _commune_row(r: Mapping[str, Any]) -> dict[str, str]:
    """One row of ``communes-YYYY.csv`` from one object of ``communes.json``."""

    def text(value: Any) -> str:
        return "" if value is None else str(value)

    parent = r.get("commune") or r.get("chefLieu") or ""
    return {
        "code": text(r.get("code")),
        "nom": text(r.get("nom")),
        "type": text(r.get("type")),
        "zone": text(r.get("zone")),
        "departement": text(r.get("departement")),
        "region": text(r.get("region")),
        "arrondissement": text(r.get("arrondissement")),
        "siren": text(r.get("siren")),
        "commune_parente": text(parent),
        "population": text(r.get("population")),
        "anciens_codes": ";".join(r.get("anciensCodes") or []),
        "codes_postaux": ";".join(r.get("codesPostaux") or []),
    }


def _write_csv(path: Path, columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow(["" if row.get(c) is None else row.get(c) for c in columns])


def _passage(communes: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """Historical code → current code: every current unit to itself, then ``anciensCodes``.

    Examples
    --------
    >>> _passage([{"code": "05001", "type": "commune-actuelle", "anciensCodes": ["05120"]},
    ...           {"code": "05120", "type": "commune-deleguee", "chefLieu": "05001"}])
    {'05001': '05001', '05120': '05001'}
    """
    out: dict[str, str] = {}
    for r in communes:
        if r.get("type") in ("commune-actuelle", "arrondissement-municipal"):
            out[str(r["code"])] = str(r["code"])
    for r in communes:
        if r.get("type") == "commune-actuelle":
            for old in r.get("anciensCodes") or []:
                out.setdefault(str(old), str(r["code"]))
    for r in communes:  # communes déléguées / associées not listed as anciens codes
        parent = r.get("chefLieu")
        if r.get("type") in ("commune-deleguee", "commune-associee") and parent in out:
            out.setdefault(str(r["code"]), out[str(parent)])
    return out


def _write_population(pop_dir: Path, year: int, package: Mapping[str, Any]) -> None:
    communes = package["communes"]
    _write_csv(pop_dir / f"communes-{year}.csv", _COMMUNE_COLUMNS,
               (_commune_row(r) for r in communes))
    _write_csv(pop_dir / f"regions-{year}.csv", _REGION_COLUMNS, package["regions"])
    _write_csv(pop_dir / f"departements-{year}.csv", _DEPARTEMENT_COLUMNS,
               package["departements"])
    if "epci" in package:
        _write_csv(pop_dir / f"epci-membres-{year}.csv", _EPCI_COLUMNS, (
            {"epci_code": e.get("code"), "epci_nom": e.get("nom"), "epci_type": e.get("type"),
             "code_commune": m.get("code"), "nom_commune": m.get("nom")}
            for e in package["epci"] for m in e.get("membres") or []))
    passage = _passage(communes)
    _write_csv(pop_dir / "passage-communes-historique.csv",
               ("code_historique", f"code_commune_{year}"),
               ({"code_historique": old, f"code_commune_{year}": new}
                for old, new in sorted(passage.items())))


# --------------------------------------------------------------------------------------------
# the GeoPackages
# --------------------------------------------------------------------------------------------


def _layer_name(zone: str, crs: str) -> str:
    """``metro_l93``, ``dom971_5490`` ...

    Examples
    --------
    >>> _layer_name("metro", "EPSG:2154"), _layer_name("974", "EPSG:2975")
    ('metro_l93', 'dom974_2975')
    """
    return "metro_l93" if zone == "metro" else f"dom{zone}_{crs.split(':')[-1]}"


def _read_geojson(path: Path, url: str) -> gpd.GeoDataFrame:
    import pyogrio

    try:
        frame = pyogrio.read_dataframe(path)
    except Exception as exc:  # pyogrio raises several GDAL error classes
        raise CptsGeoError(f"{url}: cannot read the GeoJSON ({exc})") from None
    if "code" not in frame.columns:
        raise CptsGeoError(f"{url}: the features have no 'code' property (properties found: "
                           f"{sorted(c for c in frame.columns if c != 'geometry')})")
    if frame.crs is None:
        frame = frame.set_crs("EPSG:4326")
    frame["code"] = frame["code"].astype(str).str.strip()
    return frame


def _polygonal(geoms: Any) -> Any:
    """Valid (multi)polygons: repair invalid ones and keep their polygonal part."""
    import numpy as np
    import shapely

    geoms = np.asarray(geoms, dtype=object)
    bad = ~shapely.is_valid(geoms)
    for i in np.flatnonzero(bad):
        fixed = shapely.make_valid(geoms[i])
        parts = [p for p in shapely.get_parts(fixed) if p.geom_type in ("Polygon",
                                                                        "MultiPolygon")]
        geoms[i] = shapely.union_all(parts) if parts else fixed
    return geoms


def _write_communes_gpkg(
    geojson: Path,
    url: str,
    communes: Sequence[Mapping[str, Any]],
    passage: Mapping[str, str],
    out: Path,
    manifest: _Manifest,
) -> gpd.GeoDataFrame | None:
    """Write one layer per zone plus ``france_wgs84``; return arrondissement features, if any.

    Codes of the contours are brought to current codes through ``passage`` (the contours may be
    a year older than the package) and communes drawn apart under one current code are merged.
    Attributes come from the package; population is the INSEE legal population.
    """
    import geopandas as gpd
    import pandas as pd
    import shapely

    frame = _read_geojson(geojson, url)
    is_arr = frame["code"].isin(list(CITY_OF_ARRONDISSEMENT))
    if "commune" in frame.columns:
        parent = frame["commune"].fillna("").astype(str).str.strip()
        is_arr |= parent.ne("") & parent.ne("None") & parent.ne(frame["code"])
    arrondissements = frame[is_arr].copy() if is_arr.any() else None
    frame = frame[~is_arr]

    actual = {str(r["code"]): r for r in communes if r.get("type") == "commune-actuelle"}
    current = frame["code"].map(lambda c: passage.get(c, c))
    unknown = sorted(set(current[~current.isin(list(actual))]))
    if unknown:
        manifest.warn(f"{len(unknown)} code(s) of {url} are not communes of the package and "
                      f"were left out: {_some(unknown)}")
    keep = current.isin(list(actual)).to_numpy()
    frame = gpd.GeoDataFrame({"code_commune": current[keep].to_numpy()},
                             geometry=_polygonal(frame.geometry[keep].to_numpy()),
                             crs=frame.crs).to_crs("EPSG:4326")
    if frame["code_commune"].duplicated().any():  # merged since the contours' year
        groups: dict[str, list[Any]] = {}
        for code, geom in zip(frame["code_commune"], frame.geometry, strict=True):
            groups.setdefault(code, []).append(geom)
        frame = gpd.GeoDataFrame({"code_commune": list(groups)},
                                 geometry=[shapely.union_all(g) for g in groups.values()],
                                 crs="EPSG:4326")
    rows = [actual[c] for c in frame["code_commune"]]
    frame["nom"] = [str(r.get("nom", "")) for r in rows]
    frame["departement"] = [str(r.get("departement", "")) for r in rows]
    frame["region"] = [str(r.get("region", "")) for r in rows]
    frame["population"] = pd.array([int(r.get("population") or 0) for r in rows],
                                   dtype="int64")
    frame["zone"] = [zone_of(d) if r.get("zone") != "com" else "com"
                     for d, r in zip(frame["departement"], rows, strict=True)]
    frame = frame[frame["zone"].isin(list(ZONE_CRS))].sort_values("code_commune")
    frame = frame.reset_index(drop=True)
    frame["surface_m2"] = 0.0

    drawn = set(frame["code_commune"])
    missing = sorted(c for c, r in actual.items() if r.get("zone") in ("metro", "drom")
                     and c not in drawn)
    if missing:
        manifest.warn(f"{len(missing)} commune(s) of the package have no contour in {url}: "
                      f"{_some(missing)}")

    columns = ["code_commune", "nom", "departement", "region", "population", "surface_m2"]
    layers: list[tuple[str, gpd.GeoDataFrame]] = []
    for zone, crs in ZONE_CRS.items():
        part = frame[frame["zone"] == zone]
        if part.empty:
            continue
        projected = part.to_crs(crs)
        projected["surface_m2"] = projected.geometry.area.round(1)
        frame.loc[part.index, "surface_m2"] = projected["surface_m2"]
        layers.append((_layer_name(zone, crs), projected[[*columns, "geometry"]]))
    layers.append(("france_wgs84", frame[[*columns, "geometry"]]))
    for name, layer in layers:
        _write_layer(layer, out, name)
    return arrondissements


def _some(codes: Sequence[str], n: int = 10) -> str:
    """The first ``n`` codes, comma-separated, with an ellipsis when there are more."""
    return ", ".join(codes[:n]) + (" ..." if len(codes) > n else "")


def _write_layer(frame: gpd.GeoDataFrame, path: Path, layer: str) -> None:
    import pyogrio

    try:
        pyogrio.write_dataframe(frame, path, layer=layer, driver="GPKG", promote_to_multi=True)
    except Exception as exc:  # GDAL errors (disk full, permissions)
        raise CptsGeoError(f"cannot write layer {layer!r} of {path}: {exc}") from None


def _write_arrondissements_gpkg(
    source: Path | gpd.GeoDataFrame,
    url: str,
    year: int,
    communes: Sequence[Mapping[str, Any]],
    out: Path,
    manifest: _Manifest,
) -> None:
    import geopandas as gpd

    frame = _read_geojson(source, url) if isinstance(source, Path) else source
    names = {str(r["code"]): str(r.get("nom", "")) for r in communes
             if r.get("type") == "arrondissement-municipal"}
    frame = frame[frame["code"].isin(list(CITY_OF_ARRONDISSEMENT))]
    frame = frame.drop_duplicates("code").sort_values("code").to_crs("EPSG:4326")
    missing = sorted(set(CITY_OF_ARRONDISSEMENT) - set(frame["code"]))
    if missing and set(names) & set(missing):
        manifest.warn(f"{len(missing)} arrondissement(s) municipaux have no contour in {url}: "
                      f"{_some(missing)}")
    if frame.empty:
        return
    label = (f"Etalab contours-administratifs {year}, {url.rsplit('/', 1)[-1]} ({url}); "
             "geometry IGN ADMIN EXPRESS COG, simplified (100 m), Licence Ouverte 2.0")
    fallback = frame["nom"].astype(str) if "nom" in frame.columns else frame["code"]
    layer = gpd.GeoDataFrame(
        {
            "code": frame["code"].to_numpy(),
            "nom": [names.get(c) or str(n) for c, n in zip(frame["code"], fallback,
                                                           strict=True)],
            "code_commune_parent": [CITY_OF_ARRONDISSEMENT[c] for c in frame["code"]],
            "source": label,
        },
        geometry=_polygonal(frame.geometry.to_numpy()),
        crs="EPSG:4326",
    )
    _write_layer(layer, out, "arrondissements_municipaux")


# --------------------------------------------------------------------------------------------
# provenance and the atomic move
# --------------------------------------------------------------------------------------------


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 22), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _write_manifest(root: Path, manifest: _Manifest) -> None:
    files = sorted(p for p in root.rglob("*") if p.is_file())
    sums = {p.relative_to(root).as_posix(): _sha256_file(p) for p in files}
    try:
        from importlib.metadata import version

        tool_version = version("cpts_geo")
    except Exception:  # not installed: running from a source tree
        tool_version = "0+unknown"
    doc = {
        "tool": f"cpts_geo {tool_version} (cpts-geo fetch)",
        "created": datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
        "year": manifest.year,
        "package": f"{NPM_PACKAGE}@{manifest.package_version}",
        "contours_year": manifest.contours_year,
        "sources": manifest.sources,
        "files": sums,
        "warnings": manifest.warnings,
    }
    (root / "SOURCES.json").write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n",
                                       encoding="utf-8")
    lines = [f"{h}  ./{name}\n" for name, h in sums.items()]
    (root / "SHA256SUMS").write_text("".join(lines), encoding="utf-8")


def _check_destination(dest: Path) -> None:
    """Refuse to replace something that is not a reference data directory."""
    if not dest.exists() and not dest.is_symlink():
        return
    if not dest.is_dir():
        raise CptsGeoError(f"{dest} exists and is not a directory; choose another destination")
    entries = {p.name for p in dest.iterdir()}
    if entries and not entries & {"population", "communes", "SOURCES.json"}:
        raise CptsGeoError(
            f"{dest} exists and does not look like a reference data directory (no population/ "
            "nor communes/); refusing to replace it. Choose an empty or new directory."
        )


def _sibling(dest: Path, kind: str) -> Path:
    """A fresh hidden name next to ``dest`` (same file system, so ``os.replace`` is atomic)."""
    return dest.with_name(f".{dest.name}.{kind}-{os.getpid()}-{secrets.token_hex(4)}")


