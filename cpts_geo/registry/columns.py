"""Column matching: which column of a registry table holds the codes, the names, the stages.

Headers are matched leniently, folded (lower case, no accents, ``_`` between words): a column is
recognised by one of the accepted names (best first), else by the words of its header.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from .stages import fold_words

__all__ = [
    "ARR_NAMES",
    "CODE_NAMES",
    "ID_NAMES",
    "NAME_NAMES",
    "POSTAL_NAMES",
    "SHARE_NAMES",
    "STAGE_NAMES",
    "Columns",
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


STAGE_NAMES = ("stade", "statut", "etat", "stage", "status", "avancement", "etape",
                "statut_cpts", "stade_cpts", "etat_avancement", "niveau_avancement", "phase")


SHARE_NAMES = ("partage", "partagee", "partage_infra", "infra", "infracommunal",
                "infra_communal", "shared", "commune_partagee")


POSTAL_NAMES = ("code_postal", "cp", "codes_postaux", "code_postal_commune")


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
    cid: int | None = None
    name: int | None = None
    stage: int | None = None
    share: int | None = None


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


# when no header is one of the names above: a header made of these words
_LOOSE: dict[str, Callable[[set[str]], bool]] = {
    "code": lambda w: "insee" in w and not w & {"nom", "libelle", "population"},
    "name": lambda w: "cpts" in w and bool(w & {"nom", "libelle", "denomination", "intitule"}),
    "stage": lambda w: bool(w & {"statut", "stade", "etat", "avancement"}),
}


def match_columns(header: list[str]) -> Columns:
    """Find the registry columns in a header row: exact accepted names first, then loose ones.

    Examples
    --------
    >>> cols = match_columns(["Nom de la CPTS", "Code INSEE", "Statut"])
    >>> cols.name, cols.code, cols.stage
    (0, 1, 2)
    """
    folded = [fold_column(h) for h in header]
    cols = Columns()
    taken: set[int] = set()
    for attr, names in (("arr", ARR_NAMES), ("code", CODE_NAMES), ("cid", ID_NAMES),
                        ("name", NAME_NAMES), ("stage", STAGE_NAMES),
                        ("share", SHARE_NAMES)):
        idx = _find(folded, names, taken, _LOOSE.get(attr))
        if idx is not None:
            setattr(cols, attr, idx)
            taken.add(idx)
    return cols


def locate_header(rows: list[list[str]]) -> int | None:
    """Index of the header row: the first of the first 15 rows naming a code column.

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
