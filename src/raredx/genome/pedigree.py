"""The family around the proband: PED files and phenopacket pedigrees, checked.

A PED file has six whitespace-separated columns: family, individual, father, mother (``0`` =
not in the file), sex (``1`` male, ``2`` female, ``0`` unknown) and phenotype (``2`` affected,
``1`` unaffected, ``0``/``-9`` unknown); lines starting with ``#`` are comments. Every problem
is reported at once, with its line.

>>> ped = parse_ped("F1 kid dad mum 1 2\\nF1 dad 0 0 1 1\\nF1 mum 0 0 2 1\\n")
>>> ped.proband, ped.father.id if ped.father else None
('kid', 'dad')
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from raredx.case.model import Case, Sex
from raredx.errors import InputError

__all__ = [
    "Pedigree",
    "PedigreeMember",
    "bind_samples",
    "case_vcf",
    "parse_ped",
    "pedigree_from_case",
    "read_ped",
]

_SEX_CODES = {"1": Sex.MALE, "2": Sex.FEMALE, "0": Sex.UNKNOWN_SEX, "-9": Sex.UNKNOWN_SEX}
_STATUS_CODES: dict[str, bool | None] = {"2": True, "1": False, "0": None, "-9": None}


@dataclass(frozen=True, slots=True)
class PedigreeMember:
    """One individual: parents (ids, None when not in the pedigree), sex, affected status
    (None = unknown) and `sample`, the VCF column holding their genotypes (None = not
    sequenced)."""

    id: str
    family: str
    father: str | None = None
    mother: str | None = None
    sex: Sex = Sex.UNKNOWN_SEX
    affected: bool | None = None
    sample: str | None = None

    def __post_init__(self) -> None:
        for name in ("id", "family"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip() or value != value.strip():
                raise ValueError(f"{name} must be a non-empty string: {value!r}")
        if not isinstance(self.sex, Sex):
            raise ValueError(f"sex must be a Sex: {self.sex!r}")
        if self.father is not None and self.father == self.id:
            raise ValueError(f"{self.id} is their own father")
        if self.mother is not None and self.mother == self.id:
            raise ValueError(f"{self.id} is their own mother")

    @property
    def sequenced(self) -> bool:
        return self.sample is not None

    @property
    def male(self) -> bool:
        return self.sex is Sex.MALE


@dataclass(frozen=True, slots=True)
class Pedigree:
    """A family with its proband; `members` in input order, the proband among them."""

    family_id: str
    members: tuple[PedigreeMember, ...]
    proband: str

    def __post_init__(self) -> None:
        ids = [m.id for m in self.members]
        if len(set(ids)) != len(ids):
            raise ValueError("pedigree members must be unique")
        if self.proband not in ids:
            raise ValueError(f"proband {self.proband!r} is not a member")

    @classmethod
    def singleton(
        cls, individual: str, sex: Sex = Sex.UNKNOWN_SEX, sample: str | None = None
    ) -> Pedigree:
        """The proband alone (affected), genotyped in column `sample` (default: its id)."""
        member = PedigreeMember(
            individual, individual, sex=sex, affected=True, sample=sample or individual
        )
        return cls(individual, (member,), individual)

    def member(self, individual: str) -> PedigreeMember | None:
        return next((m for m in self.members if m.id == individual), None)

    @property
    def proband_member(self) -> PedigreeMember:
        found = self.member(self.proband)
        assert found is not None
        return found

    @property
    def father(self) -> PedigreeMember | None:
        fid = self.proband_member.father
        return self.member(fid) if fid else None

    @property
    def mother(self) -> PedigreeMember | None:
        mid = self.proband_member.mother
        return self.member(mid) if mid else None

    @property
    def relatives(self) -> tuple[PedigreeMember, ...]:
        return tuple(m for m in self.members if m.id != self.proband)

    @property
    def sequenced(self) -> tuple[PedigreeMember, ...]:
        """Members with a VCF sample, proband first."""
        return (self.proband_member,) * self.proband_member.sequenced + tuple(
            m for m in self.relatives if m.sequenced
        )

    def role(self, individual: str) -> str:
        """``proband``, ``father``, ``mother``, ``sibling`` or ``relative``."""
        p = self.proband_member
        if individual == p.id:
            return "proband"
        if individual == p.father:
            return "father"
        if individual == p.mother:
            return "mother"
        m = self.member(individual)
        if m is not None and (
            (m.father and m.father == p.father) or (m.mother and m.mother == p.mother)
        ):
            return "sibling"
        return "relative"


def read_ped(path: str | os.PathLike[str], proband: str | None = None) -> Pedigree:
    """Read and check a PED file; `proband` names the index case when the file has several
    affected individuals or families."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{p}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{p}: unreadable PED file ({exc})") from None
    return parse_ped(text, source=str(p), proband=proband)


