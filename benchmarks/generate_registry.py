"""A France-scale CPTS registry for benchmarks, grown over the real communes from seed communes.

``generate_registry(reference, n_cpts=1000, seed=0)`` gives one row per claim (``cpts_id``,
``cpts_nom``, ``stade``, ``code_commune``, ``partage``), the same columns an ARS export has:

* the CPTS of each région are as many as its share of the population (largest remainder, at
  least one per région), seeded on communes drawn with a probability that grows with their
  population (Paris, Lyon and Marseille by arrondissement);
* about 4 % of the population of each région is first set aside in *zones blanches*: contiguous
  blobs of small communes grown from random seeds. Islands and units cut off from every seed stay
  unclaimed too;
* the territories are grown over the real rook adjacency of the cleaned commune coverage
  (``cpts_geo.analysis.topology.adjacency``), inside their région, by multi-source region
  growing: the CPTS with the smallest population takes the next unclaimed neighbour in
  breadth-first order, so that territories are contiguous, compact and of comparable population
  where they compete;
* a handful of deliberate conflicts (a border unit of one CPTS also claimed by a neighbouring
  CPTS, each pair once) and one commune declared shared (``partage = infra``) by two neighbouring
  CPTS are added;
* stages use the labels found in real listings in realistic proportions.

Everything depends on ``seed`` only (no set or dict iteration order, no hashing): the same seed
gives the same table, byte for byte. What was injected is in ``frame.attrs``: ``conflicts``
(``[code, cpts_a, cpts_b]`` with ``cpts_a`` the owner), ``shared`` (``[code, cpts_a, cpts_b]``),
``gap_population``, ``population``, ``gap_share``.

Command line::

    python benchmarks/generate_registry.py --out france.csv --seed 0 --n 1000 [--region 93]
"""

from __future__ import annotations

import argparse
import heapq
import sys
import time
from collections import deque
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

#: Stage labels as written in real listings, and their share among CPTS (national panorama order
#: of magnitude: most CPTS have signed the ACI).
STAGE_LABELS: tuple[tuple[str, float], ...] = (
    ("ACI signé", 0.62),
    ("Projet de santé validé", 0.12),
    ("Lettre d'intention validée", 0.13),
    ("Émergence", 0.08),
    ("", 0.05),
)
#: Share of each région's population left in zones blanches before growing territories.
GAP_SHARE = 0.04
#: Communes above this population are never put in a zone blanche on purpose.
GAP_MAX_UNIT_POP = 10_000
#: Seed probability grows as population ** SEED_EXPONENT (1 = proportional to population).
SEED_EXPONENT = 0.75

__all__ = ["generate_registry", "main"]


