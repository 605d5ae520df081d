"""Lab units: SI and conventional spellings (and UCUM codes) read into one scale per dimension.

A test declares its dimension (`count`, `mass_concentration`...), so the same spelling can mean
different things for different tests: "G/L" is giga-cells per litre for a blood count and grams
per litre for a protein. Units are compared case-insensitively, with µ/μ read as u, superscript
exponents, `x10^9`, `10*9` (UCUM) and `10E9` all accepted.

>>> convert(6.8, "g/dL", "g/L", "mass_concentration")
68.0
>>> round(convert(1.2, "mg/dL", "umol/L", "mass_concentration", molar_mass=584.66), 1)
20.5
>>> convert(1500, "/mm3", "10^9/L", "count")
1.5
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

__all__ = ["DIMENSIONS", "UnitError", "convert", "normalize_unit", "unit_factor"]


class UnitError(ValueError):
    """A unit that cannot be read for the test's dimension, or two units that do not convert."""


_COUNT: Final[dict[str, float]] = {
    # factor to cells per litre
    "/l": 1.0,
    "10^6/l": 1e6,
    "/ul": 1e6,
    "/mm3": 1e6,
    "cells/ul": 1e6,
    "cells/mm3": 1e6,
    "/nl": 1e9,
    "g/l": 1e9,
    "giga/l": 1e9,
    "10^9/l": 1e9,
    "10^3/ul": 1e9,
    "10^3/mm3": 1e9,
    "k/ul": 1e9,
    "thou/ul": 1e9,
    "10^12/l": 1e12,
    "t/l": 1e12,
    "tera/l": 1e12,
    "10^6/ul": 1e12,
    "10^6/mm3": 1e12,
    "m/ul": 1e12,
    "mill/ul": 1e12,
}
_MASS_CONCENTRATION: Final[dict[str, float]] = {
    # factor to grams per litre
    "g/l": 1.0,
    "g/dl": 10.0,
    "g/100ml": 10.0,
    "mg/ml": 1.0,
    "mg/dl": 1e-2,
    "mg/l": 1e-3,
    "ug/ml": 1e-3,
    "ug/dl": 1e-5,
    "ug/l": 1e-6,
    "ng/ml": 1e-6,
    "ng/dl": 1e-8,
    "ng/l": 1e-9,
    "pg/ml": 1e-9,
}
_MOLAR: Final[dict[str, float]] = {
    # factor to moles per litre (needs the analyte's molar mass)
    "mol/l": 1.0,
    "mmol/l": 1e-3,
    "umol/l": 1e-6,
    "nmol/l": 1e-9,
    "pmol/l": 1e-12,
}
_FRACTION: Final[dict[str, float]] = {"%": 1.0, "percent": 1.0, "l/l": 100.0, "fraction": 100.0}
_TIME: Final[dict[str, float]] = {
    "s": 1.0,
    "sec": 1.0,
    "secs": 1.0,
    "second": 1.0,
    "seconds": 1.0,
    "seconde": 1.0,
    "secondes": 1.0,
    "min": 60.0,
}
_RATIO: Final[dict[str, float]] = {"1": 1.0, "": 1.0, "ratio": 1.0, "inr": 1.0}
_CATALYTIC: Final[dict[str, float]] = {
    # factor to U/L (micromol/min per litre)
    "u/l": 1.0,
    "iu/l": 1.0,
    "ui/l": 1.0,
    "mu/ml": 1.0,
    "ukat/l": 60.0,
    "nkat/l": 0.06,
}
_VOLUME: Final[dict[str, float]] = {"fl": 1.0, "um3": 1.0, "femtoliter": 1.0}
_CELL_MASS: Final[dict[str, float]] = {"pg": 1.0, "picogram": 1.0}
_SEDIMENTATION: Final[dict[str, float]] = {
    "mm/h": 1.0,
    "mm/hr": 1.0,
    "mm/1h": 1.0,
    "mm/1hr": 1.0,
    "mm/1ere heure": 1.0,
    "mm/1reheure": 1.0,
    "mm/1ereheure": 1.0,
    "mm/heure": 1.0,
    "mm": 1.0,
}
_ARBITRARY: Final[dict[str, float]] = {
    # factor to kU/L (= IU/mL)
    "ku/l": 1.0,
    "kiu/l": 1.0,
    "kui/l": 1.0,
    "iu/ml": 1.0,
    "ui/ml": 1.0,
    "u/ml": 1.0,
    "u/l": 1e-3,
    "iu/l": 1e-3,
    "ui/l": 1e-3,
}
_ACTIVITY: Final[dict[str, float]] = {
    # factor to % of normal pooled plasma (1 IU/mL = 100 %)
    "%": 1.0,
    "iu/dl": 1.0,
    "ui/dl": 1.0,
    "u/dl": 1.0,
    "iu/ml": 100.0,
    "ui/ml": 100.0,
    "u/ml": 100.0,
}

