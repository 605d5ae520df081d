"""In-house allele frequencies: the genotypes of a cohort's own VCFs, by centre and overall.

A variant carried by many unrelated families of a rare-disease cohort is not the cause of any
one of their rare diseases (or is a recurrent artefact of the pipeline): population databases
miss both, the cohort sees them. An in-house folder holds:

- ``genotypes/centre=<code>/<member>.parquet``: one Parquet file per collected case (a
  *member*): every ALT allele some sequenced individual of the case's family carries, keyed by
  its minimal form (`raredx.genome.frequency.minimal_allele`), with the family's dose (0-2: the
  largest number of copies any sequenced member carries) and how many members carry it.
  Partitioned by centre (hive style): DuckDB, Arrow or Dask read it as one table.
- ``inhouse.json``: the members (case, centre, family, VCF path/size/sha256, samples) and the
  summary of the last build.
- ``frequencies/overall.parquet`` and ``frequencies/by_centre.parquet``: per allele (and
  centre) ``ac``, ``an``, ``af``, ``faf95``, ``families``, ``hom`` (families homozygous),
  ``individuals``; aggregated with DuckDB.
- ``manifest.json``, ``keys.npy``... : a frequency store (`FrequencyStore`, the format of
  ``raredx genome compile-frequency``), so ``--frequency DIR`` works everywhere a frequency store
  does. Its frequency is the *filtering* allele frequency ``faf95`` of the whole cohort.

Counting rules (docs/batch.md):

- **Relatives count once.** The unit is the family, not the individual: a family contributes
  two alleles to AN and its dose (the largest number of copies any of its sequenced members
  carries) to AC. Members are grouped into families by the phenopacket Family id (else the
  pedigree's family id, else the case id), per centre, and two families sharing a sample (same
  VCF sha256, same sample column) are merged.
- **VCFs, not gVCFs.** A family whose VCF has no record at a site is counted as reference
  there (its coverage is unknown): AN is 2 x families everywhere, and frequencies off target
  are underestimates.
- **Filtering allele frequency.** ``faf95`` is the highest true frequency at which seeing
  ``ac`` copies in ``an`` would still be unlikely (the lower bound of the one-sided 95%
  Poisson interval, gnomAD's filtering AF, Whiffin 2017). One other carrier family in a
  cohort of 200 gives 0.013% (below the 0.05% dominant threshold); two give 0.09%.
- **Leave one out.** A case's own family is not evidence against its own variants:
  `InhouseStore.for_case` gives a view whose frequencies exclude the case's family (its
  doses and its two alleles of AN). A case not in the cohort gets the cohort's frequencies.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]

from raredx._files import atomic_file, exclusive_lock
from raredx.case import Case
from raredx.errors import InputError
from raredx.genome._store import KeyedStore, StoreBuilder, allele_key
from raredx.genome.frequency import (
    FREQUENCY_STORE_KIND,
    MINIMAL_ALLELES,
    FrequencyStore,
    minimal_allele,
)
from raredx.genome.pedigree import bind_samples, case_vcf, pedigree_from_case
from raredx.genome.vcf import (
    CONTIG_LENGTHS,
    Assembly,
    VcfStream,
    contig_index,
    normalise_contig,
    read_header,
)

__all__ = [
    "FAF_CONFIDENCE",
    "INHOUSE_FORMAT",
    "INHOUSE_VERSION",
    "CohortMember",
    "CombinedFrequency",
    "InhouseFrequency",
    "InhouseStore",
    "collect_member",
    "family_key",
    "file_sha256",
    "filtering_af",
    "member_key",
    "previous_members",
]

INHOUSE_FORMAT = "raredx-inhouse"
INHOUSE_VERSION = 1
FAF_CONFIDENCE = 0.95
"""Confidence of the filtering allele frequency (one-sided)."""

_METADATA = "inhouse.json"
_GENOTYPES = "genotypes"
_FREQUENCIES = "frequencies"
_LOCK = ".lock"
_STORE_FILES = ("offsets.npy", "keys.npy")
_COLUMNS = {
    "af": np.float32,
    "ac": np.int32,
    "an": np.int32,
    "hom": np.int32,
    "families": np.int32,
}
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_HASH_CHUNK = 1 << 20


# ----------------------------------------------------------------------------------- numbers
_LAMBDA: list[float] = [0.0]


def _poisson_lower(ac: int) -> float:
    """Lower bound of the one-sided `FAF_CONFIDENCE` Poisson interval of a count `ac`: the
    mean λ with P(X >= ac | λ) = 1 - confidence. Cached table, grown on demand."""
    if ac <= 0:
        return 0.0
    if ac >= len(_LAMBDA):
        from scipy.special import gammaincinv

        size = max(ac + 1, 2 * len(_LAMBDA), 64)
        counts = np.arange(len(_LAMBDA), size, dtype=np.float64)
        _LAMBDA.extend(float(x) for x in gammaincinv(counts, 1.0 - FAF_CONFIDENCE))
    return _LAMBDA[ac]


def filtering_af(ac: int, an: int) -> float:
    """The filtering allele frequency of `ac` copies among `an` alleles (0 when ac is 0);
    NaN when `an` is not positive."""
    if an <= 0:
        return math.nan
    return min(1.0, _poisson_lower(int(ac)) / an)


# ------------------------------------------------------------------------------ membership
def _safe(text: str) -> str:
    return _UNSAFE.sub("_", text).strip("._") or "x"


def member_key(centre: str, case_id: str) -> str:
    """The file name stem of a case's genotypes: readable, and unique per (centre, case)."""
    digest = hashlib.sha256(f"{centre}\0{case_id}".encode()).hexdigest()[:10]
    return f"{_safe(case_id)[:80]}-{digest}"


