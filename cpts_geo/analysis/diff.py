"""The diff of two registry vintages: what changed between an old and a new registry.

The two registries may come in any format (a perimeter file against the ARS table is normal).
Their CPTS are paired first (:mod:`~cpts_geo.analysis.pairing`: by identifier, else by the
territory they share, then by name), then compared on the finest units of the scope:

* CPTS new, gone, renamed (names that still differ once folded: case, accents, punctuation,
  "CPTS" and articles do not count), stage changes (up, down; only when both registries give
  stages), splits (*scissions*) and merges (*fusions*);
* for each pair, the units added and removed; the units newly covered and no longer covered;
  one row per unit whose CPTS changed (:attr:`Diff.unites`, for maps);
* conflicts that appeared and were resolved (old pairs of CPTS mapped through the pairing);
* zones blanches closed, opened and changed;
* coverage before and after at each stage threshold, over the scope, by région and département.

**What is not a change.** The ``partage`` flag alone: a perimeter file says a commune is shared
only where it is cut between perimeters, a table says so in a column. A shared commune claimed
by the same CPTS on both sides is no change; a declared share that became a conflict (or the
reverse) is reported under the conflicts. Units outside the scope are not compared.

The scope is ``region`` when given, else the union of the two registries' perimeters (the
régions where their CPTS are, see :func:`cpts_geo.registry.members.perimeter`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..registry import membership, perimeter
from ..registry.stages import STAGES, THRESHOLDS
from .coverage import coverage_table, zones_blanches
from .overlaps import conflicts
from .pairing import fold_name, identifiers_comparable, overlaps, pair_cpts

if TYPE_CHECKING:
    from ..reference import Reference
    from ..registry import Registry

__all__ = ["ID_TERRITORY", "SPLIT_SHARE", "Diff", "diff_registries", "records"]

#: Identifiers are not trusted when more than this share of the CPTS they pair share no unit.
ID_TERRITORY = 0.5

#: A new CPTS is a part of an old one's split (and an old CPTS a part of a merge) when at least
#: this share of its population was in the other.
SPLIT_SHARE = 0.5

_CPTS_COLUMNS = ["cpts_id", "cpts_nom", "stade", "n_unites", "population", "codes"]
_UNIT_CHANGE_COLUMNS = ["cpts", "ancienne", "cpts_nom", "codes", "communes", "n_unites",
                        "population"]
_CONFLICT_COLUMNS = ["cpts_a", "nom_a", "cpts_b", "nom_b", "codes", "communes", "n_unites",
                     "population"]
_ZB_COLUMNS = ["statut", "anciennes", "nouvelles", "codes_avant", "codes_apres",
               "codes_couverts", "codes_decouverts", "population_avant", "population_apres"]


@dataclass(frozen=True, eq=False)
class Diff:
    """What changed between two registry vintages (:func:`diff_registries`).

    Attributes
    ----------
    ancien, nouveau
        The two registries' sources.
    region
        The région compared, or ``None`` (the régions of :attr:`perimetre`).
    perimetre
        The région codes compared.
    par
        How CPTS were paired: ``identifiant`` or ``territoire`` (leftovers may pair by ``nom``).
    appariements
        One row per pair (:data:`cpts_geo.analysis.pairing.PAIR_COLUMNS`), in scope.
    nouvelles, disparues
        CPTS with no partner: ``cpts_id``, ``cpts_nom``, ``stade``, ``n_unites``,
        ``population``, ``codes`` (their whole territory).
    renommees
        ``ancienne``, ``nouvelle``, ``nom_avant``, ``nom_apres``.
    changements_stade
        ``ancienne``, ``nouvelle``, ``cpts_nom``, ``stade_avant``, ``stade_apres``, ``sens``
        (``hausse``, ``baisse``, or ``inconnu`` to or from *non renseigné*).
    scissions
        ``ancienne``, ``cpts_nom``, ``nouvelles`` (ids), ``noms``, ``populations`` (the
        population each part took from it): an old CPTS whose territory went to two or more new
        ones, its partner and new CPTS holding :data:`SPLIT_SHARE` of their population from it.
    fusions
        ``nouvelle``, ``cpts_nom``, ``anciennes``, ``noms``, ``populations``: the reverse.
    unites_ajoutees, unites_retirees
        Per pair, the units of the scope the new CPTS claims and the old did not (and the
        reverse): ``cpts`` (new id), ``ancienne`` (old id), ``cpts_nom`` (new name), ``codes``,
        ``communes``, ``n_unites``, ``population``.
    unites
        One row per unit of the scope whose CPTS changed: ``code``, ``nom``, ``population``,
        ``region``, ``departement``, ``zone``, ``avant`` and ``apres`` (lists of ``cpts_id``),
        ``changement`` (``gagnee``: covered now, not before; ``perdue``: the reverse;
        ``changee``: covered by other CPTS).
    conflits_apparus, conflits_resolus
        Per pair of CPTS (new ids for those that appeared, old ids for those resolved), the
        units newly in conflict or no longer: ``cpts_a``, ``nom_a``, ``cpts_b``, ``nom_b``,
        ``codes``, ``communes``, ``n_unites``, ``population``.
    zones_blanches
        One row per zone blanche that closed, opened or changed: ``statut`` (``fermee``,
        ``ouverte``, ``modifiee``), ``anciennes`` / ``nouvelles`` (zone ids, e.g.
        ``ZB-93-001``, of each vintage), ``codes_avant``, ``codes_apres``, ``codes_couverts``
        (gap units now covered), ``codes_decouverts`` (units now in a gap),
        ``population_avant``, ``population_apres``.
    couverture
        ``niveau`` (``perimetre``, ``region``, ``departement``), ``code``, ``nom``,
        ``population_totale``, ``n_cpts_avant``, ``n_cpts_apres``, then for each threshold of
        :data:`~cpts_geo.registry.stages.THRESHOLDS` ``couverte_avant_<seuil>``,
        ``couverte_apres_<seuil>``, ``taux_avant_<seuil>``, ``taux_apres_<seuil>`` (percent)
        and ``ecart_<seuil>`` (percentage points).
    avertissements
        The two registries' warnings, and what the comparison left out.
    """

    ancien: str
    nouveau: str
    region: str | None
    perimetre: tuple[str, ...]
    par: str
    appariements: pd.DataFrame
    nouvelles: pd.DataFrame
    disparues: pd.DataFrame
    renommees: pd.DataFrame
    changements_stade: pd.DataFrame
    scissions: pd.DataFrame
    fusions: pd.DataFrame
    unites_ajoutees: pd.DataFrame
    unites_retirees: pd.DataFrame
    unites: pd.DataFrame
    conflits_apparus: pd.DataFrame
    conflits_resolus: pd.DataFrame
    zones_blanches: pd.DataFrame
    couverture: pd.DataFrame
    avertissements: tuple[str, ...] = ()

    @property
    def has_changes(self) -> bool:
        """Whether anything changed (the ``diff`` command exits 1 then, else 0).

        Examples
        --------
        >>> diff_registries(reg, reg, ref).has_changes
        False
        """
        return any(len(f) for f in (
            self.nouvelles, self.disparues, self.renommees, self.changements_stade,
            self.unites, self.conflits_apparus, self.conflits_resolus, self.zones_blanches))

    @property
    def population_nouvellement_couverte(self) -> int:
        """Population of the units of the scope covered now and not before."""
        u = self.unites
        return int(u.loc[u["changement"] == "gagnee", "population"].sum())

    @property
    def population_plus_couverte(self) -> int:
        """Population of the units of the scope covered before and not now."""
        u = self.unites
        return int(u.loc[u["changement"] == "perdue", "population"].sum())

    def to_dict(self) -> dict[str, Any]:
        """The ``diff --json`` object.

        Keys: ``ancien``, ``nouveau``, ``perimetre``, ``region``, ``par``, ``changements``
        (bool), ``appariements``, ``nouvelles``, ``disparues``, ``renommees``,
        ``changements_stade``, ``scissions``, ``fusions``, ``unites_ajoutees``,
        ``unites_retirees``, ``population_nouvellement_couverte``,
        ``codes_nouvellement_couverts``, ``population_plus_couverte``, ``codes_plus_couverts``,
        ``unites_changees``, ``conflits_apparus``, ``conflits_resolus``, ``zones_blanches``
        (``fermees``, ``ouvertes``, ``modifiees``), ``couverture`` (``population_totale`` and,
        per threshold, before/after; the same by région and by département) and
        ``avertissements``.

        Examples
        --------
        >>> d = diff_registries(reg, reg, ref).to_dict()
        >>> d["changements"], d["par"], len(d["appariements"]), d["appariements"][0]["par"]
        (False, 'identifiant', 70, 'identifiant')
        >>> d["couverture"]["par_stade"]["tous_stades"]
        {'population_avant': 5117871, 'population_apres': 5117871, 'taux_avant': 98.06,
         'taux_apres': 98.06, 'ecart': 0.0}
        """
        u = self.unites
        zb = self.zones_blanches
        return {
            "ancien": self.ancien,
            "nouveau": self.nouveau,
            "perimetre": list(self.perimetre),
            "region": self.region,
            "par": self.par,
            "changements": self.has_changes,
            "appariements": records(self.appariements),
            "nouvelles": records(self.nouvelles),
            "disparues": records(self.disparues),
            "renommees": records(self.renommees),
            "changements_stade": records(self.changements_stade),
            "scissions": records(self.scissions),
            "fusions": records(self.fusions),
            "unites_ajoutees": records(self.unites_ajoutees),
            "unites_retirees": records(self.unites_retirees),
            "population_nouvellement_couverte": self.population_nouvellement_couverte,
            "codes_nouvellement_couverts": u.loc[u["changement"] == "gagnee", "code"].tolist(),
            "population_plus_couverte": self.population_plus_couverte,
            "codes_plus_couverts": u.loc[u["changement"] == "perdue", "code"].tolist(),
            "unites_changees": records(u[["code", "nom", "population", "avant", "apres",
                                          "changement"]]),
            "conflits_apparus": records(self.conflits_apparus),
            "conflits_resolus": records(self.conflits_resolus),
            "zones_blanches": {
                key: records(zb[zb["statut"] == statut].drop(columns="statut"))
                for key, statut in (("fermees", "fermee"), ("ouvertes", "ouverte"),
                                    ("modifiees", "modifiee"))},
            "couverture": _coverage_dict(self.couverture),
            "avertissements": list(self.avertissements),
        }


def _py(value: Any) -> Any:
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_py(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return None if np.isnan(value) else float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of ``frame`` as JSON-ready dicts (numpy scalars and arrays made plain).

    Examples
    --------
    >>> records(pd.DataFrame({"codes": [["06088"]], "population": [np.int64(3)]}))
    [{'codes': ['06088'], 'population': 3}]
    """
    cols = [str(c) for c in frame.columns]
    return [{c: _py(v) for c, v in zip(cols, row, strict=True)}
            for row in frame.itertuples(index=False, name=None)]


