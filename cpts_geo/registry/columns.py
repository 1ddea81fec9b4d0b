"""Column matching: which column of a registry table holds the codes, the names, the stages.

Headers are matched leniently, folded (lower case, no accents, ``_`` between words): a column is
recognised by one of the accepted names (best first), else by the words of its header. The
roles, in the order they are matched (a column takes one role):

``arr``, ``code``
    the units claimed: arrondissement codes, then commune codes or names (a ``Commune`` column
    may hold either);
``names``
    commune names beside the codes (used where the code cell is empty);
``cid``, ``name``
    the CPTS's identifier and name;
``stage``, ``share``
    the stage, and whether a commune is shared below commune level;
``dep``, ``region``, ``postal``
    the unit's département, région and postal code (to tell namesakes apart);
``date_li``, ``date_ps``, ``date_aci``
    the dates of the lettre d'intention, the projet de santé and the signature of the ACI.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from functools import lru_cache

from ..reference.names import fold_words

__all__ = [
    "ARR_NAMES",
    "CODE_NAMES",
    "COMMUNE_NAME_NAMES",
    "DATE_ACI_NAMES",
    "DATE_LI_NAMES",
    "DATE_PS_NAMES",
    "DEP_NAMES",
    "ID_NAMES",
    "NAME_NAMES",
    "POSTAL_NAMES",
    "REGION_NAMES",
    "SHARE_NAMES",
    "STAGE_NAMES",
    "Columns",
    "date_columns",
    "fold_column",
    "locate_header",
    "match_columns",
]

# Accepted input column names (folded: lower case, no accents, ``_`` between words), best first.
ID_NAMES = ("cpts_id", "id_cpts", "code_cpts", "identifiant_cpts", "identifiant", "id",
            "numero_cpts", "finess", "finess_cpts", "siret", "siret_cpts")
NAME_NAMES = ("cpts_nom", "nom_cpts", "nom_de_la_cpts", "libelle_cpts", "cpts", "nom",
              "name", "libelle", "raison_sociale", "denomination")
CODE_NAMES = ("code", "code_commune", "code_insee", "insee", "code_insee_commune",
              "code_commune_insee", "insee_com", "codgeo", "code_geo", "depcom", "com",
              "code_com", "commune", "codes", "codes_communes", "codes_insee", "communes",
              "liste_communes", "liste_des_communes", "code_commune_cog2026", "n_insee",
              "no_insee", "num_insee", "numero_insee", "insee_commune",
              "code_insee_de_la_commune", "codeinsee", "codecommune", "cog", "code_cog")
ARR_NAMES = ("code_arrondissement", "code_arrondissement_municipal", "arrondissement_municipal",
             "code_arm", "arm", "arrondissements", "codes_arrondissements")
COMMUNE_NAME_NAMES = ("nom_commune", "nom_de_la_commune", "nom_des_communes", "noms_communes",
                      "libelle_commune", "lib_commune", "libelle_de_la_commune", "commune_nom",
                      "nom_com", "lib_com", "libgeo", "nom_officiel", "nom_communes", "ville",
                      "villes", "localite", "noms_des_communes", "communes_membres")
STAGE_NAMES = ("stade", "statut", "etat", "stage", "status", "avancement", "etape",
               "statut_cpts", "stade_cpts", "etat_avancement", "niveau_avancement", "phase")
SHARE_NAMES = ("partage", "partagee", "partage_infra", "infra", "infracommunal",
               "infra_communal", "shared", "commune_partagee")
POSTAL_NAMES = ("code_postal", "cp", "codes_postaux", "code_postal_commune", "postal",
                "code_postal_de_la_commune")
DEP_NAMES = ("departement", "dep", "dept", "dpt", "code_departement", "code_dep", "num_dep",
             "numero_departement", "n_departement", "no_departement", "departement_code",
             "dep_code", "cod_dep", "nom_departement", "departements", "dep_commune",
             "departement_commune", "code_dept")
REGION_NAMES = ("region", "code_region", "reg", "nom_region", "region_code", "code_reg",
                "region_commune")
DATE_LI_NAMES = ("date_lettre_intention", "date_lettre_d_intention", "date_li",
                 "date_validation_lettre_intention", "date_validation_li",
                 "date_de_la_lettre_d_intention", "lettre_intention_date",
                 "date_validation_de_la_lettre_d_intention")
DATE_PS_NAMES = ("date_projet_sante", "date_projet_de_sante", "date_ps",
                 "date_validation_projet_sante", "date_validation_projet_de_sante",
                 "date_validation_du_projet_de_sante", "date_validation_ps",
                 "projet_de_sante_date")
DATE_ACI_NAMES = ("date_aci", "date_signature_aci", "date_signature_de_l_aci",
                  "date_de_signature_aci", "date_de_signature_de_l_aci", "aci_date",
                  "date_contrat_aci", "date_signature")


@lru_cache(maxsize=65_536)
def fold_column(name: object) -> str:
    """A column name as matched: ``"Code INSEE "`` → ``code_insee`` (accents and case ignored).

    Examples
    --------
    >>> fold_column(" Code INSEE "), fold_column("Dép.")
    ('code_insee', 'dep')
    """
    return fold_words(str(name)).replace(" ", "_")


@dataclass
class Columns:
    """Position in the header of each column a registry table may have (``None``: absent).

    Examples
    --------
    >>> Columns(code=1, name=0).stage is None
    True
    """

    code: int | None = None
    arr: int | None = None
    names: int | None = None
    cid: int | None = None
    name: int | None = None
    stage: int | None = None
    share: int | None = None
    dep: int | None = None
    region: int | None = None
    postal: int | None = None
    date_li: int | None = None
    date_ps: int | None = None
    date_aci: int | None = None

    def used(self) -> set[int]:
        """Positions of the columns matched."""
        return {getattr(self, f.name) for f in fields(self)} - {None}  # type: ignore[return-value]


def _find(folded: list[str], names: tuple[str, ...], taken: set[int],
          loose: Callable[[set[str]], bool] | None = None) -> int | None:
    for name in names:
        for i, f in enumerate(folded):
            if f == name and i not in taken:
                return i
    if loose is not None:
        for i, f in enumerate(folded):
            if i not in taken and f and loose(set(f.split("_"))):
                return i
    return None


def _dated(*keys: str) -> Callable[[set[str]], bool]:
    return lambda w: "date" in w and bool(w & set(keys))


# when no header is one of the names above: a header made of these words
_LOOSE: dict[str, Callable[[set[str]], bool]] = {
    "code": lambda w: "insee" in w and not w & {"nom", "libelle", "population"},
    "names": lambda w: bool(w & {"commune", "communes"}) and bool(
        w & {"nom", "noms", "libelle", "libelles"}),
    "name": lambda w: "cpts" in w and bool(w & {"nom", "libelle", "denomination", "intitule"}),
    "stage": lambda w: bool(w & {"statut", "stade", "etat", "avancement"}) and "date" not in w,
    "dep": lambda w: bool(w & {"departement", "dep", "dpt"}) and not w & {"region", "date"},
    "date_aci": _dated("aci", "signature", "contrat"),
    "date_ps": lambda w: "date" in w and (bool(w & {"ps"}) or {"projet", "sante"} <= w),
    "date_li": lambda w: "date" in w and (bool(w & {"li"}) or "intention" in w),
}
# the order roles are matched in: a column takes the first role it fits
_ORDER = (("arr", ARR_NAMES), ("code", CODE_NAMES), ("names", COMMUNE_NAME_NAMES),
          ("cid", ID_NAMES), ("name", NAME_NAMES), ("date_li", DATE_LI_NAMES),
          ("date_ps", DATE_PS_NAMES), ("date_aci", DATE_ACI_NAMES), ("stage", STAGE_NAMES),
          ("share", SHARE_NAMES), ("postal", POSTAL_NAMES), ("dep", DEP_NAMES),
          ("region", REGION_NAMES))


def match_columns(header: list[str]) -> Columns:
    """Find the registry columns in a header row: exact accepted names first, then loose ones.

    Examples
    --------
    >>> cols = match_columns(["Nom de la CPTS", "Code INSEE", "Statut"])
    >>> cols.name, cols.code, cols.stage
    (0, 1, 2)
    >>> cols = match_columns(["CPTS", "Commune", "Dép.", "Date signature ACI"])
    >>> cols.name, cols.code, cols.dep, cols.date_aci
    (0, 1, 2, 3)
    """
    folded = [fold_column(h) for h in header]
    cols = Columns()
    taken: set[int] = set()
    for attr, names in _ORDER:
        idx = _find(folded, names, taken, _LOOSE.get(attr))
        if idx is not None:
            setattr(cols, attr, idx)
            taken.add(idx)
    if cols.code is None and cols.names is not None:  # names alone: they are the units
        cols.code, cols.names = cols.names, None
    return cols


def date_columns(header: list[str], taken: set[int] | None = None) -> dict[str, int]:
    """Positions of the date columns of a header (or of property names): role → position.

    Used for the properties of perimeter files and the keys of JSON listings, where the other
    roles are matched by their own rules.

    Examples
    --------
    >>> date_columns(["nom", "Date signature ACI", "date_li"])
    {'date_li': 2, 'date_aci': 1}
    """
    folded = [fold_column(h) for h in header]
    taken = set(taken or ())
    out: dict[str, int] = {}
    for role, names in _ORDER:
        if not role.startswith("date_"):
            continue
        idx = _find(folded, names, taken, _LOOSE.get(role))
        if idx is not None:
            out[role] = idx
            taken.add(idx)
    return out


def locate_header(rows: list[list[str]]) -> int | None:
    """Index of the header row: the first of the first 15 rows naming a code or name column.

    Examples
    --------
    >>> locate_header([["Registre des CPTS, janvier 2026"], ["cpts_nom", "code_insee"]])
    1
    """
    for i, row in enumerate(rows[:15]):
        if len(row) > 500:  # not a header
            continue
        cols = match_columns(row)
        if cols.code is not None or cols.arr is not None:
            return i
    return None
