"""Unit conversions: SI and conventional units, UCUM codes, French spellings."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from raredx.labs import UnitError, convert
from raredx.labs.units import DIMENSIONS, normalize_unit


@pytest.mark.parametrize(
    ("value", "unit", "target", "dimension", "molar_mass", "expected"),
    [
        (6.8, "g/dL", "g/L", "mass_concentration", None, 68.0),
        (4.2, "mmol/L", "g/L", "mass_concentration", 16114.5, 67.68),  # Hb, Dutch units
        (1.0, "mg/dL", "umol/L", "mass_concentration", 584.66, 17.10),  # bilirubin
        (265, "mg/dL", "mmol/L", "mass_concentration", 885.7, 2.99),  # triglycerides
        (100, "ug/dL", "umol/L", "mass_concentration", 55.845, 17.91),  # iron
        (35, "ng/mL", "ug/L", "mass_concentration", None, 35.0),  # ferritin
        (1500, "/mm3", "10^9/L", "count", None, 1.5),
        (1500, "/µL", "G/L", "count", None, 1.5),
        (250, "10*3/uL", "10^9/L", "count", None, 250.0),
        (0.05, "x10⁹/L", "/uL", "count", None, 50.0),
        (4.5, "T/L", "10^6/µL", "count", None, 4.5),
        (0.42, "L/L", "%", "fraction", None, 42.0),
        (1.0, "µkat/L", "U/L", "catalytic_concentration", None, 60.0),
        (0.5, "U/mL", "%", "activity", None, 50.0),
        (150, "kIU/L", "[IU]/mL", "arbitrary_concentration", None, 150.0),
        (1, "min", "s", "time", None, 60.0),
        (12, "mm/1ère heure", "mm/h", "sedimentation", None, 12.0),
    ],
)
def test_conversions(
    value: float, unit: str, target: str, dimension: str, molar_mass: float | None, expected: float
) -> None:
    assert convert(value, unit, target, dimension, molar_mass=molar_mass) == pytest.approx(
        expected, rel=1e-3
    )


def test_g_per_litre_means_giga_cells_for_a_count_and_grams_for_a_protein() -> None:
    assert convert(1, "G/L", "/uL", "count") == pytest.approx(1000)
    assert convert(1, "g/L", "mg/dL", "mass_concentration") == pytest.approx(100)


@pytest.mark.parametrize(
    ("unit", "dimension"),
    [
        ("mmol/L", "mass_concentration"),
        ("g/dL", "count"),
        ("furlongs", "time"),
        ("x" * 80, "count"),
    ],
)
def test_units_that_cannot_convert_are_errors(unit: str, dimension: str) -> None:
    with pytest.raises(UnitError):
        convert(1.0, unit, "g/L" if dimension == "mass_concentration" else "s", dimension)


def test_spellings_normalize_alike() -> None:
    spellings = ("x10⁹/L", "10*9/L", "10E9/l", "\u00d7 10^9 / L")
    assert {normalize_unit(u) for u in spellings} == {"10^9/l"}


@given(
    st.sampled_from(sorted(DIMENSIONS)).flatmap(
        lambda d: st.tuples(
            st.just(d),
            st.sampled_from(sorted(DIMENSIONS[d])),
            st.sampled_from(sorted(DIMENSIONS[d])),
            st.floats(min_value=0, max_value=1e6, allow_nan=False),
        )
    )
)
def test_conversion_round_trips(case: tuple[str, str, str, float]) -> None:
    dimension, a, b, value = case
    back = convert(convert(value, a, b, dimension), b, a, dimension)
    assert back == pytest.approx(value, rel=1e-9, abs=1e-12)


@given(st.text(max_size=60))
def test_any_text_is_a_unit_or_a_unit_error(text: str) -> None:
    with contextlib.suppress(UnitError):
        convert(1.0, text, "g/L", "mass_concentration", molar_mass=100.0)
