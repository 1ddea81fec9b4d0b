"""The reference tables as loaded, kept on disk: a run reads them in a few milliseconds.

Loading the reference data means reading some 40,000 rows of CSV (communes, arrondissements,
former communes, the crosswalk) and preparing them: a tenth of a second that every command
paid. The prepared tables are stored in the cache directory
(:func:`cpts_geo.reference.geometry.cache_directory`) as plain arrays (``numpy.savez``, no
pickle), keyed by the data directory, the name, size, modification and change times and inode
of each of its ``population/*.csv`` files (an edit that puts the old modification time back
still changes the change time) and the tool's version: any change to a file reads it again.
The checksum of the tables (:attr:`Reference.tables_checksum`, the key of the registry cache)
is stored with them, so it is not computed again either.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .names import name_keys

if TYPE_CHECKING:
    import pandas as pd

    from .units import Reference

__all__ = ["KEEP_TABLES", "load_tables", "store_tables", "stored_checksum", "tables_key"]

#: Versions of the reference tables kept in the cache (the most recently used).
KEEP_TABLES = 4
_FORMAT = "t2"  # t2: with the folded names
_UNIT_TEXT = ("nom", "type", "commune", "departement", "region", "zone", "codes_postaux")


def tables_key(root: Path) -> str | None:
    """The cache key of the tables of ``root``, or ``None`` when a file cannot be looked at.

    Examples
    --------
    >>> len(tables_key(ref.root))
    40
    """
    from ..version import code_fingerprint

    # the code's fingerprint: the cached tables hold derived values (folded names), which a
    # change of the code that derives them must not find stale
    digest = hashlib.sha256(f"{_FORMAT}\0{code_fingerprint()}\0{root.resolve()}".encode())
    try:
        for path in sorted((root / "population").glob("*.csv")):
            st = path.stat()
            digest.update(f"\0{path.name}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ctime_ns}"
                          f"\0{st.st_ino}".encode())
    except OSError:
        return None
    return digest.hexdigest()[:40]


def stored_checksum(root: Path) -> str | None:
    """The checksum of the tables of ``root`` as cached, read without pandas (``None``: none).

    Examples
    --------
    >>> stored_checksum(ref.root) == ref.tables_checksum
    True
    """
    key = tables_key(root)
    if key is None:
        return None
    try:
        with np.load(_path(key), allow_pickle=False) as npz:
            checksum = json.loads(str(npz["meta"]))["tables_checksum"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return checksum if isinstance(checksum, str) else None


def _path(key: str) -> Path:
    from .store import cache_directory

    return cache_directory() / "reference" / f"tables-{key}.npz"


def _text(values: object) -> np.ndarray:
    return np.asarray(["" if v is None else str(v) for v in values], dtype=str)  # type: ignore[attr-defined]


def store_tables(reference: Reference, key: str | None) -> None:
    """Write the prepared tables of ``reference`` under ``key``; never raises on I/O.

    Examples
    --------
    >>> import os
    >>> saved = os.environ.get("CPTS_GEO_CACHE")
    >>> os.environ["CPTS_GEO_CACHE"] = str(tmp)
    >>> store_tables(ref, "k" * 40)
    >>> again = load_tables(ref.root, "k" * 40)
    >>> again["units"].equals(ref.units), again["crosswalk"] == ref.crosswalk
    (True, True)
    >>> if saved is None:
    ...     del os.environ["CPTS_GEO_CACHE"]
    ... else:
    ...     os.environ["CPTS_GEO_CACHE"] = saved
    """
    if key is None:
        return
    u = reference.units
    arrays = {
        "code": _text(u.index), "population": u["population"].to_numpy(dtype=np.int64),
        "finest": u["finest"].to_numpy(dtype=bool),
        **{f"u_{c}": _text(u[c]) for c in _UNIT_TEXT},
        "cw_old": _text(reference.crosswalk.keys()), "cw_new": _text(reference.crosswalk.values()),
        "reg_code": _text(reference.regions.index), "reg_nom": _text(reference.regions["nom"]),
        "dep_code": _text(reference.departements.index),
        "dep_nom": _text(reference.departements["nom"]),
        "dep_region": _text(reference.departements["region"]),
        **{f"f_{c}": _text(reference.former[c]) for c in ("code", "nom", "departement",
                                                          "commune")},
        # the folded names of the name index: the costly part of building it
        "name_keys": np.asarray(name_keys(u["nom"]), dtype=str),
        "former_keys": np.asarray(name_keys(reference.former["nom"]), dtype=str),
        "meta": np.asarray(json.dumps({"warnings": list(reference.warnings),
                                       "tables_checksum": reference.tables_checksum})),
    }
    from .store import prune_cache, save_arrays

    path = _path(key)
    if not save_arrays(path, arrays):
        return
    # one entry per data directory and version of the tool: the few most recent are enough
    prune_cache(path.parent, KEEP_TABLES, prefix="tables-")


def _strings(values: np.ndarray) -> pd.Series:
    """Text read back with the dtype ``pandas.read_csv(dtype=str)`` gives."""
    import pandas as pd

    return pd.Series(values.astype(object), dtype="str")


def load_tables(root: Path, key: str | None) -> dict[str, Any] | None:
    """The tables stored under ``key`` for ``root``, or ``None`` (missing, unreadable).

    Returns
    -------
    dict or None
        The fields of a :class:`~cpts_geo.reference.units.Reference` (``root``, ``units``,
        ``crosswalk``, ``regions``, ``departements``, ``warnings``, ``former``, ``memo``: the
        folded names of the name index) and its ``tables_checksum``.

    Examples
    --------
    >>> load_tables(ref.root, "0" * 40) is None
    True
    """
    if key is None:
        return None
    from .store import read_arrays, touch_entry

    path = _path(key)
    a = read_arrays(path)
    if a is None:
        return None
    try:
        meta = json.loads(str(a["meta"]))
    except (ValueError, KeyError):
        return None
    touch_entry(path)  # recently used: kept when the cache is pruned
    import pandas as pd

    units = pd.DataFrame({c: pd.Series(a[f"u_{c}"].astype(object), dtype=object)
                          for c in _UNIT_TEXT})
    units.insert(5, "population", a["population"])
    units["finest"] = a["finest"]
    units.index = pd.Index(a["code"].astype(object), name="code", dtype=object)
    units = units[["nom", "type", "commune", "departement", "region", "population", "zone",
                   "codes_postaux", "finest"]]
    regions = pd.DataFrame({"nom": _strings(a["reg_nom"]).to_numpy()},
                           index=pd.Index(_strings(a["reg_code"]), name="code"))
    departements = pd.DataFrame({"nom": _strings(a["dep_nom"]).to_numpy(),
                                 "region": _strings(a["dep_region"]).to_numpy()},
                                index=pd.Index(_strings(a["dep_code"]), name="code"))
    former = pd.DataFrame({c: _strings(a[f"f_{c}"]) for c in ("code", "nom", "departement",
                                                               "commune")})
    crosswalk = dict(zip(a["cw_old"].tolist(), a["cw_new"].tolist(), strict=True))
    return {"root": root.resolve(), "units": units, "crosswalk": crosswalk, "regions": regions,
            "departements": departements, "warnings": tuple(meta["warnings"]),
            "former": former, "tables_checksum": meta["tables_checksum"],
            "memo": {"names:keys": a["name_keys"].tolist(),
                     "names:former_keys": a["former_keys"].tolist()}}


