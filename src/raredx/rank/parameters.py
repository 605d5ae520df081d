"""The phenotype model's parameters: what each means, its default, and where the default comes from.

Two kinds of parameters:

- estimated from the knowledge base when the model is built (`KbEstimates`): the prior of
  annotation frequencies (a beta-binomial fitted to every "n/m" annotation), the frequency
  assumed when an annotation states none, and the background frequency of every term;
- estimated from published cases (`RankParameters` defaults): fitted by maximising the mean
  reciprocal rank of the correct diagnosis on the development phenopackets, with two-fold
  cross-validation split by gene cohort (no disease in both halves). `docs/ranking.md` gives
  the per-fold values and the held-out results; `benchmarks/phenotype_rank.py --fit` re-runs
  the fit.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any, Final

__all__ = [
    "ONSET_CLASSES",
    "ONSET_EDGES_YEARS",
    "KbEstimates",
    "RankParameters",
]

ONSET_EDGES_YEARS: Final[tuple[float, ...]] = (
    -0.75,
    0.0,
    0.5 / 365.25,
    28 / 365.25,
    1.0,
    5.0,
    16.0,
    40.0,
    60.0,
    150.0,
)
"""Edges (years from birth) of the onset bins: antenatal, at birth, neonatal (< 28 days),
infantile (< 1 y), childhood (< 5 y), juvenile (< 16 y), young adult (< 40 y), middle age
(< 60 y), late; as defined by the HPO onset terms."""

ONSET_CLASSES: Final[dict[str, tuple[int, ...]]] = {
    "HP:0030674": (0,),  # Antenatal onset
    "HP:0011460": (0,),  # Embryonal onset
    "HP:0011461": (0,),  # Fetal onset
    "HP:0034199": (0,),  # Late first trimester onset
    "HP:0034198": (0,),  # Second trimester onset
    "HP:0034197": (0,),  # Third trimester onset
    "HP:0003577": (1,),  # Congenital onset
    "HP:0003623": (2,),  # Neonatal onset
    "HP:0410280": (2, 3, 4, 5),  # Pediatric onset
    "HP:0003593": (3,),  # Infantile onset
    "HP:0011463": (4,),  # Childhood onset
    "HP:0003621": (5,),  # Juvenile onset
    "HP:0003581": (6, 7, 8),  # Adult onset
    "HP:0011462": (6,),  # Young adult onset
    "HP:0025708": (6,),  # Early young adult onset
    "HP:0025709": (6,),  # Intermediate young adult onset
    "HP:0025710": (6,),  # Late young adult onset
    "HP:0003596": (7,),  # Middle age onset
    "HP:0003584": (8,),  # Late onset
}
"""HPO onset terms and the onset bins (indices between `ONSET_EDGES_YEARS`) each covers."""


def _check_unit(
    name: str, value: float, *, open_low: bool = False, open_high: bool = False
) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number: {value!r}")
    low_ok = value > 0 if open_low else value >= 0
    high_ok = value < 1 if open_high else value <= 1
    if not (low_ok and high_ok):
        lo = "(0" if open_low else "[0"
        hi = "1)" if open_high else "1]"
        raise ValueError(f"{name} must be in {lo}, {hi}: {value!r}")


@dataclass(frozen=True, slots=True)
class RankParameters:
    """Parameters of the phenotype likelihood model (see `docs/ranking.md`).

    For an observed patient term q and a disease d:
    P(q | d) = (1 - noise) * max(C[d, q], narrower_weight * N[d, q]) + noise * bg(q),
    where C[d, q] is the probability that d shows q or a more specific finding (noisy-OR of
    its annotations' frequencies), N[d, q] = max over d's annotations a above q of
    f_a * bg(q) / bg(a) (the patient is more specific than the annotation), and bg the
    background frequency over all diseases. The log likelihood ratio of every term is summed.

    An excluded term x contributes `excluded_weight` * log of
    (1 - P(x | d)) * ((1 - examined_floor) * s + examined_floor * mean(s)) / mean(s),
    s = min(1, R[d, x] / examined_scale), R[d, x] = max over x's parents p of C[d, p]:
    "x was examined and found absent". A finding is examined because the suspected diseases
    involve its region of the body, so the exclusion is weak evidence for diseases involving
    that region (s), and evidence against those that usually show x itself (1 - P(x | d)).
    """

    noise: float = 0.6
    """Probability that an observed finding is unrelated to the disease (a stray finding, a
    second condition, an annotation gap); replaces it by the background frequency."""

    narrower_weight: float = 0.1
    """Weight of matches where the patient's term is more specific than the annotation."""

    excluded_weight: float = 0.3
    """Weight of the evidence of each excluded term (correlated negatives are discounted)."""

    examined_floor: float = 0.35
    """Share of examined-and-absent findings examined for reasons unrelated to the disease."""

    examined_scale: float = 0.1
    """Probability above which the disease counts as fully involving a finding's region."""

    absent_rate: float = 0.05
    """Probability that a finding the disease shows would have been recorded: each annotation of
    the disease unrelated to every recorded term contributes log(1 - absent_rate * f)."""

    onset_smoothing: float = 0.6
    """Weight of the background onset distribution mixed into each disease's onset."""

    female_fraction: tuple[float, float, float, float, float] = (0.47, 0.02, 0.46, 0.41, 0.01)
    """P(female) of an affected patient: other inheritance, X-linked recessive, X-linked
    dominant, X-linked unspecified, Y-linked. From the sex of the development cases per
    inheritance mode (with pseudo-counts); used as a likelihood ratio against the first."""

    temperature: float = 1.95
    """Divides the summed log likelihood ratio before the posterior: calibrates probabilities
    for the correlation between findings that the product of likelihood ratios ignores."""

    def __post_init__(self) -> None:
        _check_unit("noise", self.noise, open_low=True, open_high=True)
        _check_unit("narrower_weight", self.narrower_weight)
        _check_unit("excluded_weight", self.excluded_weight)
        _check_unit("examined_floor", self.examined_floor, open_low=True)
        _check_unit("examined_scale", self.examined_scale, open_low=True)
        _check_unit("absent_rate", self.absent_rate, open_high=True)
        _check_unit("onset_smoothing", self.onset_smoothing, open_low=True)
        if not isinstance(self.female_fraction, tuple) or len(self.female_fraction) != 5:
            raise ValueError("female_fraction must be a tuple of 5 probabilities")
        for value in self.female_fraction:
            _check_unit("female_fraction", value, open_low=True, open_high=True)
        t = self.temperature
        if isinstance(t, bool) or not isinstance(t, int | float) or not (0 < t < math.inf):
            raise ValueError(f"temperature must be a positive number: {t!r}")

    def replace(self, **changes: Any) -> RankParameters:
        """A copy with some parameters changed (validated)."""
        known = {f.name for f in fields(self)}
        unknown = set(changes) - known
        if unknown:
            raise ValueError(f"unknown parameters: {', '.join(sorted(unknown))}")
        values = asdict(self)
        values.update(changes)
        values["female_fraction"] = tuple(values["female_fraction"])
        return RankParameters(**values)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class KbEstimates:
    """Values the model estimates from the knowledge base it is built on.

    `frequency_prior_mean`/`frequency_prior_strength`: beta prior of annotation frequencies,
    fitted (maximum likelihood, beta-binomial) to every annotation stated as n/m; an n/m
    annotation's frequency is its posterior mean (n + mean * strength) / (m + strength).
    `unstated_frequency`: frequency assumed for an annotation that states none: the mean of
    the stated frequencies.
    """

    frequency_prior_mean: float
    frequency_prior_strength: float
    unstated_frequency: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
