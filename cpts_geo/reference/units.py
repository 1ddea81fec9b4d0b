"""Locate and load the reference data: the units of France with population and geometry.

The reference data directory (see ``../shared/data/README.md`` for its first instance) holds::

    population/communes-YYYY.csv              codes, names, type, zone, département, région,
                                              parent commune, INSEE legal population
    population/passage-communes-historique.csv  historical code → current code
    population/regions-YYYY.csv, departements-YYYY.csv
    communes/communes-YYYY.gpkg               commune polygons, one layer per zone in its CRS
                                              (``metro_l93``, ``dom971_5490``, ...) or a single
                                              EPSG:4326 layer (``france_wgs84``)
    communes/arrondissements-municipaux.gpkg  optional: the 45 arrondissements municipaux

It is found in this order: the ``data`` argument (``--data``), the ``CPTS_GEO_DATA`` variable,
``data/communes/`` under the working directory.

**Units** are the communes actuelles of the 101 départements and the 45 arrondissements
municipaux of Paris, Lyon and Marseille. The *finest* units (``finest`` column) partition France:
every commune except the three cities, plus the arrondissements. Analysis is done on them, so that
a city claimed by arrondissement is compared by arrondissement, and population is never counted
twice. Geometry is held per zone, each in its own projected CRS (:data:`ZONE_CRS`).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..errors import CptsGeoError
from .codes import ARRONDISSEMENTS, CITY_OF_ARRONDISSEMENT
from .locate import arrondissement_layer, commune_layer, latest, locate_data
from .zones import ZONE_CRS, zone_of

if TYPE_CHECKING:
    import geopandas as gpd

    from .geometry import ZonePolygons

__all__ = ["Reference", "load_reference", "locate_data"]



def _read_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")


@dataclass(frozen=True, eq=False)
class Reference:
    """The units of France, their population and, on demand, their geometry.

    Build it with :func:`load_reference`. ``units`` is indexed by ``code`` (str) with columns
    ``nom``, ``type`` (``commune`` / ``arrondissement``), ``commune`` (parent commune code),
    ``departement``, ``region``, ``population`` (int), ``zone`` and ``finest`` (bool: the unit is
    part of the partition of France used by the analysis), and ``codes_postaux`` (``;``-separated,
    ``""`` when the reference has none). ``former`` lists the former communes merged into a
    current one (*communes déléguées* and *associées*: ``code``, ``nom``, ``departement``,
    ``commune``, the current code), for registries that name them. ``memo`` holds what is derived
    from the reference once and reused (cleaned polygons, areas, spatial indexes, display
    layers), keyed by what computed it.

    Examples
    --------
    >>> int(ref.units.loc[ref.units["type"] == "commune", "population"].sum())
    68350798
    >>> "13055" in ref.finest.index, "13201" in ref.finest.index  # Marseille, by arrondissement
    (False, True)
    >>> ref.units.loc["13201", ["nom", "commune"]].tolist()
    ['Marseille 1er Arrondissement', '13055']
    """

    root: Path
    units: pd.DataFrame
    crosswalk: Mapping[str, str]
    regions: pd.DataFrame
    departements: pd.DataFrame
    warnings: tuple[str, ...] = ()
    former: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=["code", "nom", "departement", "commune"]), repr=False)
    memo: dict[str, Any] = field(default_factory=dict, repr=False)

    @cached_property
    def finest(self) -> pd.DataFrame:
        """The finest units (communes, and arrondissements for the three cities)."""
        return self.units[self.units["finest"]]

    def finest_in(self, column: str, value: str) -> pd.Index:
        """Codes of the finest units whose ``column`` is ``value`` (grouped once per column).

        ``column`` is ``region``, ``departement`` or ``zone``; the codes are in the order of
        :attr:`finest`.

        Examples
        --------
        >>> ref.finest_in("departement", "05")[:3].tolist(), len(ref.finest_in("zone", "974"))
        (['05001', '05003', '05004'], 24)
        """
        key = f"finest_in:{column}"
        if key not in self.memo:
            self.memo[key] = self.finest.groupby(column, sort=False).indices
        positions = self.memo[key].get(value)
        return self.finest.index[positions] if positions is not None else self.finest.index[:0]

    @cached_property
    def current_codes(self) -> frozenset[str]:
        """Every current unit code (communes and arrondissements)."""
        return frozenset(self.units.index)

    @property
    def zones(self) -> list[str]:
        """The zones that have units, metro first."""
        present = set(self.units["zone"])
        return [z for z in ZONE_CRS if z in present]

    def expand(self, code: str) -> tuple[str, ...]:
        """The finest units standing for ``code``: a city's arrondissements, or itself.

        Examples
        --------
        >>> ref.expand("69123")[:2], len(ref.expand("69123")), ref.expand("06088")
        (('69381', '69382'), 9, ('06088',))
        """
        finest = self.finest.index
        if code in finest:
            return (code,)
        return tuple(a for a in ARRONDISSEMENTS.get(code, ()) if a in finest) or (code,)

    def geometry(self, zone: str) -> gpd.GeoSeries:
        """Cleaned polygons of the finest units of ``zone``, in the zone's CRS, indexed by code.

        The commune layer is cleaned as a coverage (shapely ``coverage_clean``: no overlaps, no
        narrow gaps, shared edges identical) and the arrondissements are fitted to their city's
        outline, once; the result is cached on disk keyed by the input files' checksum (see
        :mod:`cpts_geo.reference.geometry`). Where the data directory has no arrondissement
        polygons, the city keeps its commune polygon under the city code.

        Parameters
        ----------
        zone
            ``metro`` or a DROM code (``971`` ... ``976``).

        Examples
        --------
        >>> ref.geometry("metro").crs.to_string()
        'EPSG:2154'
        >>> reunion = ref.geometry("974")
        >>> reunion.crs.to_string(), len(reunion), reunion.loc["97411"].geom_type
        ('EPSG:2975', 24, 'Polygon')
        """
        if zone not in ZONE_CRS:
            raise ValueError(f"`zone` was {zone!r} but is expected to be in {list(ZONE_CRS)}")
        key = f"geometry:{zone}"
        if key not in self.memo:
            from .geometry import load_zone_geometry

            self.memo[key] = load_zone_geometry(self, zone)
        return self.memo[key]

    def polygons(self, zone: str) -> ZonePolygons:
        """The polygons of :meth:`geometry`, decoded on demand (all, or only those asked for).

        What needs a few units' polygons (a project check) asks for them here; what draws
        every unit uses :meth:`geometry`. Both come from the same cache.

        Examples
        --------
        >>> polys = ref.polygons("metro")
        >>> polys.index.equals(ref.geometry("metro").index)
        True
        >>> p = polys.take(polys.index.get_indexer(["13201"]))[0]
        >>> p.equals(ref.geometry("metro")["13201"])
        True
        """
        if zone not in ZONE_CRS:
            raise ValueError(f"`zone` was {zone!r} but is expected to be in {list(ZONE_CRS)}")
        key = f"polygons:{zone}"
        if key not in self.memo:
            from .geometry import zone_polygons

            self.memo[key] = zone_polygons(self, zone)
        return self.memo[key]  # type: ignore[no-any-return]

    @cached_property
    def commune_layer_path(self) -> Path | None:
        """The commune polygon file, or ``None`` when the directory has none."""
        return commune_layer(self.root)

    @cached_property
    def arrondissement_layer_path(self) -> Path | None:
        """The arrondissement polygon file, or ``None`` when the directory has none."""
        return arrondissement_layer(self.root)

    def checksum(self) -> str:
        """SHA-256 over the geometry inputs, the key of the cleaned-geometry cache."""
        digest = hashlib.sha256()
        for path in (self.commune_layer_path, self.arrondissement_layer_path):
            if path is None:
                digest.update(b"-")
                continue
            with open(path, "rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 22), b""):
                    digest.update(chunk)
        return digest.hexdigest()

    @cached_property
    def tables_checksum(self) -> str:
        """SHA-256 over the population and crosswalk tables (``population/*.csv``).

        The key under which registries read against this reference are cached: the codes,
        names and crosswalk a registry is validated with all come from these files.

        Examples
        --------
        >>> len(ref.tables_checksum)
        64
        """
        digest = hashlib.sha256()
        for path in sorted((self.root / "population").glob("*.csv")):
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
        return digest.hexdigest()

    def region_code(self, value: object) -> str:
        """The région code ``value`` stands for (``6`` → ``06``), or a clear error.

        Raises
        ------
        CptsGeoError
            When ``value`` is no région of the reference data; the message lists them.

        Examples
        --------
        >>> ref.region_code(" 93 "), ref.region_code(6)
        ('93', '06')
        >>> ref.region_code("99")
        Traceback (most recent call last):
        ...
        cpts_geo.errors.CptsGeoError: --region '99' is not a région code; use one of: 01
        (Guadeloupe), 02 (Martinique), ...
        """
        code = str(value).strip().zfill(2)
        known = sorted(set(self.finest["region"]))
        if code not in known:
            listing = ", ".join(f"{c} ({self.region_name(c)})" for c in known)
            raise CptsGeoError(f"--region {str(value).strip()!r} is not a région code; use one "
                               f"of: {listing}")
        return code

    def region_name(self, code: str) -> str:
        """French name of région ``code`` (the code itself when unknown)."""
        names = self.regions["nom"]
        return str(names.get(code, code))

    def departement_name(self, code: str) -> str:
        """French name of département ``code`` (the code itself when unknown)."""
        names = self.departements["nom"]
        return str(names.get(code, code))


def load_reference(data: str | os.PathLike[str] | None = None) -> Reference:
    """Load the units of France with population, from a reference data directory.

    Geometry is not read here: :meth:`Reference.geometry` reads (and caches) it on first use,
    so that questions about population and membership never wait for polygons.

    Parameters
    ----------
    data
        Reference data directory; see :func:`locate_data` for how it is found when ``None``.

    Returns
    -------
    Reference

    Raises
    ------
    CptsGeoError
        When the directory is missing or a file in it lacks a required column.

    Examples
    --------
    >>> ref = load_reference()  # the directory named by CPTS_GEO_DATA
    >>> ref.units["type"].value_counts().to_dict()
    {'commune': 34875, 'arrondissement': 45}
    >>> ref.crosswalk["05120"]  # a historical code and the commune it merged into
    '05001'
    """
    root = locate_data(data)
    from .tables_cache import load_tables, store_tables, tables_key

    key = tables_key(root)
    cached = load_tables(root, key)
    if cached is not None:
        checksum = cached.pop("tables_checksum")
        reference = Reference(**cached)
        reference.__dict__["tables_checksum"] = checksum  # the cached property, as stored
        return reference
    reference = _load(root)
    store_tables(reference, key)
    return reference


def _load(root: Path) -> Reference:
    """:func:`load_reference` from the files themselves."""
    pop_dir = root / "population"
    communes_csv = latest(pop_dir, "communes-*.csv")
    assert communes_csv is not None  # locate_data checked it
    raw = _read_csv(communes_csv)
    needed = {"code", "nom", "type", "zone", "departement", "region", "commune_parente",
              "population"}
    missing = needed - set(raw.columns)
    if missing:
        raise CptsGeoError(
            f"{communes_csv}: missing column(s) {sorted(missing)}; expected the layout of "
            "population/communes-YYYY.csv (see the data README), e.g. rebuilt by `cpts-geo fetch`."
        )
    communes = raw[(raw["type"] == "commune-actuelle") & (raw["zone"] != "com")]
    arrs = raw[raw["type"] == "arrondissement-municipal"]
    units = pd.concat([communes, arrs], ignore_index=True)
    bad_pop = units.loc[~units["population"].str.fullmatch(r"\d+"), ["code", "population"]]
    if len(bad_pop):
        rows = ", ".join(f"{c} ({p!r})" for c, p in bad_pop.head(5).itertuples(index=False))
        raise CptsGeoError(
            f"{communes_csv}: population is not a whole number for {len(bad_pop)} unit(s): "
            f"{rows}. Rebuild the file with `cpts-geo fetch`."
        )
    is_arr = units["type"] == "arrondissement-municipal"
    out = pd.DataFrame(
        {
            "nom": units["nom"].to_numpy(),
            "type": np.where(is_arr, "arrondissement", "commune"),
            "commune": np.where(is_arr, units["commune_parente"], units["code"]),
            "departement": units["departement"].to_numpy(),
            "region": units["region"].to_numpy(),
            "population": units["population"].astype("int64").to_numpy(),
            "zone": [zone_of(d) for d in units["departement"]],
            "codes_postaux": (units["codes_postaux"].to_numpy() if "codes_postaux" in units
                              else ""),
        },
        index=pd.Index(units["code"].to_numpy(), name="code", dtype=object),
    )
    for col in ("nom", "type", "commune", "departement", "region", "zone", "codes_postaux"):
        out[col] = out[col].astype(object)
    split_cities = set(out.loc[out["type"] == "arrondissement", "commune"])
    out["finest"] = ~out.index.isin(list(split_cities))
    warnings: list[str] = []
    for city in split_cities:
        arr_pop = int(out.loc[out["commune"].eq(city) & out["type"].eq("arrondissement"),
                              "population"].sum())
        city_pop = int(out.at[city, "population"]) if city in out.index else arr_pop
        if arr_pop != city_pop:
            warnings.append(f"population of {city} ({city_pop}) differs from the sum of its "
                            f"arrondissements ({arr_pop})")
    unknown_arr = set(CITY_OF_ARRONDISSEMENT) - set(out.index)
    if unknown_arr and split_cities:
        warnings.append(f"arrondissements missing from {communes_csv.name}: {sorted(unknown_arr)}")

    crosswalk: dict[str, str] = {}
    passage = pop_dir / "passage-communes-historique.csv"
    if passage.exists():
        table = _read_csv(passage)
        if len(table.columns) < 2:
            raise CptsGeoError(f"{passage}: expected two columns (historical code, current code)")
        old, new = table.iloc[:, 0], table.iloc[:, 1]
        keep = (old != new).to_numpy()
        crosswalk = dict(zip(old[keep], new[keep], strict=True))
    # codes listed as anciens_codes in the communes file complete the crosswalk
    if "anciens_codes" in raw.columns:
        for code, olds in communes.loc[communes["anciens_codes"] != "",
                                       ["code", "anciens_codes"]].itertuples(index=False):
            for o in olds.split(";"):
                o = o.strip()
                if o and o != code and o not in out.index:
                    crosswalk.setdefault(o, code)
    regions = _names(latest(pop_dir, "regions-*.csv"), ["code", "nom"], out, "region")
    departements = _names(latest(pop_dir, "departements-*.csv"), ["code", "nom", "region"],
                          out, "departement")
    # communes déléguées and associées: former communes, by name, for registries that name them
    merged = raw[raw["type"].isin(["commune-deleguee", "commune-associee"])]
    parents = merged["commune_parente"].map(lambda c: crosswalk.get(c, c))
    former = pd.DataFrame({"code": merged["code"].to_numpy(dtype=object),
                           "nom": merged["nom"].to_numpy(dtype=object),
                           "departement": merged["departement"].to_numpy(dtype=object),
                           "commune": parents.to_numpy(dtype=object)})
    former = former[former["commune"].isin(out.index)].reset_index(drop=True)
    return Reference(root, out, crosswalk, regions, departements, tuple(warnings), former)


def _names(path: Path | None, cols: list[str], units: pd.DataFrame, key: str) -> pd.DataFrame:
    if path is not None:
        table = _read_csv(path)
        if set(cols) <= set(table.columns):
            return table[cols].set_index("code")
    codes = sorted(set(units[key]))
    frame = pd.DataFrame({"code": codes, "nom": codes})
    if "region" in cols:
        frame["region"] = [units.loc[units[key] == c, "region"].iloc[0] for c in codes]
    return frame.set_index("code")
