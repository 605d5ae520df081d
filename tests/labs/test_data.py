"""The shipped lab data: read through importlib.resources, every limit cited and consistent."""

from __future__ import annotations

import gzip
import re
from importlib import resources
from pathlib import Path

import pytest

from raredx.kb import KnowledgeBase
from raredx.labs import annotations_for, lab_tests, reference_limits
from raredx.labs.catalog import normalize_name
from raredx.labs.units import unit_factor

DATA = resources.files("raredx.labs").joinpath("data")


def test_package_data_files_are_readable() -> None:
    names = {p.name for p in DATA.iterdir()}
    assert {
        "loinc2hpo-annotations.tsv.gz",
        "loinc2hpo-LICENSE.md",
        "reference_intervals.tsv",
        "tests.tsv",
    } <= names
    assert "Jackson Laboratory" in DATA.joinpath("loinc2hpo-LICENSE.md").read_text("utf-8")


def test_loinc2hpo_copy_is_the_shared_file(shared_dir: Path) -> None:
    shipped = gzip.decompress(DATA.joinpath("loinc2hpo-annotations.tsv.gz").read_bytes())
    assert shipped == (shared_dir / "data" / "loinc2hpo" / "loinc2hpo-annotations.tsv").read_bytes()


def test_every_limit_cites_a_source_and_converts() -> None:
    limits = reference_limits()
    assert len(limits) >= 20
    tests = lab_tests()
    for row in limits:
        assert len(row.source) > 40 and re.search(r"\b(19|20)[0-9]{2}\b", row.source), row
        assert row.note
        test = tests[row.loinc]
        unit_factor(row.unit, test.dimension, molar_mass=test.molar_mass)
        assert annotations_for(row.loinc), f"{row.loinc} has limits but no LOINC2HPO mapping"


def test_limits_never_overlap_for_one_test_side_and_sex() -> None:
    rows = reference_limits()
    for i, a in enumerate(rows):
        for b in rows[i + 1 :]:
            if a.loinc != b.loinc or (a.low is None) != (b.low is None):
                continue
            if a.sex is not None and b.sex is not None and a.sex != b.sex:
                continue
            a_end = a.age_max if a.age_max is not None else float("inf")
            b_end = b.age_max if b.age_max is not None else float("inf")
            assert a_end <= b.age_min or b_end <= a.age_min, (a, b)


def test_catalogue_names_are_unambiguous_within_a_dimension() -> None:
    seen: dict[tuple[str, str], str] = {}
    for test in lab_tests().values():
        for name in (test.name, *test.aliases):
            key = (normalize_name(name), test.dimension)
            assert seen.setdefault(key, test.loinc) == test.loinc, key


@pytest.mark.slow
def test_annotated_terms_of_catalogue_tests_exist_in_the_kb(real_kb: KnowledgeBase) -> None:
    for code in lab_tests():
        for ann in annotations_for(code):
            assert real_kb.lookup_term(ann.hpo_id) is not None, ann
