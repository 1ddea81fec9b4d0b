"""The stages of a CPTS and the ACI size tiers.

Stages, from the most to the least advanced: ``fonctionnement`` (ACI signé), ``projet_valide``
(projet de santé validé, ACI en cours de signature), ``lettre_intention`` (lettre d'intention
validée), ``emergence`` (initiative connue), ``non_renseigne`` (the registry does not say).
"""

from __future__ import annotations

from typing import Literal

from ..reference.names import fold_words

__all__ = [
    "COLOURS",
    "LABELS",
    "STAGES",
    "THRESHOLDS",
    "TIER_CEILINGS",
    "TIER_LABELS",
    "Stage",
    "ceiling",
    "normalise_stage",
    "stage_key",
    "tier",
]

Stage = Literal["fonctionnement", "projet_valide", "lettre_intention", "emergence", "non_renseigne"]

#: The stages, most advanced first.
STAGES: tuple[str, ...] = (
    "fonctionnement",
    "projet_valide",
    "lettre_intention",
    "emergence",
    "non_renseigne",
)

#: French labels, as shown to users in legends, tooltips and tables.
LABELS: dict[str, str] = {
    "fonctionnement": "En fonctionnement (ACI signé)",
    "projet_valide": "Projet de santé validé",
    "lettre_intention": "Lettre d'intention validée",
    "emergence": "Émergence",
    "non_renseigne": "Non renseigné",
}

#: Map colours (colour-blind-safe, from ColorBrewer/Okabe-Ito), shared by HTML maps and figures.
COLOURS: dict[str, str] = {
    "fonctionnement": "#1b7837",
    "projet_valide": "#5aae61",
    "lettre_intention": "#f1a340",
    "emergence": "#b2abd2",
    "non_renseigne": "#8c8c8c",
}

#: Coverage thresholds as the ministry's panorama reports them: key → stages counted.
THRESHOLDS: dict[str, tuple[str, ...]] = {
    "fonctionnement": ("fonctionnement",),
    "jusqu_projet_valide": ("fonctionnement", "projet_valide"),
    "tous_stades": STAGES,
}

#: Maximum annual ACI funding by tier, in euros (fixed and variable parts together).
TIER_CEILINGS: dict[int, int] = {1: 185_000, 2: 242_000, 3: 315_000, 4: 380_000}
TIER_LABELS: dict[int, str] = {
    1: "Taille 1 (< 40 000 hab.)",
    2: "Taille 2 (40 000 – 80 000 hab.)",
    3: "Taille 3 (80 000 – 175 000 hab.)",
    4: "Taille 4 (> 175 000 hab.)",
}


def tier(population: int) -> int:
    """ACI size tier (1–4) of a CPTS serving ``population`` inhabitants.

    Examples
    --------
    >>> [tier(p) for p in (39_999, 40_000, 80_000, 175_000, 175_001)]
    [1, 2, 3, 3, 4]
    """
    if population < 40_000:
        return 1
    if population < 80_000:
        return 2
    if population <= 175_000:
        return 3
    return 4


def ceiling(population: int) -> int:
    """Maximum annual ACI funding in euros for a CPTS serving ``population`` inhabitants.

    Examples
    --------
    >>> ceiling(50_000)
    242000
    """
    return TIER_CEILINGS[tier(population)]


