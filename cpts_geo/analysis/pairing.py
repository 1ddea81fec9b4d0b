"""Pairing the CPTS of two registry vintages: by identifier, else by the territory they share.

Sources name the same CPTS differently (``CPTS PAYS DES BAOUS`` in a perimeter file,
``CPTS des Baous`` in the ARS table) and a perimeter file often has no identifier at all. So:

1. **By identifier** (``identifiant``) when both registries have real identifiers (some CPTS has
   an identifier that is not its name: a file without an identifier column gets its names as
   identifiers) and at least half of the CPTS of the smaller registry have an identifier found
   in the other (:data:`ID_OVERLAP`). Each identifier found in both is one pair.
   (:func:`cpts_geo.analysis.diff.diff_registries` falls back to rule 2 when most of these
   pairs share no unit: the identifiers were renumbered.)
2. Otherwise **by territory** (``territoire``): for every old–new pair of CPTS the population of
   the finest units both claim (a unit declared shared below commune level counts for its share,
   ``1/k``, the smaller of the two sides, as in ``population_ponderee``); pairs are taken
   greedily, largest population in common first, each CPTS in one pair at most (name similarity,
   :func:`name_similarity`, only breaks ties); then a pair is swapped for two when two CPTS left
   without partner would each pair with one side of it and the two pairs hold more population
   in common than it did. A CPTS split in two pairs with the part holding most of its
   population; the other part is a new CPTS (the split is reported by
   :func:`cpts_geo.analysis.diff.diff_registries`).
3. Then, in both cases, CPTS left unpaired whose names are the same once folded
   (:func:`fold_name`) are paired **by name** (``nom``).
"""

from __future__ import annotations

import difflib
import re
import unicodedata

import numpy as np
import pandas as pd

from .territories import shared_weights

__all__ = ["ID_OVERLAP", "PAIR_COLUMNS", "fold_name", "has_identifiers", "identifiers_comparable",
           "name_similarity", "overlaps", "pair_cpts"]

#: Share of the smaller registry's CPTS whose identifier must be found in the other registry for
#: the CPTS to be paired by identifier.
ID_OVERLAP = 0.5

#: The columns of the pairing table (:func:`pair_cpts`).
PAIR_COLUMNS = ("ancienne", "nom_ancienne", "nouvelle", "nom_nouvelle", "par",
                "population_commune", "part_ancienne", "part_nouvelle", "similarite_nom")

# words that do not tell two CPTS apart: the acronym and the articles
_STOP = frozenset({"cpts", "de", "du", "des", "la", "le", "les", "l", "d", "et"})
_NON_WORD = re.compile(r"[^0-9a-z]+")
_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae", "ß": "ss"})  # not decomposed by NFKD


def fold_name(name: object) -> str:
    """A CPTS name folded for comparison: no accents, case, punctuation, "CPTS" nor articles.

    The remaining words are sorted, so that word order does not matter either.

    Examples
    --------
    >>> fold_name("CPTS PAYS DES BAOUS"), fold_name("CPTS des Baous")
    ('baous pays', 'baous')
    >>> fold_name("CPTS d'Hyères et des Îles d'Or") == fold_name("cpts HYERES ILES OR")
    True
    >>> fold_name("CPTS Cœur du Var")
    'coeur var'
    """
    text = str(name).lower().translate(_LIGATURES)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = [w for w in _NON_WORD.split(text) if w and w not in _STOP]
    return " ".join(sorted(words))


def name_similarity(a: object, b: object) -> float:
    """Similarity of two CPTS names in [0, 1], on their folded forms (:func:`fold_name`).

    The mean of the share of the shorter name's words found in the other (``des Baous`` is
    all in ``Pays des Baous``) and of :class:`difflib.SequenceMatcher`'s ratio of the letters.

    Examples
    --------
    >>> name_similarity("CPTS du Golfe", "CPTS GOLFE")
    1.0
    >>> round(name_similarity("CPTS PAYS DES BAOUS", "CPTS des Baous"), 2)
    0.83
    >>> round(name_similarity("CPTS PAYS DES BAOUS", "CPTS du Pays d'Azur"), 2)
    0.62
    """
    fa, fb = fold_name(a), fold_name(b)
    if fa == fb:
        return 1.0
    wa, wb = set(fa.split()), set(fb.split())
    words = len(wa & wb) / min(len(wa), len(wb)) if wa and wb else 0.0
    letters = difflib.SequenceMatcher(None, fa, fb, autojunk=False).ratio()
    return (words + letters) / 2


