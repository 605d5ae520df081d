"""The word normalisation is consistent: forms of one word share a stem, others do not."""

from __future__ import annotations

import pytest

from raredx.phenotype._stem import light_en, stem_en, stem_fr


@pytest.mark.parametrize(
    "forms",
    [
        ("anemia", "anaemia", "anemic", "anaemic"),
        ("hypoplasia", "hypoplastic"),
        ("dysplasia", "dysplastic"),
        ("scoliosis", "scoliotic"),
        ("microcephaly", "microcephalic"),
        ("nevus", "nevi", "naevus", "naevi"),
        ("abnormality", "abnormalities", "abnormal"),
        ("cataract", "cataracts"),
        ("hamartoma", "hamartomas"),
        ("lipoma", "lipomata"),
        ("fistula", "fistulae"),
        ("kidney", "kidneys"),
        ("enlarged", "enlargement", "enlarging"),
        ("tumor", "tumour", "tumours"),
        ("edema", "oedema"),
        ("hemorrhage", "haemorrhage"),
        ("obesity", "obese"),
        ("hemolysis", "hemolytic"),
        ("epilepsy", "epileptic"),
        ("elevated", "elevation"),
        ("calcified", "calcification"),
        ("vertebra", "vertebrae"),
    ],
)
def test_english_forms_share_a_stem(forms: tuple[str, ...]) -> None:
    assert len({stem_en(f) for f in forms}) == 1, {f: stem_en(f) for f in forms}


@pytest.mark.parametrize(
    "forms",
    [
        ("anemie", "anemique", "anemies"),
        ("thrombopenie", "thrombopenique"),
        ("eleve", "elevee", "eleves", "elevees"),
        ("hormonal", "hormonale", "hormonaux"),
        ("douloureux", "douloureuse"),
        ("recidivant", "recidivante", "recidivantes"),
        ("adenopathie", "adenopathies"),
    ],
)
def test_french_forms_share_a_stem(forms: tuple[str, ...]) -> None:
    assert len({stem_fr(f) for f in forms}) == 1, {f: stem_fr(f) for f in forms}


@pytest.mark.parametrize(
    ("a", "b"),
    [("pancreas", "pancrea"), ("tous", "toux"), ("is", "i"), ("os", "o")],
)
def test_different_words_stay_apart(a: str, b: str) -> None:
    assert stem_fr(a) != stem_fr(b) or stem_en(a) != stem_en(b)


def test_light_form_keeps_derivation() -> None:
    assert light_en("ordering") != light_en("order")
    assert light_en("inactivation") != light_en("inactivity")
    assert light_en("nevi") == light_en("nevus")
    assert light_en("haemorrhages") == light_en("hemorrhage")


def test_short_and_non_alphabetic_words_are_kept() -> None:
    assert stem_en("ear") == "ear"
    assert stem_en("cd4") == "cd4"
    assert stem_fr("os") == "os"