def _coverage_dict(cov: pd.DataFrame) -> dict[str, Any]:
    def seuils(row: pd.Series) -> dict[str, dict[str, Any]]:
        return {s: {"population_avant": int(row[f"couverte_avant_{s}"]),
                    "population_apres": int(row[f"couverte_apres_{s}"]),
                    "taux_avant": float(row[f"taux_avant_{s}"]),
                    "taux_apres": float(row[f"taux_apres_{s}"]),
                    "ecart": float(row[f"ecart_{s}"])} for s in THRESHOLDS}

    def rows(level: str) -> list[dict[str, Any]]:
        return [{"code": str(r["code"]), "nom": str(r["nom"]),
                 "population_totale": int(r["population_totale"]), "par_stade": seuils(r)}
                for _, r in cov[cov["niveau"] == level].iterrows()]

    top = cov[cov["niveau"] == "perimetre"].iloc[0]
    return {"population_totale": int(top["population_totale"]),
            "n_cpts_avant": int(top["n_cpts_avant"]), "n_cpts_apres": int(top["n_cpts_apres"]),
            "par_stade": seuils(top), "par_region": rows("region"),
            "par_departement": rows("departement")}


def diff_registries(old: Registry, new: Registry, reference: Reference, *,
                    region: str | None = None) -> Diff:
    """Compare two vintages of a registry (see the module docstring for what is reported).

    Parameters
    ----------
    old, new
        The two registries, in any format.
    reference
        The reference data.
    region
        A région code to compare only (its units; the CPTS touching it); by default the
        régions where either registry claims a unit.

    Returns
    -------
    Diff

    Raises
    ------
    CptsGeoError
        When ``region`` is not a région code.

    Examples
    --------
    Courmes and Tourrettes-sur-Loup leave the CPTS des Baous (PACA-055) for its neighbour, the
    CPTS des Collines de Valbonne (PACA-056):

    >>> moved = ["06049", "06148"]
    >>> claims = reg.claims.copy()
    >>> claims.loc[claims["code"].isin(moved), ["cpts_id", "cpts_nom"]] = [
    ...     "PACA-056", "CPTS des Collines de Valbonne"]
    >>> from cpts_geo.registry import Registry
    >>> d = diff_registries(reg, Registry(claims, "nouveau.csv"), ref)
    >>> d.par, d.has_changes, d.nouvelles.empty, d.disparues.empty
    ('identifiant', True, True, True)
    >>> d.unites_ajoutees[["cpts", "ancienne", "communes", "population"]].to_dict("records")
    [{'cpts': 'PACA-056', 'ancienne': 'PACA-056', 'communes': ['Courmes', 'Tourrettes-sur-Loup'],
      'population': 4274}]
    >>> d.unites_retirees[["cpts", "codes", "population"]].to_dict("records")
    [{'cpts': 'PACA-055', 'codes': ['06049', '06148'], 'population': 4274}]
    >>> d.unites[["code", "avant", "apres", "changement"]].iloc[0].tolist()
    ['06049', ['PACA-055'], ['PACA-056'], 'changee']
    """
    finest = reference.finest
    old_m = membership(old, reference)
    new_m = membership(new, reference)
    if region is not None:
        region = reference.region_code(region)
        regions: tuple[str, ...] = (region,)
    else:
        regions = tuple(sorted(set(perimeter(old, reference, old_m))
                               | set(perimeter(new, reference, new_m))))
    scope = finest.index[finest["region"].isin(regions)]
    old_cpts, new_cpts = old.cpts, new.cpts
    warnings = [*old.warnings, *new.warnings]

    shared = overlaps(old_m, new_m)
    by_id = identifiers_comparable(old_cpts, new_cpts)
    pairs_all = pair_cpts(old_cpts, new_cpts, shared, by_id=by_id)
    if by_id:
        lonely = pairs_all.loc[pairs_all["population_commune"] == 0, "ancienne"].astype(str)
        if len(lonely) > ID_TERRITORY * len(pairs_all):
            by_id = False
            pairs_all = pair_cpts(old_cpts, new_cpts, shared, by_id=False)
            warnings.append(
                f"the two registries use the same identifiers, but {len(lonely)} of the CPTS "
                "they both name share no territory: the identifiers do not mean the same CPTS, "
                "so CPTS were paired by territory")
        elif len(lonely):
            warnings.append(
                f"{len(lonely)} CPTS paired by identifier share no territory between the two "
                f"registries ({', '.join(lonely.head(5))}): check that the identifiers mean "
                "the same CPTS in both")
    to_new = dict(zip(pairs_all["ancienne"], pairs_all["nouvelle"], strict=True))

    old_s = old_m[old_m["code"].isin(scope)]
    new_s = new_m[new_m["code"].isin(scope)]
    old_in, new_in = set(old_s["cpts_id"]), set(new_s["cpts_id"])
    pairs = pairs_all[pairs_all["ancienne"].isin(old_in) | pairs_all["nouvelle"].isin(new_in)]
    pairs = pairs.reset_index(drop=True)

    nouvelles = _unpaired(new_m, new_cpts, set(pairs_all["nouvelle"]), new_in)
    disparues = _unpaired(old_m, old_cpts, set(pairs_all["ancienne"]), old_in)
    renommees = _renamed(pairs)
    changements, stage_note = _stage_changes(pairs, old_cpts, new_cpts)
    if stage_note:
        warnings.append(stage_note)
    scissions, fusions = _splits_merges(shared, pairs_all, old_cpts, new_cpts, old_in, new_in)

    # the old claims keyed by the new CPTS they became (unpaired: a key no new CPTS has)
    old_key = old_s["cpts_id"].map(to_new)
    old_key = old_key.where(old_key.notna(), "\0" + old_s["cpts_id"].astype(str))
    old_k = pd.DataFrame({"key": old_key.to_numpy(), "cpts_id": old_s["cpts_id"].to_numpy(),
                          "code": old_s["code"].to_numpy()})
    new_k = pd.DataFrame({"key": new_s["cpts_id"].to_numpy(), "code": new_s["code"].to_numpy()})
    names_new = new_cpts["cpts_nom"]
    to_old = {b: a for a, b in to_new.items()}
    added = _anti_join(new_k, old_k)
    added = added[added["key"].isin(to_old)]
    removed = _anti_join(old_k, new_k)
    removed = removed[removed["cpts_id"].isin(to_new)]
    unites_ajoutees = _unit_changes(added.assign(ancienne=added["key"].map(to_old)),
                                    reference, names_new)
    unites_retirees = _unit_changes(removed.assign(ancienne=removed["cpts_id"]), reference,
                                    names_new)
    unites = _unit_table(old_k, new_k, reference)

    conf_old = conflicts(old_s, reference, old_cpts["cpts_nom"])
    conf_new = conflicts(new_s, reference, names_new)
    apparus, resolus = _conflict_changes(conf_old, conf_new, to_new, reference,
                                         old_cpts["cpts_nom"], names_new)
    zb = _zone_changes(zones_blanches(old_m, reference, scope=scope),
                       zones_blanches(new_m, reference, scope=scope), reference)
    couverture = _coverage(old_m, new_m, reference, scope)
    return Diff(old.source, new.source, region, regions, "identifiant" if by_id else "territoire",
                pairs, nouvelles, disparues, renommees, changements, scissions, fusions,
                unites_ajoutees, unites_retirees, unites, apparus, resolus, zb, couverture,
                tuple(warnings))