def _csr(n: int, left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric adjacency of ``n`` nodes as CSR (indptr, indices), neighbours sorted."""
    src = np.concatenate([left, right])
    dst = np.concatenate([right, left])
    order = np.lexsort((dst, src))
    src, dst = src[order], dst[order]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.add.at(indptr, src + 1, 1)
    return np.cumsum(indptr), dst.astype(np.int64)


def _allocate(n: int, weights: np.ndarray, caps: np.ndarray) -> np.ndarray:
    """Split ``n`` into integers proportional to ``weights`` (largest remainder), each in
    ``[1, cap]`` where possible."""
    k = len(weights)
    if k == 0:
        return np.zeros(0, dtype=np.int64)
    share = n * weights / weights.sum()
    out = np.floor(share).astype(np.int64)
    rest = n - int(out.sum())
    order = np.lexsort((np.arange(k), -(share - out)))
    out[order[:rest]] += 1
    out = np.clip(out, np.minimum(1, caps), caps)
    # restore the total after clipping: take from / give to the largest shares first
    by_size = np.lexsort((np.arange(k), -share))
    while out.sum() > n and (out > 1).any():
        for i in by_size:
            if out.sum() <= n:
                break
            if out[i] > 1:
                out[i] -= 1
    while out.sum() < n and (out < caps).any():
        for i in by_size:
            if out.sum() >= n:
                break
            if out[i] < caps[i]:
                out[i] += 1
    return out


def _units_and_graph(reference, regions: Sequence[str] | None):
    """Finest units with a polygon (sorted by zone then code) and their rook adjacency."""
    from cpts_geo.analysis.topology import adjacency

    finest = reference.finest
    if regions is not None:
        wanted = [str(r).zfill(2) for r in regions]
        finest = finest[finest["region"].isin(wanted)]
    frames, lefts, rights = [], [], []
    offset = 0
    for zone in reference.zones:
        sub = finest[finest["zone"] == zone]
        if sub.empty:
            continue
        index = reference.geometry(zone).index
        codes = sorted(c for c in sub.index if c in index)
        if not codes:
            continue
        left, right = adjacency(reference, zone, codes)
        frames.append(sub.loc[codes])
        lefts.append(np.asarray(left, dtype=np.int64) + offset)
        rights.append(np.asarray(right, dtype=np.int64) + offset)
        offset += len(codes)
    units = pd.concat(frames)
    left = np.concatenate(lefts)
    right = np.concatenate(rights)
    region = units["region"].to_numpy()
    same = region[left] == region[right]  # territories are grown inside their région
    return units, _csr(len(units), left[same], right[same]), (left, right)


def _reserve_gaps(rng: np.random.Generator, pop: np.ndarray, members: np.ndarray,
                  indptr: np.ndarray, indices: np.ndarray, gap: np.ndarray, share: float) -> None:
    """Mark contiguous blobs of small units of one région as gaps, up to ``share`` of its
    population (in place)."""
    target = share * pop[members].sum()
    if target <= 0:
        return
    small = members[pop[members] < GAP_MAX_UNIT_POP]
    total = 0.0
    for s in rng.permutation(small):
        if total >= target:
            break
        if gap[s]:
            continue
        blob_target = min(rng.uniform(3_000, 40_000), target - total)
        blob = 0.0
        queue = deque([s])
        seen = {int(s)}
        while queue and blob < blob_target:
            u = queue.popleft()
            if gap[u] or pop[u] >= GAP_MAX_UNIT_POP or total + pop[u] > 1.25 * target:
                continue
            gap[u] = True
            blob += pop[u]
            total += pop[u]
            for v in indices[indptr[u]:indptr[u + 1]]:
                if int(v) not in seen:
                    seen.add(int(v))
                    queue.append(int(v))


def _grow(seeds: np.ndarray, pop: np.ndarray, indptr: np.ndarray, indices: np.ndarray,
          owner: np.ndarray, first_id: int) -> None:
    """Multi-source region growing: the least populated CPTS takes its next unclaimed neighbour
    (breadth-first), until no CPTS can grow. ``owner`` is -1 free, -2 gap, else the CPTS."""
    heap: list[tuple[int, int]] = []
    frontiers: list[deque[int]] = []
    for j, s in enumerate(seeds):
        k = first_id + j
        owner[s] = k
        frontiers.append(deque(int(v) for v in indices[indptr[s]:indptr[s + 1]]))
        heapq.heappush(heap, (int(pop[s]), j))
    while heap:
        p, j = heapq.heappop(heap)
        front = frontiers[j]
        while front and owner[front[0]] != -1:
            front.popleft()
        if not front:
            continue  # hemmed in: this CPTS is complete
        u = front.popleft()
        owner[u] = first_id + j
        front.extend(int(v) for v in indices[indptr[u]:indptr[u + 1]] if owner[v] == -1)
        heapq.heappush(heap, (p + int(pop[u]), j))


def generate_registry(reference, n_cpts: int = 1000, seed: int = 0, *,
                      regions: Sequence[str] | None = None,
                      n_conflicts: int | None = None) -> pd.DataFrame:
    """A realistic CPTS registry over the real communes of France, reproducible from ``seed``.

    Parameters
    ----------
    reference
        :func:`cpts_geo.load_reference` result (its cleaned geometry gives the adjacency).
    n_cpts
        Number of CPTS, split between régions by population.
    seed
        Random seed: the same seed gives the same registry.
    regions
        Only these régions (INSEE codes); all of France by default.
    n_conflicts
        Number of deliberate conflicts (a unit claimed by two neighbouring CPTS); by default
        1.5 % of ``n_cpts``, between 1 and 20 (15 for 1,000 CPTS).

    Returns
    -------
    pandas.DataFrame
        One row per claim: ``cpts_id``, ``cpts_nom``, ``stade``, ``code_commune``, ``partage``
        (``infra`` or empty), sorted by ``cpts_id`` then code; ``attrs`` says what was injected.
    """
    rng = np.random.default_rng(seed)
    units, (indptr, indices), _ = _units_and_graph(reference, regions)
    codes = units.index.to_numpy(dtype=object)
    pop = units["population"].to_numpy(dtype=np.int64)
    region = units["region"].to_numpy(dtype=object)
    n = len(units)
    owner = np.full(n, -1, dtype=np.int64)
    gap = np.zeros(n, dtype=bool)

    region_codes = sorted(set(region.tolist()))
    region_members = {r: np.flatnonzero(region == r) for r in region_codes}
    for r in region_codes:
        _reserve_gaps(rng, pop, region_members[r], indptr, indices, gap, GAP_SHARE)
    owner[gap] = -2

    weights = np.asarray([pop[region_members[r]].sum() for r in region_codes], dtype=float)
    caps = np.asarray([int(((pop[region_members[r]] > 0) & ~gap[region_members[r]]).sum())
                       for r in region_codes], dtype=np.int64)
    n_by_region = _allocate(n_cpts, weights, caps)

    cpts_ids: list[str] = []
    cpts_names: list[str] = []
    cpts_region: list[str] = []
    for r, k in zip(region_codes, n_by_region, strict=True):
        members = region_members[r]
        cand = members[(pop[members] > 0) & ~gap[members]]
        if k == 0 or len(cand) == 0:
            continue
        w = pop[cand].astype(float) ** SEED_EXPONENT
        seeds = np.sort(rng.choice(cand, size=int(k), replace=False, p=w / w.sum()))
        first = len(cpts_ids)
        _grow(seeds, pop, indptr, indices, owner, first)
        for j, s in enumerate(seeds, start=1):
            cpts_ids.append(f"CPTS-{r}-{j:03d}")
            cpts_names.append(f"CPTS {units['nom'].iat[s]} ({units['departement'].iat[s]})")
            cpts_region.append(r)

    n_made = len(cpts_ids)
    labels = [lbl for lbl, _ in STAGE_LABELS]
    probs = np.asarray([p for _, p in STAGE_LABELS])
    stages = rng.choice(len(labels), size=n_made, p=probs / probs.sum())

    claimed = np.flatnonzero(owner >= 0)
    claim_unit = list(claimed)
    claim_cpts = list(owner[claimed])
    claim_share = [False] * len(claimed)

    # neighbouring units of two different CPTS: candidates for conflicts and the shared commune
    src = np.repeat(np.arange(n), np.diff(indptr))
    border = (owner[src] >= 0) & (owner[indices] >= 0) & (owner[src] != owner[indices])
    bu, bv = src[border], indices[border]

    is_commune = (units["type"] == "commune").to_numpy()
    shared: list[object] = []
    if len(bu):
        # the most populous commune (not an arrondissement) on a border is declared shared
        best = int(np.lexsort((np.arange(len(bu)), -pop[bu], ~is_commune[bu]))[0])
        u, v = int(bu[best]), int(bv[best])
        a, b = int(owner[u]), int(owner[v])
        pos = claim_unit.index(u)
        claim_share[pos] = True
        claim_unit.append(u)
        claim_cpts.append(b)
        claim_share.append(True)
        shared = [str(codes[u]), cpts_ids[a], cpts_ids[b]]
        keep = (bu != u) & (bv != u)
        bu, bv = bu[keep], bv[keep]

    if n_conflicts is None:
        n_conflicts = int(np.clip(round(0.015 * n_made), 1, 20))
    conflicts: list[list[str]] = []
    used_pairs: list[tuple[int, int]] = []
    used_units: list[int] = []
    for i in rng.permutation(len(bu)):
        if len(conflicts) >= n_conflicts:
            break
        u, v = int(bu[i]), int(bv[i])
        a, b = int(owner[u]), int(owner[v])
        pair = (min(a, b), max(a, b))
        if pair in used_pairs or u in used_units:
            continue
        used_pairs.append(pair)
        used_units.append(u)
        claim_unit.append(u)
        claim_cpts.append(b)  # b reaches over the border into a's unit u
        claim_share.append(False)
        conflicts.append([str(codes[u]), cpts_ids[a], cpts_ids[b]])

    unit_idx = np.asarray(claim_unit, dtype=np.int64)
    cpts_idx = np.asarray(claim_cpts, dtype=np.int64)
    frame = pd.DataFrame({
        "cpts_id": np.asarray(cpts_ids, dtype=object)[cpts_idx],
        "cpts_nom": np.asarray(cpts_names, dtype=object)[cpts_idx],
        "stade": np.asarray(labels, dtype=object)[stages[cpts_idx]],
        "code_commune": codes[unit_idx],
        "partage": np.where(claim_share, "infra", ""),
    })
    frame = frame.sort_values(["cpts_id", "code_commune"], kind="stable").reset_index(drop=True)
    total = int(pop.sum())
    unclaimed = int(pop[owner < 0].sum())
    frame.attrs.update({
        "seed": int(seed),
        "n_cpts": n_made,
        "regions": region_codes,
        "conflicts": conflicts,
        "shared": shared,
        "population": total,
        "gap_population": unclaimed,
        "gap_share": round(unclaimed / total, 4) if total else 0.0,
    })
    return frame


def main(argv: Sequence[str] | None = None) -> int:
    """``python benchmarks/generate_registry.py --out FILE.csv --seed 0 --n 1000``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, type=Path, help="CSV file to write")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n", type=int, default=1000, help="number of CPTS")
    parser.add_argument("--region", action="append", default=None,
                        help="only this région (repeatable); all of France by default")
    parser.add_argument("--data", default=None, help="reference data directory")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from cpts_geo import load_reference

    start = time.perf_counter()
    ref = load_reference(args.data)
    frame = generate_registry(ref, args.n, args.seed, regions=args.region)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(args.out, index=False, encoding="utf-8")
    a = frame.attrs
    print(f"{args.out}: {a['n_cpts']} CPTS, {len(frame)} claims, gaps {100 * a['gap_share']:.1f} %"
          f" of {a['population']:,} inhabitants, {len(a['conflicts'])} conflicts, shared "
          f"{a['shared'][0] if a['shared'] else '-'} ({time.perf_counter() - start:.1f} s)",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