def has_identifiers(cpts: pd.DataFrame) -> bool:
    """Whether a registry's CPTS have real identifiers, not only their names.

    A file with no identifier column gives each CPTS its name as identifier; a registry where
    some CPTS has an identifier different from its name had an identifier column.

    Parameters
    ----------
    cpts
        One row per CPTS indexed by ``cpts_id``, with ``cpts_nom``
        (:attr:`cpts_geo.registry.Registry.cpts`).

    Examples
    --------
    >>> has_identifiers(reg.cpts)  # PACA-001, PACA-002...
    True
    >>> from cpts_geo.registry import registry_from_frame
    >>> named = registry_from_frame(pd.DataFrame({"cpts_nom": ["CPTS A"],
    ...                                           "code_insee": ["13001"]}), ref)
    >>> has_identifiers(named.cpts)
    False
    """
    names = cpts["cpts_nom"].astype(str).to_numpy()
    return bool((cpts.index.astype(str).to_numpy() != names).any())


def _weighted(members: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"cpts_id": members["cpts_id"].to_numpy(),
                         "code": members["code"].to_numpy(),
                         "population": members["population"].to_numpy(dtype=np.int64),
                         "w": shared_weights(members)})


def overlaps(old_members: pd.DataFrame, new_members: pd.DataFrame) -> pd.DataFrame:
    """Every old–new pair of CPTS claiming a unit in common, with what they share.

    Parameters
    ----------
    old_members, new_members
        One row per (CPTS, finest unit) with ``partage`` and ``population``
        (:func:`cpts_geo.registry.members`).

    Returns
    -------
    pandas.DataFrame
        ``ancienne``, ``nouvelle``, ``n_unites`` (units in common), ``population_commune``
        (their population), ``poids`` (the same, a unit declared shared counting for the
        smaller of its two shares), ``population_ancienne`` and ``population_nouvelle`` (each
        CPTS's whole population) and ``poids_ancienne`` / ``poids_nouvelle`` (each CPTS's
        population with shared units at their share).

    Examples
    --------
    >>> o = overlaps(members, members)  # a registry against itself
    >>> nice = o[(o["ancienne"] == "PACA-029") & (o["nouvelle"] == "PACA-030")]
    >>> nice[["n_unites", "population_commune", "poids"]].round(1).to_dict("records")
    [{'n_unites': 1, 'population_commune': 357737, 'poids': 119245.7}]

    The two have only Nice in common, which three CPTS share below commune level: a third of
    its population counts in ``poids``.
    """
    old, new = _weighted(old_members), _weighted(new_members)
    sizes = {}
    for side, frame in (("ancienne", old), ("nouvelle", new)):
        g = frame.assign(pw=frame["population"] * frame["w"]).groupby("cpts_id", sort=False)
        sizes[side] = pd.DataFrame({f"population_{side}": g["population"].sum(),
                                    f"poids_{side}": g["pw"].sum()})
    both = old.merge(new, on="code", suffixes=("_a", "_n"))
    both = both.assign(poids=both["population_a"] * np.minimum(both["w_a"], both["w_n"]))
    grouped = both.groupby(["cpts_id_a", "cpts_id_n"], sort=False)
    out = pd.DataFrame({"n_unites": grouped.size(),
                        "population_commune": grouped["population_a"].sum(),
                        "poids": grouped["poids"].sum()})
    out.index.names = ["ancienne", "nouvelle"]
    out = out.reset_index()
    out = out.join(sizes["ancienne"], on="ancienne").join(sizes["nouvelle"], on="nouvelle")
    return out.astype({"n_unites": "int64", "population_commune": "int64",
                       "population_ancienne": "int64", "population_nouvelle": "int64"})


