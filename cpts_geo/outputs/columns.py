"""French titles and kinds of the columns of the result tables, for every output a person reads.

The machine names of the columns (``population_couverte_tous_stades``) stay as they are in the
CSV files and the GeoPackage, which scripts read; the spreadsheet and the QGIS attribute table
show the French title instead (:func:`column_title`: "Population couverte (tous stades)").

A column's *kind* (:func:`column_kind`) decides how its numbers are shown, and is read from its
name, so that a table added later (proposals, evolution, diff) is formatted without a new entry
here as long as it names its columns the same way:

- ``taux``: names starting ``taux`` or ``part_``, or ending ``_pct``: a percentage (the values
  are in percent: 98.06 is shown 98,06 %);
- ``population``: ``population…``, ``hab…``, ``…_population``: a whole number, thousands apart;
- ``euros``: ``plafond…``, ``financement…``, ``…_eur``, ``…_euros``: whole euros;
- ``superficie``: ``superficie…``, ``…_km2``: two decimals;
- ``nombre``: ``n_…``, ``nombre…``: a whole number, thousands apart.

Any other column keeps its values as they are (text, codes, plain numbers).
"""

from __future__ import annotations

from typing import Literal

from ..registry.stages import LABELS

__all__ = ["TITLES", "Kind", "column_kind", "column_title"]

Kind = Literal["taux", "population", "euros", "superficie", "nombre", "autre"]

_THRESHOLD_TITLES = {
    "fonctionnement": "ACI signé",
    "jusqu_projet_valide": "jusqu'au projet validé",
    "tous_stades": "tous stades",
}

#: French titles of the columns of the result tables, by machine name.
TITLES: dict[str, str] = {
    # couverture
    "niveau": "Niveau",
    "code": "Code",
    "nom": "Nom",
    "population_totale": "Population totale",
    "n_cpts": "Nombre de CPTS",
    **{f"n_cpts_{stage}": f"CPTS : {label}" for stage, label in LABELS.items()},
    **{f"population_couverte_{key}": f"Population couverte ({title})"
       for key, title in _THRESHOLD_TITLES.items()},
    **{f"taux_{key}": f"Taux de couverture ({title})" for key, title in _THRESHOLD_TITLES.items()},
    # territoires
    "cpts_id": "Identifiant CPTS",
    "cpts_nom": "Nom de la CPTS",
    "stade": "Stade (code)",
    "stade_libelle": "Stade",
    "population": "Population",
    "population_partagee": "Population partagée",
    "population_ponderee": "Population pondérée",
    "superficie_km2": "Superficie (km²)",
    "n_communes": "Nombre de communes",
    "n_unites": "Nombre d'unités",
    "departements": "Départements",
    "regions": "Régions",
    "region": "Région",
    "departement": "Département",
    "zone": "Zone",
    "taille": "Taille ACI",
    "plafond_aci": "Plafond ACI (€ par an)",
    # conflits, zones blanches, partages
    "cpts_a": "CPTS A",
    "nom_a": "Nom de la CPTS A",
    "cpts_b": "CPTS B",
    "nom_b": "Nom de la CPTS B",
    "paire": "CPTS en conflit",
    "codes": "Codes INSEE",
    "communes": "Communes",
    "zone_blanche": "Zone blanche",
    "cpts": "CPTS",
    # evolution
    "mois": "Mois",
    "date": "Date (fin de mois)",
}


def column_title(name: str) -> str:
    """The French title of column ``name``: from :data:`TITLES`, else the name made readable.

    Examples
    --------
    >>> column_title("population_couverte_tous_stades")
    'Population couverte (tous stades)'
    >>> column_title("n_cpts_fonctionnement")
    'CPTS : En fonctionnement (ACI signé)'
    >>> column_title("population_nouvelle")  # not listed: underscores become spaces
    'Population nouvelle'
    """
    if name in TITLES:
        return TITLES[name]
    text = str(name).replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def column_kind(name: str) -> Kind:
    """How the numbers of column ``name`` are shown, read from the name (see the module).

    Examples
    --------
    >>> [column_kind(c) for c in ("taux_tous_stades", "population_ponderee", "plafond_aci",
    ...                           "superficie_km2", "n_unites", "cpts_id")]
    ['taux', 'population', 'euros', 'superficie', 'nombre', 'autre']
    """
    n = str(name).lower()
    if n.startswith(("taux", "part_")) or n.endswith("_pct"):
        return "taux"
    if n.startswith(("population", "hab")) or n.endswith("_population"):
        return "population"
    if n.startswith(("plafond", "financement")) or n.endswith(("_eur", "_euros")):
        return "euros"
    if n.startswith("superficie") or n.endswith("_km2"):
        return "superficie"
    if n.startswith(("n_", "nombre")):
        return "nombre"
    return "autre"
