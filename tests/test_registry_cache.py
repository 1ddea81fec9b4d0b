"""The cache of validated registries: same result as a fresh read, invalidated by any change."""

from __future__ import annotations

import pandas as pd
import pytest

from cpts_geo import ValidationError
from cpts_geo.registry.read import _read, read_registry

from conftest import PACA_DIR


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    d = tmp_path / "cache"
    monkeypatch.setenv("CPTS_GEO_CACHE", str(d))
    return d


def _fresh(path, ref):
    return _read(path, ref, None, str(path), "csv")


def test_cached_read_equals_a_fresh_read(ref, cache_dir, tmp_path):
    src = tmp_path / "paca.csv"
    src.write_bytes((PACA_DIR / "cpts-communes.csv").read_bytes())
    first = read_registry(src, ref)
    assert len(list((cache_dir / "registries").glob("*.npz"))) == 1
    second = read_registry(src, ref)
    fresh = _fresh(src, ref)
    for reg in (first, second):
        pd.testing.assert_frame_equal(reg.claims, fresh.claims)
        assert reg.warnings == fresh.warnings
        assert reg.remapped == fresh.remapped == {"05120": "05001"}
        assert reg.source == str(src)


def test_a_changed_file_is_read_again(ref, cache_dir, tmp_path):
    src = tmp_path / "r.csv"
    src.write_text("cpts_nom;code_insee\nA;05023\n", encoding="utf-8")
    assert read_registry(src, ref).claims["code"].tolist() == ["05023"]
    src.write_text("cpts_nom;code_insee\nA;05027\n", encoding="utf-8")
    assert read_registry(src, ref).claims["code"].tolist() == ["05027"]


def test_a_bad_registry_is_never_cached(ref, cache_dir, tmp_path):
    src = tmp_path / "bad.csv"
    src.write_text("cpts_nom;code_insee\nA;99999\n", encoding="utf-8")
    for _ in range(2):
        with pytest.raises(ValidationError, match="99999"):
            read_registry(src, ref)
    assert not list(cache_dir.rglob("*.npz"))


def test_a_corrupt_cache_entry_is_ignored(ref, cache_dir, tmp_path):
    src = tmp_path / "r.csv"
    src.write_text("cpts_nom;code_insee\nA;05023\n", encoding="utf-8")
    read_registry(src, ref)
    (entry,) = (cache_dir / "registries").glob("*.npz")
    entry.write_bytes(b"not an npz")
    assert read_registry(src, ref).claims["code"].tolist() == ["05023"]


def test_an_unwritable_cache_only_costs_time(ref, tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    monkeypatch.setenv("CPTS_GEO_CACHE", str(blocker / "sub"))
    src = tmp_path / "r.csv"
    src.write_text("cpts_nom;code_insee\nA;05023\n", encoding="utf-8")
    assert len(read_registry(src, ref)) == 1


def test_the_caches_keep_only_their_most_recent_entries(ref, paca, cache_dir, tmp_path,
                                                        monkeypatch):
    """Registries and analyses beyond the bound are deleted, least recently used first, an
    analysis with what was derived from it; an entry read again is kept."""
    import os

    from cpts_geo.analysis import analyse
    from cpts_geo.analysis import cache as analysis_cache
    from cpts_geo.registry import cache as registry_cache

    monkeypatch.setattr(registry_cache, "KEEP_REGISTRIES", 2)
    monkeypatch.setattr(analysis_cache, "KEEP_ANALYSES", 2)
    lines = (PACA_DIR / "cpts-communes.csv").read_bytes().splitlines(keepends=True)
    paths = []
    for i in range(4):  # four registries, each one claim short of the PACA listing
        path = tmp_path / f"r{i}.csv"
        path.write_bytes(b"".join(lines[: i + 1] + lines[i + 2:]))
        paths.append(path)
    keys = []
    for i, path in enumerate(paths):
        reg = read_registry(path, ref)
        a = analyse(reg, ref, region="93")
        keys.append(a.memo["cache_key"])
        (cache_dir / "analyses" / f"{keys[-1]}-derived.npz").write_bytes(b"x")
        for p in (cache_dir / "analyses").iterdir():  # a distinct time for each entry
            if p.name.startswith(keys[-1]):
                os.utime(p, (1_000_000 + i, 1_000_000 + i))
        if i == 2:  # the first one read again: the most recently used
            read_registry(paths[0], ref)
            analyse(read_registry(paths[0], ref), ref, region="93")
    names = {p.name for p in (cache_dir / "analyses").iterdir()}
    kept = {k for k in keys if f"{k}.npz" in names}
    assert kept == {keys[0], keys[3]}
    assert {n.split("-")[0].split(".")[0] for n in names} == kept  # derived files go too
    assert len(list((cache_dir / "registries").glob("*.npz"))) == 2