def pair_cpts(old_cpts: pd.DataFrame, new_cpts: pd.DataFrame, shared: pd.DataFrame, *,
              by_id: bool) -> pd.DataFrame:
    """Pair the CPTS of two vintages (see the module docstring for the rule).

    Parameters
    ----------
    old_cpts, new_cpts
        One row per CPTS indexed by ``cpts_id``, with ``cpts_nom``
        (:attr:`cpts_geo.registry.Registry.cpts`).
    shared
        What each old–new pair shares (:func:`overlaps`).
    by_id
        Pair by identifier (else by territory); see :func:`identifiers_comparable`.

    Returns
    -------
    pandas.DataFrame
        One row per pair (:data:`PAIR_COLUMNS`): ``ancienne`` / ``nouvelle`` (``cpts_id``),
        their names, ``par`` (``identifiant``, ``territoire`` or ``nom``),
        ``population_commune`` (population of the units both claim), ``part_ancienne`` and
        ``part_nouvelle`` (that population in percent of each one's, one decimal) and
        ``similarite_nom`` (:func:`name_similarity`, two decimals).

    Examples
    --------
    The CPTS des Baous of the PACA table, drawn by another source under another name and without
    identifier, pairs with it by territory:

    >>> from cpts_geo.registry import registry_from_frame
    >>> baous = reg.claims.loc[reg.claims["cpts_id"] == "PACA-055", "code"].tolist()
    >>> other = registry_from_frame(pd.DataFrame({"cpts_nom": "CPTS PAYS DES BAOUS",
    ...                                           "code_insee": baous}), ref)
    >>> shared = overlaps(members, membership(other, ref))
    >>> p = pair_cpts(reg.cpts, other.cpts, shared, by_id=False)
    >>> p[["ancienne", "nom_ancienne", "nouvelle", "par", "part_ancienne"]].to_dict("records")
    [{'ancienne': 'PACA-055', 'nom_ancienne': 'CPTS des Baous', 'nouvelle': 'CPTS PAYS DES BAOUS',
      'par': 'territoire', 'part_ancienne': 100.0}]
    """
    old_names = old_cpts["cpts_nom"].astype(str)
    new_names = new_cpts["cpts_nom"].astype(str)
    pairs: list[tuple[str, str, str]] = []
    used_old: set[str] = set()
    used_new: set[str] = set()
    if by_id:
        new_ids = set(new_cpts.index)
        for cid in old_cpts.index:
            if cid in new_ids:
                pairs.append((cid, cid, "identifiant"))
                used_old.add(cid)
                used_new.add(cid)
    else:
        cand = shared[(shared["poids"] > 0) | (shared["n_unites"] > 0)]
        cand = cand[cand["ancienne"].isin(old_cpts.index) & cand["nouvelle"].isin(new_cpts.index)]
        # name similarity breaks ties only: compute it where two candidates tie on weight
        tied = cand.duplicated(["ancienne", "poids"], keep=False) | cand.duplicated(
            ["nouvelle", "poids"], keep=False)
        sim = np.zeros(len(cand))
        if tied.any():
            sub = cand[tied.to_numpy()]
            sim[tied.to_numpy()] = [name_similarity(old_names[a], new_names[b]) for a, b in
                                    zip(sub["ancienne"], sub["nouvelle"], strict=True)]
        order = cand.assign(sim=sim).sort_values(
            ["poids", "sim", "n_unites", "ancienne", "nouvelle"],
            ascending=[False, False, False, True, True], kind="stable")
        greedy: dict[str, str] = {}
        for a, b in zip(order["ancienne"], order["nouvelle"], strict=True):
            if a in used_old or b in used_new:
                continue
            greedy[a] = b
            used_old.add(a)
            used_new.add(b)
        weights = dict(zip(zip(order["ancienne"], order["nouvelle"], strict=True),
                           order["poids"].astype(float), strict=True))
        greedy = _swap_pairs(greedy, weights)
        pairs.extend((a, b, "territoire") for a, b in greedy.items())
        used_old, used_new = set(greedy), set(greedy.values())
    # leftovers with the same folded name
    by_name: dict[str, list[str]] = {}
    for b in new_cpts.index:
        if b not in used_new:
            by_name.setdefault(fold_name(new_names[b]), []).append(b)
    for a in old_cpts.index:
        if a in used_old:
            continue
        candidates = by_name.get(fold_name(old_names[a]))
        if candidates:
            b = candidates.pop(0)
            pairs.append((a, b, "nom"))
            used_old.add(a)
            used_new.add(b)
    frame = pd.DataFrame(pairs, columns=["ancienne", "nouvelle", "par"])
    frame = frame.merge(shared[["ancienne", "nouvelle", "population_commune"]],
                        on=["ancienne", "nouvelle"], how="left")
    frame["population_commune"] = frame["population_commune"].fillna(0).astype("int64")
    sizes_old = shared.drop_duplicates("ancienne").set_index("ancienne")["population_ancienne"]
    sizes_new = shared.drop_duplicates("nouvelle").set_index("nouvelle")["population_nouvelle"]
    for side, sizes in (("ancienne", sizes_old), ("nouvelle", sizes_new)):
        total = frame[side].map(sizes).astype(float)
        frame[f"part_{side}"] = (100 * frame["population_commune"] / total.where(total > 0)
                                 ).fillna(0.0).round(1)
    frame["nom_ancienne"] = old_names.reindex(frame["ancienne"]).to_numpy()
    frame["nom_nouvelle"] = new_names.reindex(frame["nouvelle"]).to_numpy()
    frame["similarite_nom"] = [round(name_similarity(a, b), 2) for a, b in
                               zip(frame["nom_ancienne"], frame["nom_nouvelle"], strict=True)]
    frame = frame.sort_values("ancienne", kind="stable")
    return frame[list(PAIR_COLUMNS)].reset_index(drop=True)