# Keywords found in real listings (ARS tables, the ministry's panorama, CNAM exports), folded.
# Checked in order: the first rule whose words all appear in the folded label wins.
_RULES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("non", "renseigne"), "non_renseigne"),
    (("non", "communique"), "non_renseigne"),
    (("inconnu",), "non_renseigne"),
    (("inconnue",), "non_renseigne"),
    (("aci", "signe"), "fonctionnement"),
    (("aci", "signee"), "fonctionnement"),
    (("contrat", "signe"), "fonctionnement"),
    (("signataire",), "fonctionnement"),
    (("fonctionnement",), "fonctionnement"),
    (("fonctionnelle",), "fonctionnement"),
    (("operationnelle",), "fonctionnement"),
    (("active",), "fonctionnement"),
    (("projet", "valide"), "projet_valide"),
    (("projet", "sante", "valide"), "projet_valide"),
    (("aci", "en", "cours"), "projet_valide"),
    (("aci", "a", "signer"), "projet_valide"),
    (("en", "cours", "de", "signature"), "projet_valide"),
    (("lettre", "intention"), "lettre_intention"),
    (("li", "validee"), "lettre_intention"),
    (("li", "valide"), "lettre_intention"),
    (("redaction",), "lettre_intention"),
    (("en", "construction"), "lettre_intention"),
    (("pre", "projet"), "emergence"),  # before ("en", "projet"): "en pré-projet"
    (("preprojet",), "emergence"),
    (("en", "projet"), "lettre_intention"),
    (("emergence",), "emergence"),
    (("emergente",), "emergence"),
    (("initiative",), "emergence"),
    (("reflexion",), "emergence"),
    (("valide",), "projet_valide"),
    (("validee",), "projet_valide"),
    (("signe",), "fonctionnement"),
    (("signee",), "fonctionnement"),
)
# A negated label ("ACI non signé", "pas de lettre d'intention") is not guessed: it is reported.
# So are bare numbers: listings number their stages both ways (1 = ACI signé, or 1 = émergence).
_NEGATIONS = frozenset({"non", "pas", "sans"})
_ALIASES: dict[str, str] = {
    **{s.replace("_", " "): s for s in STAGES},
    **{fold_words(lbl): s for s, lbl in LABELS.items()},
    "li": "lettre_intention",
    "aci": "fonctionnement",
    "nr": "non_renseigne",
    "nd": "non_renseigne",
    "nc": "non_renseigne",
    "n c": "non_renseigne",
    "na": "non_renseigne",
    "n a": "non_renseigne",
    "a renseigner": "non_renseigne",
    "a preciser": "non_renseigne",
    "": "non_renseigne",
    "nan": "non_renseigne",
    "none": "non_renseigne",
    "null": "non_renseigne",
}


def _missing(label: object) -> bool:
    if label is None:
        return True
    try:
        return bool(label != label)  # NaN, NaT
    except TypeError:  # pandas.NA
        return True


def normalise_stage(label: object) -> str | None:
    """Map a stage label found in a registry to one of :data:`STAGES`.

    Accents, case, punctuation and spacing are ignored. A missing label (``None``, NaN, an empty
    or blank cell, "NR", "n.c.") is ``non_renseigne``; a label that matches no known stage, or a
    negated one ("ACI non signé"), gives ``None`` (the registry reader reports it).

    Parameters
    ----------
    label
        The stage as written in the source, e.g. ``"ACI signé"`` or ``"Lettre d'intention"``.

    Examples
    --------
    >>> [normalise_stage(s) for s in ("ACI signé", " PROJET DE SANTÉ VALIDÉ", "rédaction", None)]
    ['fonctionnement', 'projet_valide', 'lettre_intention', 'non_renseigne']
    >>> normalise_stage("dissoute") is None, normalise_stage("ACI non signé") is None
    (True, True)
    """
    if _missing(label):
        return "non_renseigne"
    if isinstance(label, float) and label.is_integer():
        label = int(label)
    folded = fold_words(str(label))
    if folded in _ALIASES:
        return _ALIASES[folded]
    words = set(folded.split())
    if words & _NEGATIONS and not {"renseigne", "communique"} & words:
        return None
    for keys, stage in _RULES:
        if all(k in words for k in keys):
            return stage
    return None


def stage_key(stage: str) -> int:
    """Position of ``stage`` in :data:`STAGES` (0 = most advanced), for sorting.

    Examples
    --------
    >>> sorted(["emergence", "fonctionnement"], key=stage_key)
    ['fonctionnement', 'emergence']
    """
    return STAGES.index(stage)