def _unpaired(members: pd.DataFrame, cpts: pd.DataFrame, paired: set[str],
              in_scope: set[str]) -> pd.DataFrame:
    ids = [c for c in cpts.index if c not in paired and c in in_scope]
    sub = members[members["cpts_id"].isin(ids)].sort_values(["cpts_id", "code"])
    g = sub.groupby("cpts_id", sort=True)
    out = pd.DataFrame({"n_unites": g.size(), "population": g["population"].sum(),
                        "codes": g["code"].agg(list)}).reindex(sorted(ids))
    out.insert(0, "cpts_nom", cpts["cpts_nom"].reindex(out.index).to_numpy())
    out.insert(1, "stade", cpts["stade"].reindex(out.index).to_numpy())
    out.index.name = "cpts_id"
    out = out.reset_index()
    if out.empty:
        return pd.DataFrame(columns=_CPTS_COLUMNS)
    return out.astype({"n_unites": "int64", "population": "int64"})[_CPTS_COLUMNS]


def _renamed(pairs: pd.DataFrame) -> pd.DataFrame:
    differ = [fold_name(a) != fold_name(b) for a, b in
              zip(pairs["nom_ancienne"], pairs["nom_nouvelle"], strict=True)]
    sub = pairs[np.asarray(differ, dtype=bool)] if len(pairs) else pairs
    return pd.DataFrame({"ancienne": sub["ancienne"].to_numpy(),
                         "nouvelle": sub["nouvelle"].to_numpy(),
                         "nom_avant": sub["nom_ancienne"].to_numpy(),
                         "nom_apres": sub["nom_nouvelle"].to_numpy()})


