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


def test_reference_intervals_never_overlap_for_one_test_side_and_sex() -> None:
    """Two reference-interval rows may not cover one child on one side; thresholds
    (HLH-2004, WHO cut-offs) may sit anywhere, beside an interval or each other."""
    rows = [r for r in reference_limits() if r.kind == "interval"]
    for i, a in enumerate(rows):
        for b in rows[i + 1 :]:
            if a.loinc != b.loinc:
                continue
            same_side = (a.low is not None and b.low is not None) or (
                a.high is not None and b.high is not None
            )
            if not same_side:
                continue
            if a.sex is not None and b.sex is not None and a.sex != b.sex:
                continue
            a_end = a.age_max if a.age_max is not None else float("inf")
            b_end = b.age_max if b.age_max is not None else float("inf")
            assert a_end <= b.age_min or b_end <= a.age_min, (a, b)


def test_every_limit_is_an_interval_or_a_labelled_threshold() -> None:
    kinds = {r.kind for r in reference_limits()}
    assert kinds == {"interval", "threshold"}
    for row in reference_limits():
        assert row.label
        if row.kind == "interval":
            assert row.rules_out and row.low is not None and row.high is not None, row
    thresholds = [r for r in reference_limits() if r.kind == "threshold"]
    assert {r.label for r in thresholds} == {
        "HLH-2004 criterion",
        "WHO 2011 anaemia cut-off",
        "WHO 2020 iron-deficiency cut-off",
    }


def test_thresholds_may_sit_beside_intervals() -> None:
    """The data this design exists for: HLH-2004 platelets and neutrophils, and WHO anaemia
    cut-offs, cover the same children as CALIPER intervals."""
    rows = reference_limits()
    for code in ("777-3", "751-8", "718-7"):
        kinds = {r.kind for r in rows if r.loinc == code and r.covers(8.0, "F")}
        assert kinds == {"interval", "threshold"}, code


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