def family_key(case: Case, centre: str) -> str:
    """``centre/family``: the phenopacket Family id, else the family id its pedigree gives the
    proband, else the case id."""
    family = case.family_id
    if family is None:
        family = next(
            (p.family_id for p in case.pedigree if p.individual_id == case.subject.id), None
        )
    return f"{centre}/{family or case.id}"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class CohortMember:
    """One collected case: where its genotypes came from and where they are (`file`, relative
    to the in-house folder). `samples` are the VCF columns read (the family's sequenced
    members); `variants` the alleles written."""

    key: str
    case_id: str
    centre: str
    family: str
    source: str
    vcf: str
    sha256: str
    size: int
    mtime_ns: int
    assembly: str
    samples: tuple[str, ...]
    variants: int
    file: str
    collected_at: str

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["samples"] = list(self.samples)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CohortMember:
        names = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in names}
        values["samples"] = tuple(values.get("samples") or ())
        return cls(**values)

    @property
    def sample_keys(self) -> tuple[str, ...]:
        return tuple(f"{self.sha256}:{s}" for s in self.samples)


def _genotype_file(root: Path, centre: str, key: str) -> Path:
    return root / _GENOTYPES / f"centre={_safe(centre)}" / f"{key}.parquet"


def collect_member(
    case: Case,
    root: str | os.PathLike[str],
    *,
    centre: str,
    source: str,
    base: str | os.PathLike[str] = ".",
    assembly: Assembly | str | None = None,
    previous: CohortMember | None = None,
) -> CohortMember:
    """Read the genotypes of the VCF `case` names (its family's sequenced members) into the
    in-house folder `root`, and return the member record (not yet registered: see
    `InhouseStore.register`). When `previous` describes the same VCF (path, size, mtime) and
    its file is still there, nothing is read and `previous` is returned.

    Raises InputError when the case names no VCF, or the VCF or its samples are unusable.
    """

    folder = Path(root)
    path, named = case_vcf(case, base)
    try:
        info = path.stat()
    except OSError as exc:
        raise InputError(f"case {case.id}: VCF {path}: {exc.strerror or exc}") from None
    key = member_key(centre, case.id)
    family = family_key(case, centre)
    target = _genotype_file(folder, centre, key)
    if (
        previous is not None
        and previous.family == family
        and previous.vcf == str(path)
        and previous.size == info.st_size
        and previous.mtime_ns == info.st_mtime_ns
        and previous.centre == centre
        and (folder / previous.file).is_file()
    ):
        return previous
    header = read_header(path, assembly or named)
    pedigree, mapping = pedigree_from_case(case)
    bound = bind_samples(pedigree, header.samples, mapping, source=str(path))
    samples = [m.sample for m in bound.members if m.sample is not None]
    order = [s for s in header.samples if s in set(samples)]
    lengths = CONTIG_LENGTHS[header.assembly]
    contig: list[int] = []
    keys: list[int] = []
    chroms: list[str] = []
    positions: list[int] = []
    refs: list[str] = []
    alts: list[str] = []
    doses: list[int] = []
    carriers: list[int] = []
    seen: dict[tuple[int, int], int] = {}
    cache: dict[str, str | None] = {}
    with VcfStream(header, samples=order) as stream:
        for record in stream:
            raw = record.CHROM
            chrom = cache.get(raw, "")
            if chrom == "":
                chrom = cache[raw] = normalise_contig(raw)
            if chrom is None:
                continue
            c = contig_index(chrom)
            if lengths[c] < record.POS:
                raise stream.fail(f"position {raw}:{record.POS} lies beyond the chromosome")
            calls = record.genotypes
            for i, alt in enumerate(record.ALT, start=1):
                if not alt or alt in ("*", ".") or alt[0] == "<":
                    continue
                dose = 0
                carrying = 0
                for call in calls:
                    alleles = [a for a in call[:-1] if isinstance(a, int) and a >= 0]
                    copies = sum(1 for a in alleles if a == i)
                    if copies:
                        carrying += 1
                        dose = max(dose, 2 if copies == len(alleles) else 1)
                if not dose:
                    continue
                pos, ref, alt_min = minimal_allele(record.POS, record.REF, alt)
                k = allele_key(pos, ref, alt_min)
                at = seen.get((c, k))
                if at is not None:  # the same allele twice (overlapping records): keep the most
                    doses[at] = max(doses[at], dose)
                    carriers[at] = max(carriers[at], carrying)
                    continue
                seen[(c, k)] = len(keys)
                contig.append(c)
                keys.append(k)
                chroms.append(chrom)
                positions.append(pos)
                refs.append(ref)
                alts.append(alt_min)
                doses.append(dose)
                carriers.append(carrying)
    table = pa.table(
        {
            "member": pa.array([key] * len(keys), pa.string()).dictionary_encode(),
            "chrom": pa.array(chroms, pa.string()).dictionary_encode(),
            "pos": pa.array(positions, pa.int32()),
            "ref": pa.array(refs, pa.string()),
            "alt": pa.array(alts, pa.string()),
            "dose": pa.array(doses, pa.int8()),
            "carriers": pa.array(carriers, pa.int16()),
            "contig": pa.array(contig, pa.int8()),
            "key": pa.array(keys, pa.int64()),
        }
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(target, binary=True) as handle:
        pq.write_table(table, handle, compression="zstd")
    return CohortMember(
        key=key,
        case_id=case.id,
        centre=centre,
        family=family,
        source=source,
        vcf=str(path),
        sha256=file_sha256(path),
        size=info.st_size,
        mtime_ns=info.st_mtime_ns,
        assembly=str(header.assembly),
        samples=tuple(order),
        variants=len(keys),
        file=str(target.relative_to(folder)),
        collected_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )


# ------------------------------------------------------------------------------- the folder
def _families(members: Iterable[CohortMember]) -> dict[str, str]:
    """Family key -> canonical family: families sharing a sample (VCF sha256 + column) are
    one family (the smallest key names it)."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    owner: dict[str, str] = {}
    for m in members:
        find(m.family)
        for sample in m.sample_keys:
            other = owner.setdefault(sample, m.family)
            a, b = find(other), find(m.family)
            if a != b:
                parent[max(a, b)] = min(a, b)
    return {f: find(f) for f in list(parent)}


def _to_arrow(relation: Any) -> Any:
    """A DuckDB relation as an Arrow table (the method's name changed across versions)."""
    method = getattr(relation, "to_arrow_table", None) or relation.arrow
    return method()


class InhouseStore:
    """An in-house frequency folder (see the module documentation).

    >>> store = InhouseStore.create("inhouse/")                 # doctest: +SKIP
    >>> store.register([collect_member(case, "inhouse/", centre="RDB", source="p.json")])
    >>> store.build()                                            # DuckDB aggregation
    >>> store.frequency()                                        # a FrequencyStore
    """

    def __init__(self, root: Path, meta: dict[str, Any]) -> None:
        self.root = root
        self._meta = meta
        self.members: dict[str, CohortMember] = {
            k: CohortMember.from_dict(v) for k, v in (meta.get("members") or {}).items()
        }
        self._frequency: InhouseFrequency | None = None
        self._doses: dict[str, dict[int, int]] = {}
        self._canon: dict[str, str] | None = None
        self._by_sample: dict[str, str] | None = None

    # -- opening -----------------------------------------------------------------------------
    @classmethod
    def create(cls, root: str | os.PathLike[str]) -> InhouseStore:
        """Open `root`, creating an empty in-house folder there when it does not exist.
        InputError when it exists and is not one (a file, or a folder with other content)."""
        folder = Path(root)
        if folder.exists() and not folder.is_dir():
            raise InputError(f"{folder}: exists and is not a folder")
        if (folder / _METADATA).is_file():
            return cls.open(folder)
        if folder.is_dir() and any(p.name != _LOCK for p in folder.iterdir()):
            raise InputError(
                f"{folder}: not an in-house frequency folder (no {_METADATA}) and not empty; "
                "choose another path"
            )
        try:
            folder.mkdir(parents=True, exist_ok=True)
            meta = {"format": INHOUSE_FORMAT, "version": INHOUSE_VERSION, "members": {}}
            with atomic_file(folder / _METADATA) as fh:
                fh.write(json.dumps(meta, indent=1) + "\n")
        except OSError as exc:
            raise InputError(f"{folder}: cannot create ({exc.strerror or exc})") from None
        return cls(folder, meta)

    @classmethod
    def open(cls, root: str | os.PathLike[str]) -> InhouseStore:
        folder = Path(root)
        path = folder / _METADATA
        if not path.is_file():
            raise InputError(
                f"{folder}: not an in-house frequency folder (no {_METADATA}); build one with "
                "`raredx genome compile-inhouse`"
            )
        try:
            meta = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InputError(f"{path}: unreadable ({exc})") from None
        if meta.get("format") != INHOUSE_FORMAT or meta.get("version") != INHOUSE_VERSION:
            raise InputError(
                f"{path}: in-house format {meta.get('format')!r} version {meta.get('version')!r}"
                f" is not {INHOUSE_FORMAT!r} {INHOUSE_VERSION}; build it again"
            )
        try:
            return cls(folder, meta)
        except (TypeError, ValueError, AttributeError) as exc:
            raise InputError(f"{path}: damaged member list ({exc})") from None

    def lock(self) -> AbstractContextManager[None]:
        """Exclusive use of the folder for writing (one builder at a time); InputError when
        another process holds it."""
        busy = f"{self.root}: another raredx process is updating this in-house folder"
        return exclusive_lock(self.root / _LOCK, busy)

    # -- what it holds -----------------------------------------------------------------------
    @property
    def summary(self) -> dict[str, Any]:
        """The last build's summary (families, centres, alleles, built_at); empty before."""
        return dict(self._meta.get("summary") or {})

    @property
    def built(self) -> bool:
        return (self.root / "manifest.json").is_file()

    @property
    def identity(self) -> str:
        """Names this build (changes whenever the frequencies may change)."""
        s = self.summary
        return f"{s.get('built_at', '')}/{s.get('members', 0)}/{s.get('alleles', 0)}"

    @property
    def assembly(self) -> str | None:
        found = {m.assembly for m in self.members.values()}
        return next(iter(found)) if len(found) == 1 else None

    def register(self, members: Iterable[CohortMember]) -> None:
        """Add (or replace, by key) members and save the list atomically. All members must
        share one genome build. Call `build` afterwards to update the frequencies."""
        merged = dict(self.members)
        for m in members:
            merged[m.key] = m
        builds = sorted({m.assembly for m in merged.values()})
        if len(builds) > 1:
            raise InputError(
                f"{self.root}: an in-house folder holds one genome build",
                [f"{m.case_id}: {m.assembly}" for m in merged.values() if m.assembly != builds[0]],
            )
        self._meta["members"] = {k: m.to_dict() for k, m in sorted(merged.items())}
        self.members = merged
        self._canon = self._by_sample = None
        self._save()

    def _save(self) -> None:
        with atomic_file(self.root / _METADATA) as fh:
            fh.write(json.dumps(self._meta, indent=1, ensure_ascii=False) + "\n")

    def families(self) -> dict[str, str]:
        """Family key -> canonical family key (see the module documentation)."""
        if self._canon is None:
            self._canon = _families(self.members.values())
        return self._canon

    # -- aggregation -------------------------------------------------------------------------
    def build(self) -> dict[str, Any]:
        """Aggregate every member's genotypes (DuckDB) into ``frequencies/*.parquet`` and the
        frequency store at the folder's root; return (and save) the summary."""

        members = [m for m in self.members.values() if (self.root / m.file).is_file()]
        if not members:
            raise InputError(f"{self.root}: no collected genotypes to aggregate")
        assembly = Assembly(members[0].assembly)
        canon = _families(members)
        centre_of: dict[str, str] = {}
        for m in sorted(members, key=lambda m: m.key):
            centre_of.setdefault(canon[m.family], m.centre)
        families_by_centre: dict[str, int] = {}
        for centre in centre_of.values():
            families_by_centre[centre] = families_by_centre.get(centre, 0) + 1
        n_families = len(centre_of)
        mapping = pa.table(
            {
                "member": [m.key for m in members],
                "family": [canon[m.family] for m in members],
                "centre": [centre_of[canon[m.family]] for m in members],
            }
        )
        an_table = pa.table(
            {
                "centre": list(families_by_centre),
                "an": [2 * n for n in families_by_centre.values()],
            }
        )
        files = [str(self.root / m.file) for m in members]
        con = duckdb.connect()
        try:
            con.register("members", mapping)
            con.register("centre_an", an_table)
            con.execute(
                "CREATE TEMP TABLE fam AS SELECT m.family, m.centre, g.chrom, g.pos, g.ref, "
                "g.alt, max(g.dose) AS dose, sum(g.carriers) AS carriers "
                "FROM read_parquet(?) g JOIN members m ON g.member = m.member "
                "GROUP BY m.family, m.centre, g.chrom, g.pos, g.ref, g.alt",
                [files],
            )
            overall = _to_arrow(
                con.sql(
                    "SELECT chrom::VARCHAR AS chrom, pos, ref, alt, sum(dose)::INTEGER AS ac, "
                    "count(*)::INTEGER AS families, "
                    "sum(CASE WHEN dose >= 2 THEN 1 ELSE 0 END)::INTEGER AS hom, "
                    "sum(carriers)::INTEGER AS individuals "
                    "FROM fam GROUP BY chrom, pos, ref, alt ORDER BY chrom, pos, ref, alt"
                )
            )
            by_centre = _to_arrow(
                con.sql(
                    "SELECT f.centre, chrom::VARCHAR AS chrom, pos, ref, alt, "
                    "sum(dose)::INTEGER AS ac, any_value(a.an)::INTEGER AS an, "
                    "count(*)::INTEGER AS families, "
                    "sum(CASE WHEN dose >= 2 THEN 1 ELSE 0 END)::INTEGER AS hom, "
                    "sum(carriers)::INTEGER AS individuals "
                    "FROM fam f JOIN centre_an a ON f.centre = a.centre "
                    "GROUP BY f.centre, chrom, pos, ref, alt "
                    "ORDER BY f.centre, chrom, pos, ref, alt"
                )
            )
        except duckdb.Error as exc:
            raise InputError(f"{self.root}: cannot aggregate the genotypes ({exc})") from None
        finally:
            con.close()
        an_all = 2 * n_families
        overall = overall.append_column(
            "an", pa.array(np.full(overall.num_rows, an_all, dtype=np.int32))
        )
        overall = _with_frequencies(overall)
        by_centre = _with_frequencies(by_centre)
        out = self.root / _FREQUENCIES
        out.mkdir(parents=True, exist_ok=True)
        for name, table in (("overall", overall), ("by_centre", by_centre)):
            with atomic_file(out / f"{name}.parquet", binary=True) as handle:
                pq.write_table(table, handle, compression="zstd")
        built_at = datetime.now(UTC).isoformat(timespec="microseconds")
        summary = {
            "built_at": built_at,
            "assembly": str(assembly),
            "members": len(members),
            "families": n_families,
            "families_by_centre": dict(sorted(families_by_centre.items())),
            "alleles": overall.num_rows,
            "an": an_all,
        }
        self._write_store(overall, assembly, summary)
        self._meta["summary"] = summary
        self._save()
        self._frequency = None
        self._doses.clear()
        return summary

    def _write_store(self, overall: Any, assembly: Assembly, summary: dict[str, Any]) -> None:
        """The frequency store at the folder's root: built beside it, then its files moved in
        (arrays first, manifest last)."""
        source = (
            f"in-house ({summary['families']} families, "
            f"{len(summary['families_by_centre'])} centres)"
        )
        builder = StoreBuilder(
            FREQUENCY_STORE_KIND,
            assembly,
            dict(_COLUMNS),
            source=source,
            version=str(summary["built_at"]),
        )
        cols = {n: overall.column(n).to_pylist() for n in ("chrom", "pos", "ref", "alt")}
        values = [overall.column(n).to_numpy() for n in ("faf95", "ac", "an", "hom", "families")]
        add = builder.add
        for i, (chrom, pos, ref, alt) in enumerate(
            zip(cols["chrom"], cols["pos"], cols["ref"], cols["alt"], strict=True)
        ):
            add(chrom, pos, ref, alt, tuple(v[i].item() for v in values))
        staging = Path(tempfile.mkdtemp(prefix=".store.", dir=self.root))
        try:
            built = staging / "store"
            builder.write(built)
            manifest = json.loads((built / "manifest.json").read_text())
            manifest["alleles"] = MINIMAL_ALLELES
            manifest["inhouse"] = summary
            (built / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
            names = [*_STORE_FILES, *(f"{n}.npy" for n in _COLUMNS)]
            for name in names:
                os.replace(built / name, self.root / name)
            os.replace(built / "manifest.json", self.root / "manifest.json")
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    # -- reading -----------------------------------------------------------------------------
    def frequency(self) -> InhouseFrequency:
        """The cohort's frequencies as a `FrequencyStore` (no one left out)."""
        if self._frequency is None:
            if not self.built:
                raise InputError(
                    f"{self.root}: no frequencies yet; run `raredx genome compile-inhouse`"
                )
            self._frequency = InhouseFrequency(KeyedStore.open(self.root))
        return self._frequency

    def family_of(
        self, case: Case, centre: str | None, sample_keys: Sequence[str] = ()
    ) -> str | None:
        """The canonical family of a case in this cohort: by its family key (with `centre`),
        else by a sample it shares (``sha256:column``); None when it is not in the cohort."""
        canon = self.families()
        if centre is not None:
            found = canon.get(family_key(case, centre))
            if found is not None:
                return found
        if self._by_sample is None:
            self._by_sample = {
                sample: canon[m.family] for m in self.members.values() for sample in m.sample_keys
            }
        return next((self._by_sample[s] for s in sample_keys if s in self._by_sample), None)

    def family_doses(self, family: str) -> dict[int, int]:
        """(contig << 60 | allele key) -> dose of a canonical family (largest over its members'
        files)."""
        found = self._doses.get(family)
        if found is not None:
            return found

        canon = self.families()
        doses: dict[int, int] = {}
        for m in self.members.values():
            if canon.get(m.family) != family or not (self.root / m.file).is_file():
                continue
            table = pq.read_table(self.root / m.file, columns=["contig", "key", "dose"])
            contig = table.column("contig").to_pylist()
            keys = table.column("key").to_pylist()
            dose = table.column("dose").to_pylist()
            for c, k, d in zip(contig, keys, dose, strict=True):
                g = (c << 60) | k
                if d > doses.get(g, 0):
                    doses[g] = d
        self._doses = {family: doses}  # one family at a time: a worker runs case after case
        return doses

    def for_case(
        self, case: Case, *, centre: str | None = None, sample_keys: Sequence[str] = ()
    ) -> InhouseFrequency:
        """The frequencies without the case's own family (leave one out); the cohort's
        frequencies when the case is not in it."""
        family = self.family_of(case, centre, sample_keys)
        if family is None:
            return self.frequency()
        return self.frequency().excluding(self.family_doses(family), 2)

    def query(self, sql: str, parameters: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run DuckDB SQL over the views ``genotypes`` (every member's rows, with ``centre``
        from the path), ``overall`` and ``by_centre``; returns the rows."""

        con = duckdb.connect()
        try:
            pattern = str(self.root / _GENOTYPES / "*" / "*.parquet")
            if any((self.root / _GENOTYPES).glob("*/*.parquet")):
                con.execute(
                    "CREATE VIEW genotypes AS SELECT * FROM "
                    f"read_parquet('{_quote(pattern)}', hive_partitioning = true)"
                )
            for name in ("overall", "by_centre"):
                path = self.root / _FREQUENCIES / f"{name}.parquet"
                if path.is_file():
                    con.execute(
                        f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{_quote(str(path))}')"
                    )
            return [tuple(row) for row in con.execute(sql, list(parameters)).fetchall()]
        except duckdb.Error as exc:
            raise InputError(f"in-house query failed: {exc}") from None
        finally:
            con.close()


def _quote(text: str) -> str:
    return text.replace("'", "''")


def _with_frequencies(table: Any) -> Any:
    """`table` with ``af`` and ``faf95`` (float64) computed from its ``ac`` and ``an``."""

    ac = table.column("ac").to_numpy().astype(np.int64)
    an = table.column("an").to_numpy().astype(np.int64)
    af = np.where(an > 0, ac / np.maximum(an, 1), np.nan)
    if len(ac):
        _poisson_lower(int(ac.max()))
    lam = np.asarray(_LAMBDA, dtype=np.float64)
    faf = np.where(an > 0, np.minimum(1.0, lam[ac] / np.maximum(an, 1)), np.nan)
    return table.append_column("af", pa.array(af)).append_column("faf95", pa.array(faf))


# ------------------------------------------------------------------------- frequency views
class InhouseFrequency(FrequencyStore):
    """The in-house frequency store, optionally leaving one family out (`excluding`): its
    doses are taken off AC and its alleles off AN before the filtering frequency is computed;
    an allele only that family carries is then unknown (None), as for a case outside the
    cohort."""

    def __init__(
        self,
        store: KeyedStore,
        *,
        own: Mapping[int, int] | None = None,
        own_an: int = 0,
    ) -> None:
        super().__init__(store)
        self._ac = store.columns["ac"]
        self._an = store.columns["an"]
        self._own = own or {}
        self._own_an = own_an

    def excluding(self, own: Mapping[int, int], own_an: int) -> InhouseFrequency:
        """A view without a family: its doses by (contig << 60 | allele key), its AN."""
        return InhouseFrequency(self._store, own=own, own_an=own_an)

    def counts(self, chrom: str, pos: int, ref: str, alt: str) -> tuple[int, int] | None:
        """(AC, AN) of the allele with the excluded family left out; None when not listed."""
        pos, ref, alt = minimal_allele(pos, ref, alt)
        row = self._store.find(chrom, pos, ref, alt)
        if row is None:
            return None
        ac = int(self._ac[row])
        if self._own:
            c = contig_index(chrom)
            ac -= self._own.get((c << 60) | allele_key(pos, ref, alt), 0)
        return ac, int(self._an[row]) - self._own_an

    def lookup(self, chrom: str, pos: int, ref: str, alt: str) -> float | None:
        if not self._own and not self._own_an:
            return super().lookup(chrom, pos, ref, alt)
        found = self.counts(chrom, pos, ref, alt)
        if found is None or found[0] <= 0 or found[1] <= 0:
            return None
        return filtering_af(*found)


class CombinedFrequency(FrequencyStore):
    """Several frequency stores of one build as one: the largest frequency any lists."""

    def __init__(self, stores: Sequence[FrequencyStore]) -> None:
        if not stores:
            raise ValueError("no frequency store")
        builds = {str(s.assembly) for s in stores}
        if len(builds) > 1:
            raise InputError("the frequency stores are of different genome builds", sorted(builds))
        super().__init__(stores[0]._store)
        self._stores = tuple(stores)

    @property
    def source(self) -> str:
        return " + ".join(s.source for s in self._stores)

    def lookup(self, chrom: str, pos: int, ref: str, alt: str) -> float | None:
        best: float | None = None
        for store in self._stores:
            value = store.lookup(chrom, pos, ref, alt)
            if value is not None and (best is None or value > best):
                best = value
        return best


# used by the batch: a member's previous record, by key
def previous_members(root: str | os.PathLike[str]) -> dict[str, CohortMember]:
    """The members already registered in `root` (empty when it is not an in-house folder)."""
    try:
        return dict(InhouseStore.open(root).members)
    except InputError:
        return {}
