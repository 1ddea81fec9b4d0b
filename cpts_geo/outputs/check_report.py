"""The readable report of ``cpts-geo check``, in French (no pandas: the quick check prints it)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..registry.stages import LABELS, TIER_LABELS
from .fmt import fmt_int

if TYPE_CHECKING:
    from ..analysis.check_core import ProjectCheck
    from ..reference import Reference

__all__ = ["check_report"]


class _Names:
    """Unit names: the check's own, then the reference's."""

    def __init__(self, own: Mapping[str, str], other: Any) -> None:
        self.own, self.other = own, other

    def get(self, code: str, default: str) -> str:
        if code in self.own:
            return self.own[code]
        return default if self.other is None else str(self.other.get(code, default))


def check_report(check: ProjectCheck, reference: Reference | None = None) -> str:
    """The readable report printed by ``cpts-geo check``.

    Units are named from the check itself (``check.noms``); ``reference`` names any other.

    Examples
    --------
    A project over Mandelieu-la-Napoule, Théoule-sur-Mer (a zone blanche) and Cannes, which
    the CPTS du Pays de Lérins already serves:

    >>> from cpts_geo.analysis.check import check_project
    >>> import pandas as pd
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
    Nouvelles enclaves de zone blanche : Tanneron (83133)
    Zone blanche voisine (le projet pourrait l'intégrer) : 1 unité(s), ... hab.
      zone de 1 unité(s), ... hab., enclave : Tanneron (83133)
    CONFLITS avec 1 CPTS existante(s) :
      CPTS du Pays de Lérins (PACA-068, Non renseigné) : Cannes (06029) — ... hab.
    """
    names = _Names(check.noms, None if reference is None else reference.units["nom"])
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
    gap_enclaves = check.enclaves_zone_blanche
    out.append("Nouvelles enclaves de zone blanche : " + (", ".join(f"{names.get(c, c)} ({c})"
                                               for c in gap_enclaves[:10])
                                     + (" …" if len(gap_enclaves) > 10 else "")
                                     if gap_enclaves else "aucune"))
    adjacent = check.adjacent_units
    if len(adjacent):
        out.append(f"Zone blanche voisine (le projet pourrait l'intégrer) : {len(adjacent)} "
                   f"unité(s), {fmt_int(sum(r['population'] for r in adjacent))} hab.")
        for r in check.adjacent_zones:
            near = r["codes_adjacents"]
            shown = ", ".join(f"{names.get(c, c)} ({c})" for c in near[:6])
            more = " …" if len(near) > 6 else ""
            size = ("plus de 1 000 unités" if r["n_unites"] is None
                    else f"{r['n_unites']} unité(s), {fmt_int(r['population'])} hab.")
            out.append(f"  zone de {size}{', enclave' if r['enclave'] else ''} : {shown}{more}")
    else:
        out.append("Zone blanche voisine : aucune")
    if not check.conflicts:
        out.append("Conflits : aucun — le projet ne chevauche aucune CPTS existante.")
    else:
        out.append(f"CONFLITS avec {len(check.conflicts)} CPTS existante(s) :")
        for r in check.conflicts:
            units = ", ".join(f"{n} ({c})" for n, c in zip(r["communes"], r["codes"],
                                                         strict=True))
            out.append(f"  {r['cpts_nom']} ({r['cpts_id']}, "
                       f"{LABELS.get(r['stade'], r['stade'])}) : "
                       f"{units} — {fmt_int(r['population'])} hab.")
    return "\n".join(out)
