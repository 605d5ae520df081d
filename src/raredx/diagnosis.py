"""The front door: a patient's phenotype in, a ranked and explained differential out.

>>> from raredx.diagnosis import diagnose
>>> result = diagnose("HP:0001744; HP:0002716; HP:0001873", age="6y")  # doctest: +SKIP
>>> result.diseases[0].genes  # doctest: +SKIP
('FAS',)

Accepts a `raredx.case.Case` (read from a phenopacket) or HPO terms (ids or names, as text or
a list), with optional excluded terms, age, sex and age of onset. Loads the active knowledge
base unless one is given; the phenotype model of a KB is built once (about a second) and
reused by every later call.
"""

from __future__ import annotations

import contextlib
import math
import re
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from raredx.case import (
    Case,
    PhenotypeObservation,
    RecordedDiagnosis,
    Sex,
    parse_iso_duration,
)
from raredx.errors import InputError, RaredxError
from raredx.genome import GenomeEvidence
from raredx.kb import KnowledgeBase, load_kb, per_kb
from raredx.phenotype import ResolvedTerm, parse_observed_and_excluded
from raredx.rank.explain import (
    candidate_genes,
    do_not_miss,
    explain_candidates,
    explain_groups,
    suggest_findings,
)
from raredx.rank.genotype import (
    GenotypeLikelihood,
    GenotypeParameters,
    genotype_likelihood,
    group_modes,
    variant_keys,
)
from raredx.rank.model import PatientQuery, PhenotypeModel, phenotype_model
from raredx.rank.model import Sex as QuerySex
from raredx.rank.parameters import ONSET_CLASSES, ONSET_EDGES_YEARS, RankParameters
from raredx.rank.result import CandidateDisease, Diagnosis, GenomeSummary, GenotypeSupport
from raredx.treat import treatment_index

__all__ = [
    "DEFAULT_PARAMETERS",
    "DO_NOT_MISS_THRESHOLD",
    "PreparedPatient",
    "diagnose",
    "explain_diseases",
    "genome_summary",
    "genotype_evidence",
    "parse_age",
    "parse_sex",
    "prepare_kb",
    "prepare_patient",
]

DO_NOT_MISS_THRESHOLD = 0.02
"""Posterior (0-1) from which a treatable disease is listed as "do not miss" (2%: a chance
worth a targeted test when a treatment exists)."""

DEFAULT_PARAMETERS = RankParameters()
"""The parameters `diagnose` uses unless given others (see `RankParameters`)."""

_AGE_PART = re.compile(r"(\d+(?:[.,]\d+)?)\s*([a-z]*)")
_AGE_UNITS: dict[str, float] = {
    "": 1.0,
    "y": 1.0,
    "yr": 1.0,
    "yrs": 1.0,
    "year": 1.0,
    "years": 1.0,
    "a": 1.0,
    "an": 1.0,
    "ans": 1.0,
    "m": 12.0,
    "mo": 12.0,
    "mos": 12.0,
    "month": 12.0,
    "months": 12.0,
    "mois": 12.0,
    "w": 365.25 / 7,
    "wk": 365.25 / 7,
    "wks": 365.25 / 7,
    "week": 365.25 / 7,
    "weeks": 365.25 / 7,
    "d": 365.25,
    "day": 365.25,
    "days": 365.25,
    "j": 365.25,
    "jours": 365.25,
}
_MAX_AGE = 150.0
_MAX_TOP = 100_000