def _stage_changes(pairs: pd.DataFrame, old_cpts: pd.DataFrame, new_cpts: pd.DataFrame
                   ) -> tuple[pd.DataFrame, str | None]:
    columns = ["ancienne", "nouvelle", "cpts_nom", "stade_avant", "stade_apres", "sens"]
    given = {side: bool((c["stade"] != "non_renseigne").any())
             for side, c in (("ancien", old_cpts), ("nouveau", new_cpts))}
    if not all(given.values()):
        note = None
        if any(given.values()):
            blank = "old" if not given["ancien"] else "new"
            note = (f"the {blank} registry gives no stage: stages were not compared (coverage "
                    "by stage is shown as each registry gives it)")
        return pd.DataFrame(columns=columns), note
    before = old_cpts["stade"].reindex(pairs["ancienne"]).to_numpy()
    after = new_cpts["stade"].reindex(pairs["nouvelle"]).to_numpy()
    changed = before != after
    rank = {s: i for i, s in enumerate(STAGES)}
    sens = []
    for a, b in zip(before[changed], after[changed], strict=True):
        if "non_renseigne" in (a, b):
            sens.append("inconnu")
        else:
            sens.append("hausse" if rank[b] < rank[a] else "baisse")
    return pd.DataFrame({"ancienne": pairs["ancienne"].to_numpy()[changed],
                         "nouvelle": pairs["nouvelle"].to_numpy()[changed],
                         "cpts_nom": pairs["nom_nouvelle"].to_numpy()[changed],
                         "stade_avant": before[changed], "stade_apres": after[changed],
                         "sens": sens}, columns=columns), None