def _swap_pairs(pairs: dict[str, str], weights: dict[tuple[str, str], float]
                ) -> dict[str, str]:
    """Improve a greedy pairing by swaps that raise the population held in common.

    A pair ``a1``–``b1`` becomes ``a1``–``b2`` and ``a2``–``b1`` (``b2`` and ``a2`` unpaired;
    ``a2`` may be absent) when the new pairs hold more population in common. Greedy pairing
    takes a small CPTS that absorbed most of a large one as the large one's successor, leaving
    both the small CPTS's predecessor and the large one's remainder unpaired; the swap pairs
    each with its own. Every swap raises the total weight, so the loop ends.
    """
    pairs = dict(pairs)
    by_old: dict[str, list[str]] = {}
    by_new: dict[str, list[str]] = {}
    for a, b in sorted(weights):
        by_old.setdefault(a, []).append(b)
        by_new.setdefault(b, []).append(a)
    improved = True
    while improved:
        improved = False
        partner_of_new = {b: a for a, b in pairs.items()}
        for a1 in sorted(pairs):
            b1 = pairs[a1]
            best: tuple[float, str, str | None] | None = None
            for b2 in by_old.get(a1, ()):
                if b2 in partner_of_new:
                    continue
                gain_b2 = weights[a1, b2] - weights[a1, b1]
                options = [a2 for a2 in by_new.get(b1, ()) if a2 not in pairs]
                for a2 in [None, *options]:
                    gain = gain_b2 + (weights[a2, b1] if a2 is not None else 0.0)
                    if gain > 1e-9 and (best is None or gain > best[0]):
                        best = (gain, b2, a2)
            if best is not None:
                _, b2, a2 = best
                pairs[a1] = b2
                if a2 is not None:
                    pairs[a2] = b1
                improved = True
                break
    return pairs


def identifiers_comparable(old_cpts: pd.DataFrame, new_cpts: pd.DataFrame) -> bool:
    """Whether two registries are paired by identifier (rule 1 of the module docstring).

    Examples
    --------
    >>> identifiers_comparable(reg.cpts, reg.cpts)
    True
    >>> from cpts_geo.registry import registry_from_frame
    >>> named = registry_from_frame(pd.DataFrame({"cpts_nom": ["CPTS des Baous"],
    ...                                           "code_insee": ["06152"]}), ref)
    >>> identifiers_comparable(reg.cpts, named.cpts)
    False
    """
    if not (has_identifiers(old_cpts) and has_identifiers(new_cpts)):
        return False
    common = len(set(old_cpts.index) & set(new_cpts.index))
    smaller = min(len(old_cpts), len(new_cpts))
    return smaller > 0 and common >= ID_OVERLAP * smaller