def parse_ped(text: str, *, source: str = "PED", proband: str | None = None) -> Pedigree:
    """Parse PED text (see the module docstring); InputError lists every problem."""
    problems: list[str] = []
    members: list[PedigreeMember] = []
    seen: dict[tuple[str, str], int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = line.split()
        if len(parts) < 6:
            problems.append(f"line {number}: {len(parts)} columns, a PED row needs 6")
            continue
        family, individual, father, mother, sex, status = parts[:6]
        where = f"line {number} ({individual})"
        if sex not in _SEX_CODES:
            problems.append(f"{where}: sex {sex!r} is not 1 (male), 2 (female) or 0 (unknown)")
        if status not in _STATUS_CODES:
            problems.append(
                f"{where}: phenotype {status!r} is not 2 (affected), 1 (unaffected) or 0/-9"
            )
        if (family, individual) in seen:
            problems.append(f"{where}: also on line {seen[(family, individual)]}")
            continue
        seen[(family, individual)] = number
        dad = None if father in ("0", "-9", ".") else father
        mum = None if mother in ("0", "-9", ".") else mother
        if individual in (dad, mum):
            problems.append(f"{where}: is their own parent")
            continue
        members.append(
            PedigreeMember(
                individual,
                family,
                dad,
                mum,
                _SEX_CODES.get(sex, Sex.UNKNOWN_SEX),
                _STATUS_CODES.get(status),
            )
        )
    if not members and not problems:
        problems.append("no individuals")
    if problems:
        raise InputError(f"{source}: invalid PED file", problems)
    return _assemble(members, source, proband)


def _assemble(members: Sequence[PedigreeMember], source: str, proband: str | None) -> Pedigree:
    problems: list[str] = []
    families = list(dict.fromkeys(m.family for m in members))
    if proband is not None:
        chosen = [m for m in members if m.id == proband]
        if not chosen:
            raise InputError(f"{source}: proband {proband!r} is not in the pedigree")
        family = chosen[0].family
    elif len(families) == 1:
        family = families[0]
    else:
        raise InputError(
            f"{source}: {len(families)} families ({', '.join(families[:5])}): name the proband"
        )
    fam = [m for m in members if m.family == family]
    ids = {m.id: m for m in fam}
    if len(ids) != len(fam):
        problems.append(f"family {family}: an individual appears twice")
    for m in fam:
        for parent, want, label in (
            (m.father, Sex.FEMALE, "father"),
            (m.mother, Sex.MALE, "mother"),
        ):
            p = ids.get(parent) if parent else None
            if p is not None and p.sex is want:
                problems.append(f"{m.id}: {label} {p.id} is recorded as {p.sex.value.lower()}")
    problems.extend(_cycles(fam))
    if problems:
        raise InputError(f"{source}: inconsistent pedigree", problems)
    if proband is None:
        affected = [m for m in fam if m.affected]
        if len(affected) == 1:
            proband = affected[0].id
        elif len(fam) == 1:
            proband = fam[0].id
        else:
            with_parents = [m for m in affected if m.father in ids or m.mother in ids]
            youngest = [
                m
                for m in with_parents
                if not any(c.father == m.id or c.mother == m.id for c in fam)
            ]
            if len(youngest) == 1:
                proband = youngest[0].id
            else:
                names = ", ".join(m.id for m in (youngest or affected or fam)[:6])
                raise InputError(
                    f"{source}: cannot tell the proband among {names}: name the proband"
                )
    return Pedigree(family, tuple(fam), proband)


def _cycles(members: Sequence[PedigreeMember]) -> list[str]:
    parents = {m.id: [p for p in (m.father, m.mother) if p] for m in members}
    problems: list[str] = []
    for start in parents:
        stack, seen = list(parents[start]), set()
        while stack:
            node = stack.pop()
            if node == start:
                problems.append(f"{start} is their own ancestor")
                break
            if node in seen:
                continue
            seen.add(node)
            stack.extend(parents.get(node, ()))
    return problems


def bind_samples(
    pedigree: Pedigree,
    vcf_samples: Sequence[str],
    mapping: Mapping[str, str] | None = None,
    *,
    source: str = "VCF",
) -> Pedigree:
    """Attach VCF sample columns to members: `mapping` (individual -> sample, e.g. from a
    phenopacket) else the same name. Every VCF sample must belong to a member and the proband
    must be sequenced; InputError lists every problem."""
    mapping = dict(mapping or {})
    samples = set(vcf_samples)
    problems: list[str] = []
    members = []
    for m in pedigree.members:
        sample = mapping.get(m.id, m.id)
        if sample in samples:
            members.append(replace(m, sample=sample))
        else:
            if m.id in mapping:
                problems.append(f"{m.id}: mapped to sample {sample!r}, which the VCF lacks")
            members.append(replace(m, sample=None))
    bound = {m.sample for m in members if m.sample}
    extra = [s for s in vcf_samples if s not in bound]
    if extra:
        problems.append(
            f"samples absent from the pedigree: {', '.join(extra[:10])}"
            + (f" (and {len(extra) - 10} more)" if len(extra) > 10 else "")
        )
    result = Pedigree(pedigree.family_id, tuple(members), pedigree.proband)
    if not result.proband_member.sequenced:
        problems.append(
            f"the proband {pedigree.proband} has no sample in the VCF "
            f"(samples: {', '.join(list(vcf_samples)[:10]) or 'none'})"
        )
    if problems:
        raise InputError(f"{source}: the VCF samples and the pedigree do not match", problems)
    return result


def pedigree_from_case(case: Case) -> tuple[Pedigree, dict[str, str]]:
    """The pedigree of a case (a Family's pedigree, or the subject alone) and the individual ->
    VCF sample mapping of its files."""
    mapping: dict[str, str] = {}
    for f in case.files:
        for individual, sample in f.individual_to_file_ids:
            mapping.setdefault(individual, sample)
    subject = case.subject
    if not case.pedigree:
        return Pedigree.singleton(subject.id, subject.sex, sample=None), mapping
    members = [
        PedigreeMember(
            p.individual_id, p.family_id, p.paternal_id, p.maternal_id, p.sex, p.affected
        )
        for p in case.pedigree
    ]
    if not any(m.id == subject.id for m in members):
        members.insert(
            0,
            PedigreeMember(
                subject.id, case.family_id or subject.id, sex=subject.sex, affected=True
            ),
        )
    members = [
        replace(m, sex=subject.sex) if m.id == subject.id and m.sex is Sex.UNKNOWN_SEX else m
        for m in members
    ]
    return _assemble(members, f"case {case.id}", subject.id), mapping


_VCF_SUFFIXES = (".vcf", ".vcf.gz", ".vcf.bgz", ".bcf")


def case_vcf(case: Case, base: str | os.PathLike[str] = ".") -> tuple[Path, str | None]:
    """The VCF a case's ``files`` name (the first VCF/BCF entry) and its ``genomeAssembly``;
    relative paths and ``file://`` URIs are resolved against `base` (the phenopacket's
    folder). InputError when the case names no VCF."""
    for f in case.files:
        fmt = (f.file_format or "").upper()
        uri = f.uri
        path_text = uri[len("file://") :] if uri.startswith("file://") else uri
        if "://" in path_text:
            continue
        if fmt in ("VCF", "BCF") or path_text.lower().endswith(_VCF_SUFFIXES):
            path = Path(path_text)
            if not path.is_absolute():
                path = Path(base) / path
            return path, f.assembly
    raise InputError(f"case {case.id}: its files name no VCF (give one)")