def _splits_merges(shared: pd.DataFrame, pairs: pd.DataFrame, old_cpts: pd.DataFrame,
                   new_cpts: pd.DataFrame, old_in: set[str], new_in: set[str]
                   ) -> tuple[pd.DataFrame, pd.DataFrame]:
    to_new = dict(zip(pairs["ancienne"], pairs["nouvelle"], strict=True))
    to_old = dict(zip(pairs["nouvelle"], pairs["ancienne"], strict=True))
    s = shared[shared["poids"] > 0]
    out = []
    for this, other, partner, sizes, cpts, others, in_scope in (
            ("ancienne", "nouvelle", to_new, "poids_nouvelle", old_cpts, new_cpts, old_in),
            ("nouvelle", "ancienne", to_old, "poids_ancienne", new_cpts, old_cpts, new_in)):
        mapped = set(partner.values())
        # a part: the partner, or a CPTS with no partner holding SPLIT_SHARE of its own
        # population from this one
        is_part = ((s[other].map(lambda x, m=mapped: x not in m))
                   & (s["poids"] >= SPLIT_SHARE * s[sizes]))
        is_partner = s[this].map(partner) == s[other]
        parts = s[is_part | is_partner].sort_values(["poids", other], ascending=[False, True])
        rows = []
        for cid, g in parts.groupby(this, sort=True):
            if len(g) < 2 or not (cid in in_scope or bool(g[other].isin(
                    new_in if other == "nouvelle" else old_in).any())):
                continue
            ids = g[other].tolist()
            rows.append({this: cid, "cpts_nom": cpts["cpts_nom"].get(cid, cid),
                         f"{other}s": ids, "noms": [others["cpts_nom"].get(i, i) for i in ids],
                         "populations": g["population_commune"].astype(int).tolist()})
        out.append(pd.DataFrame(rows, columns=[this, "cpts_nom", f"{other}s", "noms",
                                               "populations"]))
    return out[0], out[1]


