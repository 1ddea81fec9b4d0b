"""The five stages, the labels real listings use for them, and the ACI size tiers."""

from __future__ import annotations

import pytest

from cpts_geo.registry.stages import (
    COLOURS,
    LABELS,
    STAGES,
    THRESHOLDS,
    TIER_CEILINGS,
    TIER_LABELS,
    ceiling,
    normalise_stage,
    stage_key,
    tier,
)


def test_the_five_stages_in_design_order() -> None:
    assert STAGES == ("fonctionnement", "projet_valide", "lettre_intention", "emergence",
                      "non_renseigne")
    assert set(LABELS) == set(COLOURS) == set(STAGES)
    assert len(set(COLOURS.values())) == 5
    assert THRESHOLDS["fonctionnement"] == ("fonctionnement",)
    assert THRESHOLDS["jusqu_projet_valide"] == ("fonctionnement", "projet_valide")
    assert THRESHOLDS["tous_stades"] == STAGES


@pytest.mark.parametrize(
    ("label", "stage"),
    [
        # ARS listings, the ministry's panorama, CNAM exports
        ("ACI signé", "fonctionnement"),
        ("ACI signée", "fonctionnement"),
        ("Signataire de l'ACI", "fonctionnement"),
        ("Contrat signé", "fonctionnement"),
        ("En fonctionnement", "fonctionnement"),
        ("CPTS en fonctionnement (ACI signé)", "fonctionnement"),
        ("Opérationnelle", "fonctionnement"),
        ("Signé", "fonctionnement"),
        ("Projet de santé validé", "projet_valide"),
        ("Projet validé", "projet_valide"),
        ("ACI en cours de signature", "projet_valide"),
        ("ACI à signer", "projet_valide"),
        ("Validé", "projet_valide"),
        ("Lettre d'intention validée", "lettre_intention"),
        ("Lettre d’intention", "lettre_intention"),  # typographic apostrophe
        ("LI validée", "lettre_intention"),
        ("LI", "lettre_intention"),
        ("Projet de santé en rédaction", "lettre_intention"),
        ("En construction", "lettre_intention"),
        ("En projet", "lettre_intention"),
        ("Émergence", "emergence"),
        ("En émergence", "emergence"),
        ("Pré-projet", "emergence"),
        ("En pré-projet", "emergence"),  # not "en projet"
        ("Initiative connue", "emergence"),
        ("Réflexion", "emergence"),
        ("Non renseigné", "non_renseigne"),
        ("NR", "non_renseigne"),
        ("n.c.", "non_renseigne"),
        ("Inconnu", "non_renseigne"),
        ("", "non_renseigne"),
        ("  ", "non_renseigne"),
        ("-", "non_renseigne"),
        ("?", "non_renseigne"),
        (None, "non_renseigne"),
        (float("nan"), "non_renseigne"),
        # the keys themselves, and the French labels the tool writes
        *[(s, s) for s in STAGES],
        *[(lbl, s) for s, lbl in LABELS.items()],
    ],
)
def test_labels_of_real_listings(label: object, stage: str) -> None:
    assert normalise_stage(label) == stage


@pytest.mark.parametrize("label", [1, 2.0, "3", "4"])
def test_numbered_stages_are_not_guessed(label: object) -> None:
    """Listings number stages both ways (1 = ACI signé, or 1 = émergence): reported, not guessed."""
    assert normalise_stage(label) is None


@pytest.mark.parametrize("label", ["ACI signé", "Projet de santé validé",
                                   "Lettre d'intention validée", "Émergence"])
def test_accents_case_and_spacing_are_ignored(label: str) -> None:
    expected = normalise_stage(label)
    plain = (label.replace("é", "e").replace("É", "E"))
    for variant in (label.upper(), label.lower(), f"  {label}  ", label.replace(" ", "   "),
                    plain, plain.upper(), label.replace(" ", "_")):
        assert normalise_stage(variant) == expected, variant


@pytest.mark.parametrize("label", ["Dissoute", "en sommeil", "ACI non signé",
                                   "Pas de lettre d'intention", "abandonné", "5"])
def test_unknown_or_negated_labels_are_not_guessed(label: str) -> None:
    assert normalise_stage(label) is None


def test_pandas_missing_values_are_non_renseigne() -> None:
    import pandas as pd

    assert normalise_stage(pd.NA) == "non_renseigne"
    assert normalise_stage(pd.NaT) == "non_renseigne"


def test_stage_key_sorts_most_advanced_first() -> None:
    shuffled = ["non_renseigne", "emergence", "fonctionnement", "lettre_intention",
                "projet_valide"]
    assert sorted(shuffled, key=stage_key) == list(STAGES)
    with pytest.raises(ValueError):
        stage_key("dissoute")


@pytest.mark.parametrize(
    ("population", "expected_tier", "expected_ceiling"),
    [
        (0, 1, 185_000),
        (39_999, 1, 185_000),
        (40_000, 2, 242_000),
        (79_999, 2, 242_000),
        (80_000, 3, 315_000),
        (175_000, 3, 315_000),  # "taille 3: 80 000–175 000", "taille 4: > 175 000"
        (175_001, 4, 380_000),
        (5_000_000, 4, 380_000),
    ],
)
def test_aci_tiers_and_ceilings(population: int, expected_tier: int,
                                expected_ceiling: int) -> None:
    assert tier(population) == expected_tier
    assert ceiling(population) == expected_ceiling
    assert TIER_CEILINGS[expected_tier] == expected_ceiling


def test_tier_labels_name_the_bounds() -> None:
    assert set(TIER_LABELS) == {1, 2, 3, 4}
    assert "40 000" in TIER_LABELS[1] and "175 000" in TIER_LABELS[4]
