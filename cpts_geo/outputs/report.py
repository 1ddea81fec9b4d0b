"""Plain-text reports for the terminal: the coverage of a registry and the check of a project.

Labels are in French, for the people who read them; figures use French number formatting
(``5 218 960``, ``98,06 %``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from ..registry.stages import LABELS, STAGES, TIER_LABELS
from .fmt import fmt_int, fmt_pct

if TYPE_CHECKING:
    from ..analysis.check import ProjectCheck
    from ..reference import Reference

__all__ = ["check_report", "coverage_report", "fmt_int", "fmt_pct"]

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
    >>> print(lines[0])
    Couverture CPTS — 93 Provence-Alpes-Côte d'Azur
    >>> print(lines[3])
    CPTS : 70  (en fonctionnement (aci signé) : 0, ..., non renseigné : 70)
    >>> lines[8].split()
    ['Couverte,', 'tous', 'stades', '5', '117', '871', '98,06', '%']
    >>> for line in lines[20:25]:
    ...     print(line)
    Conflits (communes revendiquées par deux CPTS sans partage déclaré) : 0
    <BLANKLINE>
    Communes partagées (infra-communal, déclaré) : 2
      Nice (06088) : CPTS Nice Centre - Nice Est, CPTS Nice Nord et ses Collines, ...
      Toulon (83137) : CPTS La Seyne Toulon ouest, CPTS Toulon Littoral
    """
    ref = analysis.reference
    fr = analysis.couverture["france"].iloc[0]
    where = "France" if analysis.region is None else (
        f"{analysis.region} {ref.region_name(analysis.region)}")
    t = analysis.territories.table
    out = [f"Couverture CPTS — {where}", f"Registre : {analysis.registry.source}", "",
           f"CPTS : {len(t)}  (" + ", ".join(
               f"{LABELS[s].lower()} : {int((t['stade'] == s).sum())}" for s in STAGES) + ")",
           f"Population : {fmt_int(fr['population_totale'])} habitants", ""]
    for key, label in _THRESHOLD_LABELS.items():
        out.append(f"  Couverte, {label:<32} {fmt_int(fr[f'population_couverte_{key}']):>12}"
                   f"  {fmt_pct(fr[f'taux_{key}']):>9}")
    level = "departement" if analysis.region is not None else "region"
    table = analysis.couverture[level]
    if analysis.region is None:
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


def check_report(check: ProjectCheck, reference: Reference) -> str:
    """The readable report printed by ``cpts-geo check``.

    Examples
    --------
    A project over Mandelieu-la-Napoule, Théoule-sur-Mer (a zone blanche) and Cannes, which
    the CPTS du Pays de Lérins already serves:

    >>> from cpts_geo.analysis.check import check_project
    >>> from cpts_geo.registry import registry_from_frame
    >>> project = registry_from_frame(pd.DataFrame(
    ...     {"cpts_nom": "CPTS de l'Estérel", "code_insee": ["06079", "06138", "06029"]}), ref)
    >>> check = check_project(project, reg, ref)
    >>> check.population_totale, check.population_nouvelle, check.plafond_aci
    (97467, 23117, 315000)
    >>> print(check_report(check, ref))
    Projet : CPTS de l'Estérel (3 communes ou arrondissements)
    Population totale : ... habitants — Taille 3 (80 000 – 175 000 hab.), plafond ACI ... €
    Population nouvellement couverte : ... habitants
    Territoire d'un seul tenant : oui
    Enclaves : aucune
    CONFLITS avec 1 CPTS existante(s) :
      CPTS du Pays de Lérins (PACA-068, Non renseigné) : Cannes (06029) — ... hab.
    """
    names = reference.units["nom"]
    out = [f"Projet : {check.cpts_nom} ({len(check.codes)} communes ou arrondissements)"]
    if check.remplace:
        out.append(f"  (révision de la CPTS existante {check.remplace}, exclue de la comparaison)")
    if check.homonyme:
        out.append(f"  Attention : une CPTS existante porte ce nom ou cet identifiant "
                   f"({check.homonyme}) ; si le projet la révise, relancer avec "
                   f"--revise {check.homonyme}")
    out += [f"Population totale : {fmt_int(check.population_totale)} habitants — "
            f"{TIER_LABELS[check.taille]}, plafond ACI {fmt_int(check.plafond_aci)} €",
            f"Population nouvellement couverte : {fmt_int(check.population_nouvelle)} habitants",
            ]
    if check.d_un_seul_tenant:
        out.append("Territoire d'un seul tenant : oui")
    else:
        out.append(f"Territoire d'un seul tenant : non — {len(check.parties)} parties")
        for i, part in enumerate(check.parties, 1):
            out.append(f"  partie {i} : " + ", ".join(f"{names.get(c, c)} ({c})"
                                                      for c in part[:8])
                       + (" …" if len(part) > 8 else ""))
    if check.enclaves:
        out.append("Enclaves (communes entourées par le projet mais hors projet) : "
                   + ", ".join(f"{names.get(c, c)} ({c})" for c in check.enclaves))
    else:
        out.append("Enclaves : aucune")
    if check.conflits.empty:
        out.append("Conflits : aucun — le projet ne chevauche aucune CPTS existante.")
    else:
        out.append(f"CONFLITS avec {len(check.conflits)} CPTS existante(s) :")
        for r in check.conflits.itertuples(index=False):
            units = ", ".join(f"{n} ({c})" for n, c in zip(r.communes, r.codes, strict=True))
            out.append(f"  {r.cpts_nom} ({r.cpts_id}, {LABELS.get(r.stade, r.stade)}) : "
                       f"{units} — {fmt_int(r.population)} hab.")
    return "\n".join(out)