def _anti_join(left: pd.DataFrame, right: pd.DataFrame) -> pd.DataFrame:
    """Rows of ``left`` whose (``key``, ``code``) is not in ``right``."""
    keys = pd.MultiIndex.from_frame(right[["key", "code"]])
    mine = pd.MultiIndex.from_frame(left[["key", "code"]])
    return left[~mine.isin(keys)]


def _unit_changes(rows: pd.DataFrame, reference: Reference, names: pd.Series) -> pd.DataFrame:
    if rows.empty:
        return pd.DataFrame(columns=_UNIT_CHANGE_COLUMNS)
    units = reference.units
    rows = rows.assign(  # every row here belongs to a pair: its key is the new CPTS
        cpts=rows["key"], population=units["population"].reindex(rows["code"]).to_numpy(),
        nom=units["nom"].reindex(rows["code"]).to_numpy()).sort_values(["cpts", "code"])
    g = rows.groupby(["cpts", "ancienne"], sort=True)
    out = pd.DataFrame({"codes": g["code"].agg(list), "communes": g["nom"].agg(list),
                        "n_unites": g.size(), "population": g["population"].sum()}).reset_index()
    out.insert(2, "cpts_nom", names.reindex(out["cpts"]).to_numpy())
    return out.astype({"n_unites": "int64", "population": "int64"})[_UNIT_CHANGE_COLUMNS]