DIMENSIONS: Final[dict[str, dict[str, float]]] = {
    "count": _COUNT,
    "mass_concentration": _MASS_CONCENTRATION,
    "fraction": _FRACTION,
    "time": _TIME,
    "ratio": _RATIO,
    "catalytic_concentration": _CATALYTIC,
    "volume": _VOLUME,
    "cell_mass": _CELL_MASS,
    "sedimentation": _SEDIMENTATION,
    "arbitrary_concentration": _ARBITRARY,
    "activity": _ACTIVITY,
    "presence": {"": 1.0},
}
"""Unit spellings (normalized) of each dimension with their factor to the dimension's base."""

_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789")
_MAX_UNIT_CHARS: Final = 40


def normalize_unit(unit: str) -> str:
    """A unit spelling reduced to its comparable form: lower case, no spaces, brackets or
    accents, µ/μ as u, exponents as `10^n` ("x10⁹/L", "10*9/L", "10E9/l" all give "10^9/l").
    """
    text = unit.replace("µ", "u").replace("μ", "u")
    text = re.sub("[⁰¹²³⁴⁵⁶⁷⁸⁹]+", lambda m: "^" + m.group(0).translate(_SUPERSCRIPTS), text)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    text = re.sub(r"[\s\[\]{}]", "", text)
    text = re.sub(r"^(?:x|\u00d7|\*)(?=10)", "", text)
    text = re.sub(r"10(?:\*|e|exp|\^)(\d+)", r"10^\1", text)
    return text.replace("mm^3", "mm3").replace("um^3", "um3").replace("cell/", "cells/")


def unit_factor(unit: str, dimension: str, *, molar_mass: float | None = None) -> float:
    """The factor taking a value in `unit` to the base unit of `dimension`.

    Molar units (mmol/L, µmol/L...) are accepted for a mass concentration when the analyte's
    `molar_mass` (g/mol) is given. Raises UnitError for anything else.
    """
    if len(unit) > _MAX_UNIT_CHARS:
        raise UnitError(f"unit {unit[:_MAX_UNIT_CHARS]!r}... is too long")
    table = DIMENSIONS.get(dimension)
    if table is None:
        raise UnitError(f"unknown dimension {dimension!r}")
    key = normalize_unit(unit)
    if key in table:
        return table[key]
    if dimension == "mass_concentration" and molar_mass is not None and key in _MOLAR:
        return _MOLAR[key] * molar_mass
    raise UnitError(f"unit {unit!r} is not a unit of {dimension.replace('_', ' ')}")


def convert(
    value: float, from_unit: str, to_unit: str, dimension: str, *, molar_mass: float | None = None
) -> float:
    """`value` in `from_unit` expressed in `to_unit` (both units of `dimension`)."""
    source = unit_factor(from_unit, dimension, molar_mass=molar_mass)
    target = unit_factor(to_unit, dimension, molar_mass=molar_mass)
    return value * source / target