def parse_age(value: float | int | str | None, *, what: str = "age") -> float | None:
    """Years from `4`, `4.5`, `"4y"`, `"18m"`, `"3y 6m"`, `"6w"`, `"10d"` or ISO `"P3Y6M"`.

    None stays None. Raises InputError for anything else or outside 0-150 years.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise InputError(f"invalid {what}", [repr(value)])
    if isinstance(value, int | float):
        years = float(value)
    elif isinstance(value, str):
        text = value.strip().lower()
        if not text:
            return None
        if text.startswith("p"):
            try:
                years = parse_iso_duration(text.upper())
            except ValueError:
                raise InputError(f"invalid {what}", [f"{value!r} is not a duration"]) from None
        else:
            pos, years = 0, 0.0
            for m in _AGE_PART.finditer(text):
                if text[pos : m.start()].strip(" ,"):
                    break
                unit = _AGE_UNITS.get(m.group(2))
                if unit is None:
                    break
                years += float(m.group(1).replace(",", ".")) / unit
                pos = m.end()
            if pos == 0 or text[pos:].strip():
                raise InputError(
                    f"invalid {what}",
                    [f"{value!r}: use years (4, 4.5), 4y, 18m, 3y6m, 6w, 10d or P3Y6M"],
                )
    else:
        raise InputError(f"invalid {what}", [f"{value!r} is not a number or duration"])
    if not math.isfinite(years) or not 0.0 <= years <= _MAX_AGE:
        problem = f"{value!r}: must be between 0 and {_MAX_AGE:g} years"
        raise InputError(f"invalid {what}", [problem])
    return years


def parse_sex(value: str | Sex | None) -> QuerySex | None:
    """ "male"/"female" from M, F, male, female (any case) or a case `Sex`; None if unknown."""
    if value is None:
        return None
    if isinstance(value, Sex):
        return {"MALE": "male", "FEMALE": "female"}.get(value.value)  # type: ignore[return-value]
    if not isinstance(value, str):
        raise InputError("invalid sex", [f"{value!r}: use M or F"])
    text = value.strip().lower()
    if text in ("m", "male", "man", "boy", "h", "homme", "garçon", "masculin"):
        return "male"
    if text in ("f", "female", "woman", "girl", "femme", "fille", "féminin"):
        return "female"
    if text in ("", "u", "unknown", "unknown_sex", "other", "other_sex", "o"):
        return None
    raise InputError("invalid sex", [f"{value!r}: use M or F"])


def _parse_onset(value: float | int | str | None) -> tuple[float | None, str | None]:
    """(onset years, HPO onset term) from a number, duration or HPO onset class id."""
    if value is None:
        return None, None
    if isinstance(value, str) and value.strip().upper().startswith("HP:"):
        term = value.strip().upper()
        if term not in ONSET_CLASSES:
            raise InputError("invalid onset", [f"{value!r} is not an HPO onset class"])
        return None, term
    return parse_age(value, what="onset"), None


def _case_onset(case: Case) -> tuple[float | None, str | None]:
    """The earliest onset recorded on the case's observed features or its recorded disease
    (a phenopacket's disease onset: when the illness began, known before any diagnosis)."""
    best_years: float | None = None
    best_bin: int | None = None
    best_term: str | None = None
    recorded: list[PhenotypeObservation | RecordedDiagnosis] = [
        f for f in case.features if not f.excluded
    ]
    for f in (*recorded, *case.diagnoses):
        if f.onset_years is not None:
            years = f.onset_years
            bin_ = next(
                (i for i in range(len(ONSET_EDGES_YEARS) - 1) if years < ONSET_EDGES_YEARS[i + 1]),
                len(ONSET_EDGES_YEARS) - 2,
            )
            if (
                best_bin is None
                or bin_ < best_bin
                or (bin_ == best_bin and best_years is not None and years < best_years)
            ):
                best_years, best_bin, best_term = years, bin_, None
        elif f.onset_term is not None and f.onset_term in ONSET_CLASSES:
            bin_ = min(ONSET_CLASSES[f.onset_term])
            if best_bin is None or bin_ < best_bin:
                best_years, best_bin, best_term = None, bin_, f.onset_term
    return best_years, best_term


def _terms(items: tuple[ResolvedTerm, ...]) -> tuple[tuple[str, str], ...]:
    return tuple((t.id, t.label) for t in items)


@dataclass(frozen=True, slots=True)
class PreparedPatient:
    """A patient checked and turned into what the model scores.

    `query`: term indices, sex, age and onset; `observed`/`excluded`: the resolved terms;
    `ignored`: terms given but not scored, with why (the model may drop more as implied by
    other terms: see `CaseScores`); `warnings`: from resolving the terms.
    """

    case_id: str | None
    query: PatientQuery
    observed: tuple[ResolvedTerm, ...]
    excluded: tuple[ResolvedTerm, ...]
    ignored: tuple[str, ...]
    warnings: tuple[str, ...]


def prepare_patient(
    case: Case | str | Iterable[str],
    *,
    kb: KnowledgeBase,
    excluded: str | Iterable[str] = (),
    age: float | str | None = None,
    sex: str | Sex | None = None,
    onset: float | str | None = None,
    case_id: str | None = None,
    lenient: bool = False,
) -> PreparedPatient:
    """Resolve and check a patient's input (see `diagnose` for the arguments and errors)."""
    skipped: list[str] = []
    if isinstance(case, Case):
        if excluded:
            raise InputError(
                "excluded terms come from the case", ["give them as excluded features of the case"]
            )
        observed_ids: str | Iterable[str] = list(case.observed_terms)
        excluded_ids: str | Iterable[str] = list(case.excluded_terms)
        if lenient:
            observed_ids, excluded_ids, skipped = _lenient_terms(
                kb, case.observed_terms, case.excluded_terms
            )
        age_years = parse_age(age) if age is not None else case.subject.age_years
        sex_value = parse_sex(sex) if sex is not None else parse_sex(case.subject.sex)
        if onset is not None:
            onset_years, onset_term = _parse_onset(onset)
        else:
            onset_years, onset_term = _case_onset(case)
        case_id = case_id or case.id
    else:
        observed_ids, excluded_ids = case, excluded
        age_years = parse_age(age)
        sex_value = parse_sex(sex)
        onset_years, onset_term = _parse_onset(onset)

    parsed = parse_observed_and_excluded(kb, observed_ids, excluded_ids)
    mask = phenotype_model(kb).phenotype_mask
    ignored: list[str] = []
    for t in parsed.excluded:
        if not mask[t.index]:
            ignored.append(f"{t.id} {t.label}: not a phenotypic abnormality")
    for t in parsed.observed:
        if not mask[t.index]:
            ignored.append(f"{t.id} {t.label}: not a phenotypic abnormality")
            if onset_term is None and onset_years is None and t.id in ONSET_CLASSES:
                onset_term = t.id  # an onset class recorded as a feature
    if not any(mask[t.index] for t in parsed.observed):
        raise InputError(
            "empty phenotype",
            ["at least one observed phenotypic abnormality (a term under HP:0000118) is needed"],
        )
    query = PatientQuery(
        observed=tuple(t.index for t in parsed.observed),
        excluded=tuple(t.index for t in parsed.excluded),
        sex=sex_value,
        age_years=age_years,
        onset_years=onset_years,
        onset_term=onset_term,
    )
    return PreparedPatient(
        case_id,
        query,
        parsed.observed,
        parsed.excluded,
        tuple(ignored),
        tuple(skipped) + parsed.warnings,
    )


def _lenient_terms(
    kb: KnowledgeBase, observed: tuple[str, ...], excluded: tuple[str, ...]
) -> tuple[list[str], list[str], list[str]]:
    """Drop ids the KB does not know and excluded terms an observed term implies."""
    skipped: list[str] = []
    kept_obs: list[str] = []
    implied: set[int] = set()
    for tid in observed:
        found = kb.lookup_term(tid)
        if found is None:
            skipped.append(f"{tid}: not a term of HPO {kb.hpo_release}; skipped")
            continue
        kept_obs.append(tid)
        implied.update(int(a) for a in kb.ancestors(found.index))
    kept_exc: list[str] = []
    for tid in excluded:
        found = kb.lookup_term(tid)
        if found is None:
            skipped.append(f"{tid}: not a term of HPO {kb.hpo_release}; skipped")
        elif found.index in implied:
            skipped.append(f"{tid}: excluded but implied by an observed term; skipped")
        else:
            kept_exc.append(tid)
    return kept_obs, kept_exc, skipped


def diagnose(
    case: Case | str | Iterable[str],
    *,
    excluded: str | Iterable[str] = (),
    age: float | str | None = None,
    sex: str | Sex | None = None,
    onset: float | str | None = None,
    kb: KnowledgeBase | None = None,
    parameters: RankParameters | None = None,
    top: int = 20,
    top_genes: int = 20,
    next_findings: int = 5,
    explain: bool = True,
    case_id: str | None = None,
    lenient: bool = False,
    genome: GenomeEvidence | None = None,
    genotype_parameters: GenotypeParameters | None = None,
    treatments: bool = True,
    do_not_miss_threshold: float = DO_NOT_MISS_THRESHOLD,
) -> Diagnosis:
    """Rank every disease (and gene) of the knowledge base for one patient.

    `case`: a `Case`, or the observed HPO terms (ids or English/French names; text separated
    by `;`, `,` or new lines, or a list). `excluded`: terms the patient does not show (only
    with terms; a `Case` carries its own). `age`: age at examination, `onset`: age at onset
    or an HPO onset class (e.g. HP:0003593); both as years or durations ("4y", "18m", "P4Y").
    `sex`: M/F. For a `Case`, age, sex and onset come from the case unless given here.
    `top`/`top_genes`: how many diseases/genes to return; `next_findings`: how many findings
    to suggest; `explain=False` skips the per-finding evidence (faster for batches).
    `lenient=True` (for a `Case`) skips term ids the KB does not know (e.g. from a newer HPO)
    and excluded terms that an observed term implies, with a warning, instead of failing.
    `genome`: the patient's VCF evidence (`raredx.genome.collect_evidence` or
    `evidence_from_case`): every gene-disease pair then also carries the genotype's likelihood
    ratio (`raredx.rank.genotype`). Its ratios are computed once per evidence object, so
    re-ranking after a phenotype change costs milliseconds.
    `treatments`: attach each candidate's treatments (`raredx.treat`, strongest evidence first)
    and list as "do not miss" the treatable diseases with a posterior of at least
    `do_not_miss_threshold` (0-1) that are not ranked first.

    Raises InputError (listing every problem) for unknown or malformed terms, contradictory
    observed and excluded terms, no observed phenotypic abnormality, or a bad age/sex/onset.
    """
    for name, value in (("top", top), ("top_genes", top_genes), ("next_findings", next_findings)):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _MAX_TOP:
            raise InputError(f"invalid {name}", [f"{value!r}: must be an integer from 0"])
    if kb is None:
        kb = load_kb()
    params = parameters or DEFAULT_PARAMETERS
    if genome is not None and genome.kb is not kb and genome.kb.version != kb.version:
        raise InputError(
            "the genome evidence was read with another knowledge base",
            [f"evidence: {genome.kb.version}; diagnosis: {kb.version}"],
        )
    patient = prepare_patient(
        case,
        kb=kb,
        excluded=excluded,
        age=age,
        sex=sex,
        onset=onset,
        case_id=case_id,
        lenient=lenient,
    )
    model = phenotype_model(kb)
    scores = model.score(patient.query, params)
    genotype: GenotypeLikelihood | None = None
    if genome is not None:
        genotype = _genotype(model, genome, genotype_parameters)
        scores = model.with_genotype(scores, genotype.pair_llr, params)
    kept = set(scores.observed) | set(scores.excluded)
    implied = tuple(
        f"{t.id} {t.label}: implied by another recorded term"
        for t in (*patient.observed, *patient.excluded)
        if model.phenotype_mask[t.index] and t.index not in kept
    )
    index = treatment_index(kb) if treatments else None
    treatments_of = None if index is None else (lambda g: index.treatments_for_groups((g,)))
    missable: tuple[CandidateDisease, ...] = ()
    if index is not None and treatments_of is not None:
        treatable = _treatable_groups(kb)
        missable = do_not_miss(
            model, scores, params, treatable, do_not_miss_threshold, treatments_of
        )
    return Diagnosis(
        case_id=patient.case_id,
        diseases=explain_candidates(
            model, scores, params, top, with_evidence=explain, treatments=treatments_of
        ),
        genes=candidate_genes(
            model,
            scores,
            top_genes,
            None if genome is None or genotype is None else _support(model, genome, genotype),
        ),
        next_findings=suggest_findings(model, scores, params, next_findings),
        observed=_terms(patient.observed),
        excluded=_terms(patient.excluded),
        ignored=patient.ignored + implied,
        warnings=patient.warnings,
        kb_version=kb.version,
        hpo_release=kb.hpo_release,
        parameters=params,
        kb_estimates=model.estimates,
        genome=None if genome is None else genome_summary(genome),
        do_not_miss=missable,
    )


_WARM_UP_TERM = "HP:0001250"
"""Seizure: in every HPO release; any phenotypic abnormality would do."""


def prepare_kb(kb: KnowledgeBase) -> None:
    """Build now what ranking and explaining otherwise build at their first use (the phenotype
    model and its explanation tables, the treatment index, the treatable diseases: about a
    second), so that a server's or a batch worker's first patient waits no longer than the
    next ones."""
    with contextlib.suppress(RaredxError):  # a KB without the term still gets its model
        diagnose(_WARM_UP_TERM, kb=kb, top=1, top_genes=1, next_findings=1)
    phenotype_model(kb)
    treatment_index(kb)


def explain_diseases(
    case: Case | str | Iterable[str],
    diseases: Iterable[str],
    *,
    excluded: str | Iterable[str] = (),
    age: float | str | None = None,
    sex: str | Sex | None = None,
    onset: float | str | None = None,
    kb: KnowledgeBase | None = None,
    parameters: RankParameters | None = None,
    lenient: bool = False,
    genome: GenomeEvidence | None = None,
    genotype_parameters: GenotypeParameters | None = None,
    treatments: bool = True,
) -> tuple[CandidateDisease, ...]:
    """The named diseases as `diagnose` ranks and explains them for this patient, finding by
    finding, wherever they rank (only they are explained: cheap even for a disease ranked
    5000th). `diseases`: OMIM, ORPHA or MONDO ids; an id stands for its whole equivalence
    group, as in the ranking. The other arguments are `diagnose`'s.

    Raises InputError for an unknown disease id, and as `diagnose` for the patient.
    """
    if kb is None:
        kb = load_kb()
    params = parameters or DEFAULT_PARAMETERS
    if genome is not None and genome.kb is not kb and genome.kb.version != kb.version:
        raise InputError(
            "the genome evidence was read with another knowledge base",
            [f"evidence: {genome.kb.version}; diagnosis: {kb.version}"],
        )
    groups: list[int] = []
    problems: list[str] = []
    for disease_id in diseases:
        try:
            entry = kb.disease(disease_id)
        except InputError:
            problems.append(str(disease_id))
            continue
        groups.append(int(kb.disease_group[kb.disease_index[entry.id]]))
    if problems:
        raise InputError("unknown disease id", problems)
    patient = prepare_patient(
        case, kb=kb, excluded=excluded, age=age, sex=sex, onset=onset, lenient=lenient
    )
    model = phenotype_model(kb)
    scores = model.score(patient.query, params)
    if genome is not None:
        genotype = _genotype(model, genome, genotype_parameters)
        scores = model.with_genotype(scores, genotype.pair_llr, params)
    index = treatment_index(kb) if treatments else None
    treatments_of = None if index is None else (lambda g: index.treatments_for_groups((g,)))
    return explain_groups(model, scores, params, groups, treatments=treatments_of)


@per_kb
def _treatable_groups(kb: KnowledgeBase) -> np.ndarray:
    """Per disease group: has a curated treatment (any evidence level but MAxO's ungraded)."""
    model = phenotype_model(kb)
    found = np.zeros(model.n_groups, dtype=bool)
    np.logical_or.at(found, model.disease_group, treatment_index(kb).treatable_mask())
    return found


_GENOTYPE_CACHE: weakref.WeakKeyDictionary[GenomeEvidence, dict[object, GenotypeLikelihood]]
_GENOTYPE_CACHE = weakref.WeakKeyDictionary()


def _genotype(
    model: PhenotypeModel, genome: GenomeEvidence, parameters: GenotypeParameters | None
) -> GenotypeLikelihood:
    """The VCF's genotype ratios, computed once per evidence object and parameters."""
    params = parameters or GenotypeParameters()
    per_evidence = _GENOTYPE_CACHE.setdefault(genome, {})
    key = (id(model), params)
    found = per_evidence.get(key)
    if found is None:
        found = per_evidence[key] = genotype_likelihood(model, genome, params)
    return found


def genotype_evidence(
    genome: GenomeEvidence, kb: KnowledgeBase, parameters: GenotypeParameters | None = None
) -> GenotypeLikelihood:
    """The genotype likelihood ratios `diagnose` uses for `genome` (cached per evidence)."""
    return _genotype(phenotype_model(kb), genome, parameters)


def _support(
    model: PhenotypeModel, genome: GenomeEvidence, genotype: GenotypeLikelihood
) -> Callable[[int, int], GenotypeSupport | None]:
    def support(gene: int, group: int) -> GenotypeSupport | None:
        modes = group_modes(model)[group]
        best = genotype.best_mode(gene, modes)
        if best is None:
            return GenotypeSupport(
                "", "", (), "no qualifying variant", 1.0, _log10(genotype.no_fit_llr)
            )
        fit = next((f for f in genome.mode_fits(gene) if f.mode is best.mode), None)
        if best.variant_class is None:
            return GenotypeSupport(
                best.mode.value,
                "",
                (),
                fit.reason if fit is not None else "no fitting genotype",
                1.0,
                _log10(best.llr),
            )
        keys = variant_keys(genome, best)
        label = fit.genotype if fit is not None else ""
        if fit is not None and fit.variants != keys and len(keys) == 1:
            label = label.replace("compound heterozygous", "heterozygous")
        return GenotypeSupport(
            mode=best.mode.value,
            genotype=label,
            variants=keys,
            variant_class=best.variant_class.label,
            background=round(best.background, 4),
            log10_lr=_log10(best.llr),
        )

    return support


def _log10(llr: float) -> float:
    return round(llr / math.log(10.0), 3)


def genome_summary(genome: GenomeEvidence) -> GenomeSummary:
    """Provenance of the VCF evidence, for the result."""
    proband = genome.pedigree.proband
    member = genome.pedigree.member(proband)
    return GenomeSummary(
        vcf=str(genome.header.path),
        assembly=str(genome.assembly),
        proband=proband,
        sample=(member.sample or proband) if member is not None else proband,
        annotations="; ".join(f"{k}: {v}" for k, v in genome.sources.describe())
        or "none (consequence unknown; genes by position)",
        counts=tuple(sorted(genome.counts.items())),
    )