def _unit_table(old_k: pd.DataFrame, new_k: pd.DataFrame, reference: Reference
                ) -> pd.DataFrame:
    both = old_k[["code", "key"]].merge(new_k[["code", "key"]], on=["code", "key"], how="outer",
                                       indicator=True)
    odd = both["_merge"].to_numpy() != "both"
    changed = pd.Index(both.loc[odd, "code"].unique())
    covered_before = changed.isin(old_k["code"])
    covered_after = changed.isin(new_k["code"])
    change = np.where(~covered_before, "gagnee", np.where(~covered_after, "perdue", "changee"))
    order = np.argsort(np.asarray(changed, dtype=object), kind="stable")
    changed, change = changed[order], change[order]

    def lists(frame: pd.DataFrame, col: str) -> list[list[str]]:
        sub = frame[frame["code"].isin(changed)].sort_values(["code", col], kind="stable")
        codes = sub["code"].to_numpy(dtype=str)
        uniq, starts = np.unique(codes, return_index=True)
        found = dict(zip(uniq.tolist(), np.split(sub[col].astype(str).to_numpy(), starts[1:]),
                         strict=True)) if len(codes) else {}
        return [found[c].tolist() if c in found else [] for c in changed]

    units = reference.units.reindex(changed)
    return pd.DataFrame({
        "code": np.asarray(changed, dtype=object),
        "nom": units["nom"].to_numpy(),
        "population": units["population"].to_numpy(dtype=np.int64),
        "region": units["region"].to_numpy(),
        "departement": units["departement"].to_numpy(),
        "zone": units["zone"].to_numpy(),
        "avant": lists(old_k, "cpts_id"),
        "apres": lists(new_k, "key"),
        "changement": change,
    })


def _conflict_rows(conf: pd.DataFrame) -> pd.DataFrame:
    if conf.empty:
        return pd.DataFrame(columns=["cpts_a", "cpts_b", "code"])
    return conf[["cpts_a", "cpts_b", "codes"]].explode("codes").rename(columns={"codes": "code"})


def _conflict_changes(conf_old: pd.DataFrame, conf_new: pd.DataFrame, to_new: dict[str, str],
                      reference: Reference, names_old: pd.Series, names_new: pd.Series
                      ) -> tuple[pd.DataFrame, pd.DataFrame]:
    old_rows, new_rows = _conflict_rows(conf_old), _conflict_rows(conf_new)

    def key(a: str, b: str, code: str, mapping: dict[str, str] | None) -> tuple[str, str, str]:
        if mapping is not None:
            a, b = mapping.get(a, "\0" + a), mapping.get(b, "\0" + b)
        return (min(a, b), max(a, b), code)

    new_keys = {key(a, b, c, None) for a, b, c in new_rows.itertuples(index=False, name=None)}
    old_keys = {key(a, b, c, to_new) for a, b, c in
                old_rows.itertuples(index=False, name=None)}
    appeared = [key(a, b, c, None) not in old_keys
                for a, b, c in new_rows.itertuples(index=False, name=None)]
    resolved = [key(a, b, c, to_new) not in new_keys
                for a, b, c in old_rows.itertuples(index=False, name=None)]
    return (_conflict_table(new_rows[np.asarray(appeared, dtype=bool)], reference, names_new),
            _conflict_table(old_rows[np.asarray(resolved, dtype=bool)], reference, names_old))


def _conflict_table(rows: pd.DataFrame, reference: Reference, names: pd.Series) -> pd.DataFrame:
    if rows.empty:
        return pd.DataFrame(columns=_CONFLICT_COLUMNS)
    units = reference.units
    rows = rows.assign(population=units["population"].reindex(rows["code"]).to_numpy(),
                       nom=units["nom"].reindex(rows["code"]).to_numpy()).sort_values("code")
    g = rows.groupby(["cpts_a", "cpts_b"], sort=True)
    out = pd.DataFrame({"codes": g["code"].agg(list), "communes": g["nom"].agg(list),
                        "n_unites": g.size(), "population": g["population"].sum()}).reset_index()
    out.insert(1, "nom_a", names.reindex(out["cpts_a"]).to_numpy())
    out.insert(3, "nom_b", names.reindex(out["cpts_b"]).to_numpy())
    out = out.sort_values(["population", "cpts_a", "cpts_b"], ascending=[False, True, True])
    return out.astype({"n_unites": "int64", "population": "int64"})[
        _CONFLICT_COLUMNS].reset_index(drop=True)


