"""Plain-text reports for the terminal: coverage, project check, diff of two vintages, proposals.

Labels are in French, for the people who read them; figures use French number formatting
(``5 218 960``, ``98,06 %``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..registry.stages import LABELS, STAGES
from .check_report import check_report
from .fmt import NBSP, fmt_int, fmt_pct

if TYPE_CHECKING:
    from ..analysis.diff import Diff
    from ..reference import Reference

__all__ = ["check_report", "coverage_report", "diff_report", "evolution_report", "fmt_int",
           "fmt_pct", "propose_report"]

_THRESHOLD_LABELS = {
    "fonctionnement": "CPTS en fonctionnement",
    "jusqu_projet_valide": "jusqu'au projet de santé validé",
    "tous_stades": "tous stades",
}


def _table(frame: pd.DataFrame) -> str:
    cols = list(frame.columns)
    cells = [[str(v) for v in row] for row in frame.itertuples(index=False)]
    widths = [max(len(str(c)), *(len(r[i]) for r in cells)) if cells else len(str(c))
              for i, c in enumerate(cols)]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(cols, widths, strict=True)),
             "  ".join("-" * w for w in widths)]
    for row in cells:
        lines.append("  ".join(v.rjust(w) if v[:1].isdigit() else v.ljust(w)
                               for v, w in zip(row, widths, strict=True)))
    return "\n".join(lines)


def coverage_report(analysis: Any, *, max_rows: int = 15) -> str:
    """The readable coverage report printed by ``cpts-geo coverage``.

    Examples
    --------
    Figures are written the French way, with narrow no-break spaces between thousands:

    >>> lines = coverage_report(analysis).splitlines()  # analyse(reg, ref, region="93")
    >>> for line in lines[:3]:
    ...     print(line)
    Couverture CPTS — 93 Provence-Alpes-Côte d'Azur
    Registre : .../paca-2026-01.csv
    Champ : région demandée (--region)
    >>> print(lines[4])
    CPTS : 70  (en fonctionnement (aci signé) : 0, ..., non renseigné : 70)
    >>> lines[9].split()
    ['Couverte,', 'tous', 'stades', '5', '117', '871', '98,06', '%']
    >>> for line in lines[21:26]:
    ...     print(line)
    Conflits (communes revendiquées par deux CPTS sans partage déclaré) : 0
    <BLANKLINE>
    Communes partagées (infra-communal, déclaré) : 2
      Nice (06088) : CPTS Nice Centre - Nice Est, CPTS Nice Nord et ses Collines, ...
      Toulon (83137) : CPTS La Seyne Toulon ouest, CPTS Toulon Littoral
    """
    fr = analysis.couverture["france"].iloc[0]
    where = analysis.label
    t = analysis.territories.table
    if analysis.region is not None:
        scope_note = "région demandée (--region)"
    elif analysis.perimeter is None:
        scope_note = "France entière (--france)"
    else:
        scope_note = ("périmètre du registre : les régions de ses CPTS (--france pour la France "
                      "entière)")
    out = [f"Couverture CPTS — {where}", f"Registre : {analysis.registry.source}",
           f"Champ : {scope_note}", "",
           f"CPTS : {len(t)}  (" + ", ".join(
               f"{LABELS[s].lower()} : {int((t['stade'] == s).sum())}" for s in STAGES) + ")",
           f"Population : {fmt_int(fr['population_totale'])} habitants", ""]
    for key, label in _THRESHOLD_LABELS.items():
        out.append(f"  Couverte, {label:<32} {fmt_int(fr[f'population_couverte_{key}']):>12}"
                   f"  {fmt_pct(fr[f'taux_{key}']):>9}")
    one_region = analysis.perimeter is not None and len(analysis.perimeter) == 1
    level = "departement" if one_region else "region"
    table = analysis.couverture[level]
    if not one_region:
        table = table[table["n_cpts"] > 0] if (table["n_cpts"] > 0).any() else table
    shown = pd.DataFrame({
        "code": table.index, "nom": table["nom"],
        "population": table["population_totale"].map(fmt_int),
        "CPTS": table["n_cpts"],
        "fonct.": table["taux_fonctionnement"].map(fmt_pct),
        "≤ projet": table["taux_jusqu_projet_valide"].map(fmt_pct),
        "tous": table["taux_tous_stades"].map(fmt_pct),
    })
    out += ["", f"Par {'département' if level == 'departement' else 'région'} :", _table(shown)]
    conf = analysis.conflits
    out += ["", f"Conflits (communes revendiquées par deux CPTS sans partage déclaré) : "
            f"{len(conf)}"]
    for r in conf.head(max_rows).itertuples(index=False):
        out.append(f"  {r.nom_a} ({r.cpts_a}) ↔ {r.nom_b} ({r.cpts_b}) : "
                   f"{', '.join(r.communes[:6])}{' …' if len(r.communes) > 6 else ''} — "
                   f"{fmt_int(r.population)} hab.")
    shares = analysis.partages
    out += ["", f"Communes partagées (infra-communal, déclaré) : {len(shares)}"]
    names = analysis.registry.cpts["cpts_nom"]
    for r in shares.itertuples(index=False):
        out.append(f"  {r.nom} ({r.code}) : " + ", ".join(str(names.get(c, c)) for c in r.cpts))
    zb = analysis.zones_blanches
    out += ["", f"Zones blanches : {len(zb)} — {fmt_int(zb['population'].sum() if len(zb) else 0)}"
            " habitants hors CPTS"]
    for r in zb.head(max_rows).itertuples(index=False):
        communes = ", ".join(r.communes[:5]) + (f" … (+{len(r.communes) - 5})"
                                                 if len(r.communes) > 5 else "")
        out.append(f"  {r.zone_blanche}  {fmt_int(r.population):>10} hab.  {communes}")
    if len(zb) > max_rows:
        out.append(f"  … et {len(zb) - max_rows} autres (voir --json ou --out)")
    return "\n".join(out)


def _names_list(codes: list[str], names: pd.Series, limit: int = 6) -> str:
    shown = ", ".join(f"{names.get(c, c)} ({c})" for c in codes[:limit])
    return shown + (f" … (+{len(codes) - limit})" if len(codes) > limit else "")


def _who(name: object, cpts_id: object) -> str:
    """A CPTS for a report line: its name, and its identifier when it is not the name."""
    return f"{name}" if str(name) == str(cpts_id) else f"{name} ({cpts_id})"


def _communes(n: int) -> str:
    return f"{n} commune{'s' if n > 1 else ''}"


def _points(value: float) -> str:
    return f"{float(value):+.2f}".replace(".", ",").replace("-", "−") + "\u00a0pt"


def diff_report(diff: Diff, reference: Reference, *, max_rows: int = 15) -> str:
    """The readable report printed by ``cpts-geo diff``: what changed between two registries.

    Examples
    --------
    Courmes and Tourrettes-sur-Loup leave the CPTS des Baous for the CPTS des Collines de
    Valbonne:

    >>> from cpts_geo.analysis.diff import diff_registries
    >>> from cpts_geo.outputs.fmt import NNBSP
    >>> from cpts_geo.registry import Registry
    >>> claims = reg.claims.copy()
    >>> moved = claims["code"].isin(["06049", "06148"])
    >>> claims.loc[moved, ["cpts_id", "cpts_nom"]] = ["PACA-056", "CPTS des Collines de Valbonne"]
    >>> d = diff_registries(reg, Registry(claims, "registre-2026-06.csv"), ref)
    >>> report = diff_report(d, ref)
    >>> print(report.replace(NNBSP, " "))  # figures have narrow no-break spaces
    Évolution du registre CPTS — 93 Provence-Alpes-Côte d'Azur
    Ancien registre : ...paca-2026-01.csv (70 CPTS)
    Nouveau registre : registre-2026-06.csv (70 CPTS)
    CPTS appariées par identifiant : 70 paires
    <BLANKLINE>
    Changements — communes ou arrondissements changés : 2
    <BLANKLINE>
    Communes ajoutées à une CPTS : 1 CPTS
      CPTS des Collines de Valbonne (PACA-056) : +2 — 4 274 hab. : Courmes (06049), ...
    <BLANKLINE>
    Communes retirées d'une CPTS : 1 CPTS
      CPTS des Baous (PACA-055) : −2 — 4 274 hab. : Courmes (06049), ...
    <BLANKLINE>
    Couverture (avant → après) :
    ...
    Par département :
    ...

    Coverage is unchanged (the communes stayed covered):

    >>> [line.split()[2:] for line in report.splitlines() if "  tous stades" in line]
    [['98,06', '%', '→', '98,06', '%', '(+0,00', 'pt)']]
    """
    names = reference.units["nom"]
    olds = {r.ancienne: r.nom_ancienne for r in diff.appariements.itertuples(index=False)}
    cov = diff.couverture
    if diff.region is not None:
        where = f"{diff.region} {reference.region_name(diff.region)}"
    elif len(diff.perimetre) == 1:
        where = f"{diff.perimetre[0]} {reference.region_name(diff.perimetre[0])}"
    else:
        where = f"{len(diff.perimetre)} régions ({', '.join(diff.perimetre)})"
    top = cov[cov["niveau"] == "perimetre"].iloc[0]
    pairs = diff.appariements
    how = pairs["par"].value_counts()
    if diff.par == "identifiant":
        pairing = f"CPTS appariées par identifiant : {len(pairs)} paires"
    else:
        pairing = (f"CPTS appariées par le territoire commun (les identifiants des deux "
                   f"registres diffèrent) : {len(pairs)} paires")
    if how.get("nom", 0):
        pairing += f", dont {how['nom']} par le nom seul"
    out = [f"Évolution du registre CPTS — {where}",
           f"Ancien registre : {diff.ancien} ({int(top['n_cpts_avant'])} CPTS)",
           f"Nouveau registre : {diff.nouveau} ({int(top['n_cpts_apres'])} CPTS)",
           pairing, ""]
    u = diff.unites
    if not diff.has_changes:
        out.append("Aucun changement entre les deux registres.")
    else:
        counts = [("CPTS nouvelles", len(diff.nouvelles)), ("disparues", len(diff.disparues)),
                  ("renommées", len(diff.renommees)),
                  ("changements de stade", len(diff.changements_stade)),
                  ("communes ou arrondissements changés", len(u)),
                  ("conflits apparus", len(diff.conflits_apparus)),
                  ("conflits résolus", len(diff.conflits_resolus)),
                  ("zones blanches changées", len(diff.zones_blanches))]
        out.append("Changements — " + " ; ".join(f"{label} : {n}" for label, n in counts
                                                 if n))

    def section(title: str, frame: pd.DataFrame, line: Callable[[Any], str],
                counted: str = "") -> None:
        if frame.empty:
            return
        out.extend(["", f"{title} : {len(frame)}{counted}"])
        out.extend("  " + line(r) for r in frame.head(max_rows).itertuples(index=False))
        if len(frame) > max_rows:
            out.append(f"  … et {len(frame) - max_rows} autres (voir --json ou --out)")

    def cpts_line(r: Any) -> str:
        return (f"{_who(r.cpts_nom, r.cpts_id)} — {LABELS.get(r.stade, r.stade)} — "
                f"{fmt_int(r.population)} hab., {_communes(r.n_unites)}")

    by_name = pairs[pairs["par"] == "nom"]
    section("CPTS appariées par le nom seul (aucun territoire commun)", by_name, lambda r: (
        f"{_who(r.nom_ancienne, r.ancienne)} → {_who(r.nom_nouvelle, r.nouvelle)}"))
    section("CPTS nouvelles", diff.nouvelles, cpts_line)
    section("CPTS disparues", diff.disparues, cpts_line)
    section("Scissions (une CPTS partagée entre plusieurs)", diff.scissions, lambda r: (
        f"{_who(r.cpts_nom, r.ancienne)} → " + ", ".join(
            f"{n} ({fmt_int(p)} hab.)" for n, p in zip(r.noms, r.populations, strict=True))))
    section("Fusions (plusieurs CPTS réunies)", diff.fusions, lambda r: (
        ", ".join(f"{n} ({fmt_int(p)} hab.)" for n, p in zip(r.noms, r.populations,
                                                             strict=True))
        + f" → {_who(r.cpts_nom, r.nouvelle)}"))
    section("CPTS renommées", diff.renommees,
            lambda r: f"« {r.nom_avant} » → « {r.nom_apres} »"
            + ("" if r.nouvelle == r.nom_apres else f" ({r.nouvelle})"))
    sens = {"hausse": "avancée", "baisse": "recul", "inconnu": "non comparable"}
    section("Changements de stade", diff.changements_stade, lambda r: (
        f"{r.cpts_nom} : {LABELS.get(r.stade_avant, r.stade_avant)} → "
        f"{LABELS.get(r.stade_apres, r.stade_apres)} ({sens.get(r.sens, r.sens)})"))
    section("Communes ajoutées à une CPTS", diff.unites_ajoutees, lambda r: (
        f"{_who(r.cpts_nom, r.cpts)} : +{r.n_unites} — {fmt_int(r.population)} hab. : "
        f"{_names_list(list(r.codes), names)}"), " CPTS")
    section("Communes retirées d'une CPTS", diff.unites_retirees, lambda r: (
        f"{_who(olds.get(r.ancienne, r.cpts_nom), r.ancienne)} : −{r.n_unites} — "
        f"{fmt_int(r.population)} hab. : {_names_list(list(r.codes), names)}"), " CPTS")
    for label, kind, pop in (("Population nouvellement couverte", "gagnee",
                              diff.population_nouvellement_couverte),
                             ("Population qui n'est plus couverte", "perdue",
                              diff.population_plus_couverte)):
        codes = u.loc[u["changement"] == kind, "code"].tolist()
        if codes:
            out += ["", f"{label} : {fmt_int(pop)} hab. ({_communes(len(codes))}) : "
                    f"{_names_list(codes, names)}"]
    def conflict(r: Any) -> str:
        return (f"{_who(r.nom_a, r.cpts_a)} ↔ {_who(r.nom_b, r.cpts_b)} : "
                f"{_names_list(list(r.codes), names)} — {fmt_int(r.population)} hab.")

    section("Conflits apparus", diff.conflits_apparus, conflict)
    section("Conflits résolus", diff.conflits_resolus, conflict)
    zb = diff.zones_blanches
    if not zb.empty:
        counts = zb["statut"].value_counts()
        out += ["", f"Zones blanches : {counts.get('fermee', 0)} fermée(s), "
                f"{counts.get('ouverte', 0)} ouverte(s), {counts.get('modifiee', 0)} "
                "modifiée(s)"]
        for r in zb.head(max_rows).itertuples(index=False):
            if r.statut == "fermee":
                out.append(f"  fermée {', '.join(r.anciennes)} : "
                           f"{_names_list(list(r.codes_avant), names)} — "
                           f"{fmt_int(r.population_avant)} hab. désormais couverts")
            elif r.statut == "ouverte":
                out.append(f"  ouverte {', '.join(r.nouvelles)} : "
                           f"{_names_list(list(r.codes_apres), names)} — "
                           f"{fmt_int(r.population_apres)} hab.")
            else:
                line = (f"  modifiée {', '.join(r.anciennes)} → {', '.join(r.nouvelles)} : "
                        f"{fmt_int(r.population_avant)} → {fmt_int(r.population_apres)} hab.")
                if len(r.codes_couverts):
                    line += f" ; couvertes : {_names_list(list(r.codes_couverts), names)}"
                if len(r.codes_decouverts):
                    line += f" ; découvertes : {_names_list(list(r.codes_decouverts), names)}"
                out.append(line)
        if len(zb) > max_rows:
            out.append(f"  … et {len(zb) - max_rows} autres (voir --json ou --out)")
    out += ["", "Couverture (avant → après) :"]
    for key, label in _THRESHOLD_LABELS.items():
        out.append(f"  {label:<32} {fmt_pct(top[f'taux_avant_{key}']):>8} → "
                   f"{fmt_pct(top[f'taux_apres_{key}'])}  ({_points(top[f'ecart_{key}'])})")
    level = "departement" if len(diff.perimetre) == 1 else "region"
    table = cov[cov["niveau"] == level]
    shown = pd.DataFrame({
        "code": table["code"], "nom": table["nom"],
        "population": table["population_totale"].map(fmt_int),
        "tous avant": table["taux_avant_tous_stades"].map(fmt_pct),
        "tous après": table["taux_apres_tous_stades"].map(fmt_pct),
        "écart": table["ecart_tous_stades"].map(_points),
        "fonct. avant": table["taux_avant_fonctionnement"].map(fmt_pct),
        "fonct. après": table["taux_apres_fonctionnement"].map(fmt_pct),
    })
    out += ["", f"Par {'département' if level == 'departement' else 'région'} :", _table(shown)]
    return "\n".join(out)


# --------------------------------------------------------------------------------------------
# cpts-geo propose


def _km(metres: Any) -> str:
    return "?" if metres is None or pd.isna(metres) else (
        f"{float(metres) / 1000:.1f}".replace(".", ",") + NBSP + "km")


def _euros(value: Any, *, signed: bool = False) -> str:
    text = fmt_int(abs(value)) + NBSP + "€"
    if not signed:
        return text
    return ("+" if value >= 0 else "−") + text


def _wrap(text: str, width: int = 96, indent: str = "  ") -> list[str]:
    import textwrap

    return textwrap.wrap(text, width=width, initial_indent=indent, subsequent_indent=indent)


def _units(names: list[str], codes: list[str], shown: int = 5) -> str:
    text = ", ".join(f"{n} ({c})" for n, c in zip(names[:shown], codes[:shown], strict=True))
    return text + (f" … (+{len(codes) - shown})" if len(codes) > shown else "")


def _population_change(before: int, after: int, weighted_before: int, weighted_after: int
                       ) -> str:
    text = f"{fmt_int(before)} → {fmt_int(after)} hab."
    if (weighted_before, weighted_after) != (before, after):
        text += f" (pondérée {fmt_int(weighted_before)} → {fmt_int(weighted_after)})"
    return text


def propose_report(proposals: Any, reference: Reference, *, max_zones: int = 30,
                   max_candidates: int = 6) -> str:
    """The readable report printed by ``cpts-geo propose``.

    Examples
    --------
    Figures are written the French way (no-break spaces shown here as spaces):

    >>> from cpts_geo.analysis.proposals import propose
    >>> from cpts_geo.outputs.fmt import NBSP, NNBSP
    >>> text = propose_report(propose(reg, ref, region="93"), ref)
    >>> lines = text.replace(NBSP, " ").replace(NNBSP, " ").splitlines()
    >>> print(lines[0])
    Propositions pour une CPTS par territoire et aucune zone blanche — 93 Provence-Alpes-Côte d'Azur
    >>> print(next(line for line in lines if line.startswith("Couverture")))
    Couverture : 98,06 % aujourd'hui → 100,00 % avec la proposition (population 5 218 960)
    >>> i = lines.index(next(line for line in lines if line.startswith("ZB-93-001")))
    >>> for line in lines[i:i + 4]:
    ...     print(line)
    ZB-93-001 — Marseille 1er Arrondissement (13201) — 37 599 hab.
      CPTS limitrophes (plus longue frontière d'abord ; chiffres si elle prenait la zone) :
        PACA-010 CPTS Coordination Santé Marseille 2 & 3 (non renseigné) — frontière 2,7 km
          82 407 → 120 006 hab. · taille 3 → 3 · plafond 315 000 → 315 000 € (+0 €) · ...
    """
    p = proposals
    where = ", ".join(f"{r} {reference.region_name(r)}" for r in p.regions) or "aucune région"
    options = []
    if p.keep_tier:
        options.append("taille ACI inchangée")
    if p.exclude_stages:
        options.append("stades exclus : " + ", ".join(LABELS[s].lower()
                                                      for s in p.exclude_stages))
    changed = p.effets[p.effets["taille_avant"] != p.effets["taille_apres"]] if len(
        p.effets) else p.effets
    out = [f"Propositions pour une CPTS par territoire et aucune zone blanche — {where}",
           f"Registre : {p.source}",
           f"Options : {'; '.join(options) if options else 'aucune'}", "",
           "Règle :", *_wrap(p.regle), "",
           f"Couverture : {fmt_pct(p.taux_avant)} aujourd'hui → {fmt_pct(p.taux_apres)} avec la "
           f"proposition (population {fmt_int(p.population_totale)})",
           f"Effet sur les plafonds ACI : {_euros(p.effet_financement, signed=True)} par an "
           f"({len(p.effets)} CPTS modifiées, dont {len(changed)} changent de taille)", ""]
    zones = p.propositions
    cand = p.candidats
    out.append(f"Zones blanches : {len(zones)}")
    for z in zones.head(max_zones).itertuples(index=False):
        out.append(f"{z.zone_blanche} — {_units(list(z.communes), list(z.codes))} — "
                   f"{fmt_int(z.population)} hab.")
        rows = cand[cand["zone_blanche"] == z.zone_blanche]
        if rows.empty:
            out.append("  Aucune CPTS limitrophe (île, ou région sans CPTS) : la zone reste "
                       "sans rattachement.")
            continue
        out.append("  CPTS limitrophes (plus longue frontière d'abord ; chiffres si elle "
                   "prenait la zone) :")
        for c in rows.head(max_candidates).itertuples(index=False):
            flag = "" if c.eligible else f" — écartée : {c.motif}"
            out.append(f"    {c.cpts_id} {c.cpts_nom} ({LABELS[c.stade].lower()}) — frontière "
                       f"{_km(c.longueur_frontiere_m)}{flag}")
            change = _population_change(c.population_avant, c.population_apres,
                                        c.population_ponderee_avant, c.population_ponderee_apres)
            out.append(f"      {change} · taille {c.taille_avant} → {c.taille_apres} · plafond "
                       f"{fmt_int(c.plafond_avant)} → {_euros(c.plafond_apres)} "
                       f"({_euros(c.effet_financement, signed=True)}) · "
                       + ("d'un seul tenant" if c.d_un_seul_tenant else "en plusieurs parties"))
        if len(rows) > max_candidates:
            out.append(f"    … et {len(rows) - max_candidates} autres")
        given = [f"{cid} ({len(codes)} unité(s))" for cid, codes in z.rattachement.items()]
        out.append("  Proposition : " + (", ".join(given) if given else "aucun rattachement"))
        if len(z.codes_non_rattaches):
            out.append(f"  Non rattachées : {len(z.codes_non_rattaches)} unité(s)")
    if len(zones) > max_zones:
        out.append(f"… et {len(zones) - max_zones} autres zones blanches (voir --json ou --out)")
    conc = p.conciliations
    out += ["", f"Conciliations (territoires en cours de conciliation) : {len(conc)}"]
    for c in conc.head(max_zones).itertuples(index=False):
        out.append(f"{c.conciliation} — {_units(list(c.communes), list(c.codes))} — "
                   f"{fmt_int(c.population)} hab. : {c.cpts_a} {c.nom_a} ↔ {c.cpts_b} {c.nom_b}")
        for key, keeper, loser, lose_key in (("A", c.cpts_a, c.cpts_b, "b"),
                                             ("B", c.cpts_b, c.cpts_a, "a")):
            keep_key = "a" if lose_key == "b" else "b"
            out.append(
                f"  option {key} ({keeper} garde) : {loser} "
                f"{fmt_int(getattr(c, f'population_{lose_key}'))} → "
                f"{fmt_int(getattr(c, f'population_{lose_key}_sans'))} hab., taille "
                f"{getattr(c, f'taille_{lose_key}')} → {getattr(c, f'taille_{lose_key}_sans')}, "
                f"plafond {_euros(getattr(c, f'plafond_{lose_key}'))} → "
                f"{_euros(getattr(c, f'plafond_{lose_key}_sans'))}, d'un seul tenant : "
                f"{'oui' if getattr(c, f'd_un_seul_tenant_{lose_key}_sans') else 'non'} ; "
                f"{keeper} taille {getattr(c, f'taille_{keep_key}')}, d'un seul tenant : "
                f"{'oui' if getattr(c, f'd_un_seul_tenant_{keep_key}') else 'non'}")
        out.append(f"  Proposition : {c.proposition} (frontière avec le reste du territoire : "
                   f"{c.cpts_a} {_km(c.frontiere_a_m)}, {c.cpts_b} {_km(c.frontiere_b_m)})")
    left = p.assignments[p.assignments["cpts_id"].isna()]
    out += ["", f"Unités non rattachées : {len(left)}"
            + (f" — {fmt_int(left['population'].sum())} hab." if len(left) else "")]
    for r in left.head(max_zones).itertuples(index=False):
        out.append(f"  {r.nom} ({r.code}, {r.zone_blanche}) : {r.raison}")
    if len(left) > max_zones:
        out.append(f"  … et {len(left) - max_zones} autres (voir --json ou --out)")
    return "\n".join(out)


#: Above this many months, the evolution report shows the end of each quarter (and the last).
EVOLUTION_MONTHS_SHOWN = 36


def evolution_report(evolution: Any, *, max_rows: int = 15) -> str:
    """The readable report printed by ``cpts-geo evolution``: the figures month by month.

    One line per month (per quarter beyond :data:`EVOLUTION_MONTHS_SHOWN` months, the last
    month always shown): CPTS by stage and coverage at the three thresholds; then the change
    over the period and the last month by région (or by département for one région).

    Examples
    --------
    >>> from cpts_geo.analysis.timeline import evolution
    >>> from cpts_geo.registry import Registry
    >>> dated = Registry(reg.claims.assign(date_aci=pd.Timestamp("2021-06-15"),
    ...                                    stade="fonctionnement"), "daté.csv")
    >>> lines = evolution_report(evolution(dated, ref, start="2021-05", end="2021-06")
    ...                          ).splitlines()
    >>> print(lines[0]); print(lines[2])
    Évolution des CPTS — 93 Provence-Alpes-Côte d'Azur
    Période : 05/2021 à 06/2021 (2 mois), chiffres au dernier jour de chaque mois
    >>> [line.split()[:3] for line in lines if line.startswith("2021-")]
    [['2021-05', '0', '0'], ['2021-06', '70', '70']]
    """
    france = evolution.tables["france"]
    n = len(france)
    out = [f"Évolution des CPTS — {evolution.label}", f"Registre : {evolution.source}"]
    if not n:
        return "\n".join([*out, "Aucun mois."])
    first, last = france.iloc[0], france.iloc[-1]
    out.append(f"Période : {first['date']:%m/%Y} à {last['date']:%m/%Y} ({n} mois), chiffres au "
               "dernier jour de chaque mois")
    from ..analysis.timeline import RULE

    out += _wrap(RULE, indent="")
    shown = france
    if n > EVOLUTION_MONTHS_SHOWN:
        quarter = france["mois"].str[-2:].isin(["03", "06", "09", "12"])
        keep = quarter.to_numpy() | (np.arange(n) == n - 1) | (np.arange(n) == 0)
        shown = france[keep]
    out += ["", "Par mois" + (" (fin de chaque trimestre)" if len(shown) < n else "") + " :",
            _table(_evolution_rows(shown, "mois"))]
    out += ["", f"Sur la période ({first['date']:%m/%Y} → {last['date']:%m/%Y}) :"]
    out.append(f"  CPTS : {fmt_int(first['n_cpts'])} → {fmt_int(last['n_cpts'])}, dont en "
               f"fonctionnement {fmt_int(first['n_cpts_fonctionnement'])} → "
               f"{fmt_int(last['n_cpts_fonctionnement'])}")
    for key, label in _THRESHOLD_LABELS.items():
        out.append(f"  Couverture, {label:<32} {fmt_pct(first[f'taux_{key}']):>9} → "
                   f"{fmt_pct(last[f'taux_{key}']):>9}  "
                   f"({_points(last[f'taux_{key}'] - first[f'taux_{key}'])})")
    one_region = evolution.perimeter is not None and len(evolution.perimeter) == 1
    level = "departement" if one_region else "region"
    table = evolution.tables[level]
    at_end = table[table["mois"] == last["mois"]]
    if not one_region:
        at_end = at_end[at_end["n_cpts"] > 0] if (at_end["n_cpts"] > 0).any() else at_end
    out += ["", f"Par {'département' if one_region else 'région'}, au "
            f"{last['date']:%d/%m/%Y} :", _table(_evolution_rows(at_end,
                                                               "code", names=True))]
    return "\n".join(out)


def _evolution_rows(frame: pd.DataFrame, key: str, *, names: bool = False) -> pd.DataFrame:
    rows = {key: frame[key].to_numpy()}
    if names:
        rows["nom"] = frame["nom"].to_numpy()
    rows.update({
        "CPTS": frame["n_cpts"].map(fmt_int).to_numpy(),
        "fonct.": frame["n_cpts_fonctionnement"].map(fmt_int).to_numpy(),
        "projet": frame["n_cpts_projet_valide"].map(fmt_int).to_numpy(),
        "LI": frame["n_cpts_lettre_intention"].map(fmt_int).to_numpy(),
        "autres": (frame["n_cpts_emergence"] + frame["n_cpts_non_renseigne"]).map(
            fmt_int).to_numpy(),
        "couv. fonct.": frame["taux_fonctionnement"].map(fmt_pct).to_numpy(),
        "≤ projet": frame["taux_jusqu_projet_valide"].map(fmt_pct).to_numpy(),
        "tous": frame["taux_tous_stades"].map(fmt_pct).to_numpy(),
    })
    return pd.DataFrame(rows)
