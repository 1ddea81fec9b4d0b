"""Cache of validated registries, keyed by the file's checksum and the reference tables.

Reading and validating a national registry (about 30,000 claims) takes about half a second, most
of it row-by-row validation in Python; ``cpts-geo check`` reads the same registry every time a
project is checked. A registry that validated is therefore stored in the cache directory (see
:func:`cpts_geo.reference.geometry.cache_directory`) as plain arrays (``numpy.savez``, no pickle),
keyed by the SHA-256 of the file, the sheet, the path shown in messages, the tool's version and
the checksum of the reference tables; any change to one of them reads the file again.
Registries with problems are never cached: they are validated, and reported, on every run.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import Notice
from ..reference.store import (
    cache_directory,
    prune_cache,
    read_arrays,
    save_arrays,
    touch_entry,
)

if TYPE_CHECKING:

    from ..reference import Reference
    from .model import Registry

__all__ = ["KEEP_REGISTRIES", "cache_key", "key_for", "load", "store"]

#: Registries kept in the cache (the most recently read).
KEEP_REGISTRIES = 64

_FORMAT = "r3"  # r3: text columns as distinct values and codes; r2: notices, names, dates


def cache_key(raw: bytes, label: str, sheet: object, reference: Reference) -> str:
    """The cache key of a registry file's content read against ``reference``.

    Examples
    --------
    >>> k = cache_key(b"cpts_nom;code_insee", "a.csv", None, ref)
    >>> k == cache_key(b"cpts_nom;code_insee", "a.csv", None, ref), len(k)
    (True, 40)
    >>> k == cache_key(b"cpts_nom;code_insee", "b.csv", None, ref)
    False
    """
    return key_for(raw, label, sheet, reference.tables_checksum)


def key_for(raw: bytes, label: str, sheet: object, tables_checksum: str) -> str:
    """:func:`cache_key` from the checksum of the reference tables (no reference loaded).

    Examples
    --------
    >>> key_for(b"x", "a.csv", None, ref.tables_checksum) == cache_key(b"x", "a.csv", None, ref)
    True
    """
    digest = hashlib.sha256()
    from ..version import code_fingerprint

    for part in (_FORMAT, code_fingerprint(), label, repr(sheet), tables_checksum):
        digest.update(part.encode("utf-8", "surrogatepass") + b"\0")
    digest.update(raw)
    return digest.hexdigest()[:40]


def _path(key: str) -> Path:
    return cache_directory() / "registries" / f"{key}.npz"


def load(key: str) -> Registry | None:
    """The cached registry under ``key``, or ``None`` (missing or unreadable entry).

    Examples
    --------
    >>> load("0" * 40) is None
    True
    """
    import pandas as pd

    from .model import Registry

    path = _path(key)
    arrays = read_arrays(path)
    if arrays is None:
        return None
    try:
        meta = json.loads(str(arrays["meta"]))
        data = {}
        for i, col in enumerate(meta["columns"]):
            values = arrays[f"c{i}"]
            if col == "partage":
                data[col] = values.astype(bool)
            elif col == "ligne":
                data[col] = pd.array(np.where(values < 0, None, values), dtype="Int64")
            elif col in meta.get("dates", ()):
                data[col] = pd.to_datetime(pd.Series(values).replace("", None)).astype(
                    "datetime64[ns]")
            else:  # text: the distinct values and each row's
                data[col] = pd.Series(arrays[f"u{i}"].astype(object)[values], dtype=object)
        names = pd.DataFrame(meta["names"], columns=["ligne", "valeur", "code", "nom", "par"])
        notices = tuple(Notice(k, m, r) for k, m, r in meta["notices"])
    except (OSError, ValueError, KeyError, TypeError, json.JSONDecodeError):
        return None
    touch_entry(path)  # recently used: kept when the cache is pruned
    claims = pd.DataFrame(data)
    return Registry(claims, meta["source"], tuple(meta["warnings"]), dict(meta["remapped"]),
                    notices, names, tuple(meta["unclaimed"]))


def store(key: str, registry: Registry) -> None:
    """Write ``registry`` under ``key`` atomically; a cache that cannot be written only costs time.

    Examples
    --------
    >>> import os
    >>> saved = os.environ.get("CPTS_GEO_CACHE")
    >>> os.environ["CPTS_GEO_CACHE"] = str(tmp)  # keep the example out of the real cache
    >>> store("1" * 40, reg); load("1" * 40).claims.equals(reg.claims)
    True
    >>> [p.name for p in (tmp / "registries").iterdir()] == ["1" * 40 + ".npz"]
    True
    >>> if saved is None:
    ...     del os.environ["CPTS_GEO_CACHE"]
    ... else:
    ...     os.environ["CPTS_GEO_CACHE"] = saved
    """
    import pandas as pd

    claims = registry.claims
    arrays: dict[str, np.ndarray] = {}
    for i, col in enumerate(claims.columns):
        values = claims[col]
        if col == "partage":
            arrays[f"c{i}"] = values.to_numpy(dtype=bool)
        elif col == "ligne":
            arrays[f"c{i}"] = values.fillna(-1).to_numpy(dtype=np.int64)
        elif col in registry.dated:
            arrays[f"c{i}"] = values.dt.strftime("%Y-%m-%d").fillna("").to_numpy(dtype=str)
        else:  # text: each distinct value once (a national registry names 1,000 CPTS on
            # 30,000 rows), missing cells as empty text
            codes, uniques = pd.factorize(values.to_numpy(dtype=object))
            uniques = np.asarray(uniques, dtype=object)
            if (codes < 0).any():
                codes = np.where(codes < 0, len(uniques), codes)
                uniques = np.append(uniques, "")
            arrays[f"c{i}"] = codes.astype(np.int32)
            arrays[f"u{i}"] = uniques.astype(str)
    names = registry.names.astype(object).where(registry.names.notna(), None)
    meta = {"columns": [str(c) for c in claims.columns], "source": registry.source,
            "warnings": list(registry.warnings), "remapped": registry.remapped,
            "dates": list(registry.dated), "unclaimed": list(registry.unclaimed),
            "notices": [[n.kind, n.message, n.row] for n in registry.notices],
            "names": [[None if v is None else (int(v) if j == 0 else str(v)) for j, v in
                       enumerate(r)] for r in names.itertuples(index=False)]}
    path = _path(key)
    if save_arrays(path, {"meta": np.asarray(json.dumps(meta, ensure_ascii=False)), **arrays}):
        prune_cache(path.parent, KEEP_REGISTRIES)