def _zone_changes(old_zb: pd.DataFrame, new_zb: pd.DataFrame, reference: Reference
                  ) -> pd.DataFrame:
    """Zones blanches grouped across vintages by the gap units they share."""
    parent: dict[tuple[str, str], tuple[str, str]] = {}

    def find(x: tuple[str, str]) -> tuple[str, str]:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    old_of: dict[str, str] = {}
    for zid, codes in zip(old_zb["zone_blanche"], old_zb["codes"], strict=True):
        parent[("a", zid)] = ("a", zid)
        for c in codes:
            old_of[c] = zid
    for zid, codes in zip(new_zb["zone_blanche"], new_zb["codes"], strict=True):
        parent[("n", zid)] = ("n", zid)
        for c in codes:
            if c in old_of:
                ra, rb = find(("a", old_of[c])), find(("n", zid))
                if ra != rb:
                    parent[rb] = ra
    groups: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for node in parent:
        groups.setdefault(find(node), []).append(node)
    codes_of = {("a", z): list(c) for z, c in zip(old_zb["zone_blanche"], old_zb["codes"],
                                                   strict=True)}
    codes_of.update({("n", z): list(c) for z, c in zip(new_zb["zone_blanche"], new_zb["codes"],
                                                        strict=True)})
    population = reference.units["population"]
    rows = []
    for nodes in groups.values():
        olds = sorted(z for s, z in nodes if s == "a")
        news = sorted(z for s, z in nodes if s == "n")
        before = sorted({c for z in olds for c in codes_of[("a", z)]})
        after = sorted({c for z in news for c in codes_of[("n", z)]})
        if len(olds) == 1 and len(news) == 1 and before == after:
            continue
        statut = "fermee" if not news else "ouverte" if not olds else "modifiee"
        rows.append({"statut": statut, "anciennes": olds, "nouvelles": news,
                     "codes_avant": before, "codes_apres": after,
                     "codes_couverts": sorted(set(before) - set(after)),
                     "codes_decouverts": sorted(set(after) - set(before)),
                     "population_avant": int(population.reindex(before).sum()),
                     "population_apres": int(population.reindex(after).sum())})
    out = pd.DataFrame(rows, columns=_ZB_COLUMNS)
    order = {"fermee": 0, "ouverte": 1, "modifiee": 2}
    out = out.assign(_o=out["statut"].map(order),
                     _p=out[["population_avant", "population_apres"]].max(axis=1))
    return out.sort_values(["_o", "_p"], ascending=[True, False], kind="stable").drop(
        columns=["_o", "_p"]).reset_index(drop=True)


def _coverage(old_m: pd.DataFrame, new_m: pd.DataFrame, reference: Reference,
              scope: pd.Index) -> pd.DataFrame:
    parts = []
    for level, niveau in (("france", "perimetre"), ("region", "region"),
                          ("departement", "departement")):
        before = coverage_table(old_m, reference, level=level, scope=scope)  # type: ignore[arg-type]
        after = coverage_table(new_m, reference, level=level, scope=scope)  # type: ignore[arg-type]
        frame = pd.DataFrame({"niveau": niveau, "nom": before["nom"],
                              "population_totale": before["population_totale"],
                              "n_cpts_avant": before["n_cpts"], "n_cpts_apres": after["n_cpts"]},
                             index=before.index)
        if level == "france":
            frame["nom"] = "Périmètre comparé"
        for s in THRESHOLDS:
            frame[f"couverte_avant_{s}"] = before[f"population_couverte_{s}"]
            frame[f"couverte_apres_{s}"] = after[f"population_couverte_{s}"]
            frame[f"taux_avant_{s}"] = before[f"taux_{s}"]
            frame[f"taux_apres_{s}"] = after[f"taux_{s}"]
            frame[f"ecart_{s}"] = (after[f"taux_{s}"] - before[f"taux_{s}"]).round(2)
        parts.append(frame)
    out = pd.concat(parts)
    out.index.name = "code"
    return out.reset_index()[["niveau", *[c for c in out.reset_index().columns
                                          if c != "niveau"]]]
