"""VCFs attached to stored cases: hashed, their genotype evidence cached (never pickled) and
used by reanalysis while it is valid; missing or changed files are reported, not used."""

from __future__ import annotations

import dataclasses
import gzip
import io
import shutil
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import update

from raredx.case import Case, PedigreePerson, PhenotypeObservation, Sex, Subject, read_phenopacket
from raredx.diagnosis import diagnose
from raredx.errors import InputError
from raredx.genome import GenomeEvidence, InheritanceMode, collect_evidence, parse_ped
from raredx.kb import KnowledgeBase
from raredx.store import Store, vcfcache
from raredx.store import models as m
from raredx.store.reanalysis import reanalyze
from raredx.store.store import VcfUnavailable
from raredx.store.vcfcache import (
    EVIDENCE_VERSION,
    StaleEvidence,
    decode_evidence,
    encode_evidence,
    file_sha256,
)
from tests.store.conftest import EXAMPLE, table_rows

DATA = Path(__file__).resolve().parent / "data"
ALPS_VCF = DATA / "alps-fas.vcf"  # hand-written: a FAS stop-gain in sample S1, GRCh37
TRIO_PED = "643594 ADM1059A2 ADM1059A1 ADM1059A3 1 2\n643594 ADM1059A1 0 0 1 1\n"
TRIO_PED += "643594 ADM1059A3 0 0 2 1\n"  # as Clinical-Genomics/scout scout/demo/643594.ped


@pytest.fixture
def vcf(tmp_path: Path) -> Path:
    """A copy of the shipped VCF that a test may move, change or delete."""
    target = tmp_path / "patient" / "alps-fas.vcf"
    target.parent.mkdir()
    shutil.copyfile(ALPS_VCF, target)
    return target


@pytest.fixture
def alps(store: Store) -> Case:
    case = read_phenopacket(EXAMPLE)
    store.add_case(case, centre="C1", user="alice")
    store.add_user("carol", role="clinician", centre="C2")
    return case


def _tables_equal(a: GenomeEvidence, b: GenomeEvidence) -> None:
    assert list(a.table.rows) == list(b.table.rows)
    for name in a.table.rows:
        np.testing.assert_array_equal(a.table.rows[name], b.table.rows[name])
        assert a.table.rows[name].dtype == b.table.rows[name].dtype
    for name in a.table.samples:
        np.testing.assert_array_equal(a.table.samples[name], b.table.samples[name])
    assert [a.table.text.get(i) for i in range(len(a.table))] == [
        b.table.text.get(i) for i in range(len(b.table))
    ]
    assert a.header == b.header and a.pedigree == b.pedigree and a.config == b.config
    assert a.sources == b.sources and a.counts == b.counts
    assert a.vocab.filters == b.vocab.filters and a.vocab.fields == b.vocab.fields


def test_attach_hashes_and_names_the_file(store: Store, alps: Case, vcf: Path) -> None:
    record = store.attach_vcf(alps.id, vcf, user="alice")
    digest, size = file_sha256(vcf)
    assert (record.path, record.sha256, record.size) == (f"file://{vcf}", digest, size)
    assert (record.assembly, record.sample, record.attached) == ("GRCh37", "S1", True)
    assert record.evidence_inputs is None  # the genotypes are read at the first use
    case = store.get_case(alps.id, user="alice")
    [file] = case.files
    assert (file.uri, file.assembly, file.file_format) == (f"file://{vcf}", "GRCh37", "VCF")
    assert file.individual_to_file_ids == ((alps.subject.id, "S1"),)
    assert case.features == alps.features
    # attaching the same path again updates the reference instead of adding one
    again = store.attach_vcf(alps.id, vcf, assembly="hg19", sample="S1", user="bob")
    assert again.id == record.id and store.vcfs(alps.id, user="alice") == (again,)
    assert len(store.get_case(alps.id, user="alice").files) == 1


def test_evidence_is_cached_and_equals_a_fresh_read(
    store: Store, alps: Case, vcf: Path, real_kb: KnowledgeBase
) -> None:
    assert store.genome_evidence(alps.id, real_kb, user="alice") is None  # nothing attached
    store.attach_vcf(alps.id, vcf, user="alice")
    fresh = collect_evidence(vcf, kb=real_kb)
    first = store.genome_evidence(alps.id, real_kb, user="alice")
    assert first is not None
    [record] = store.vcfs(alps.id, user="alice")
    assert record.evidence_inputs is not None and record.evidence_at is not None
    assert record.evidence_inputs["format"] == EVIDENCE_VERSION
    assert record.evidence_inputs["sha256"] == record.sha256
    assert record.evidence_inputs["kb_version"] == real_kb.version
    blob = table_rows(store)["vcf_references"][0]["evidence"]
    assert blob[:2] == b"PK"  # a ZIP of .npy arrays
    assert b"pickle" not in blob

    vcf.unlink()  # the cached evidence needs no file
    cached = store.genome_evidence(alps.id, real_kb, user="alice")
    assert cached is not None and cached is not first
    _tables_equal(cached, first)
    fas = cached.gene("FAS")
    assert fas is not None and fas.variants[0].hgvs_p.endswith("p.Gln256Ter")
    fit = fas.fit(InheritanceMode.AUTOSOMAL_DOMINANT)
    assert fit is not None and fit.compatible
    case = store.get_case(alps.id, user="alice")
    ranked = {
        "fresh": diagnose(case, kb=real_kb, genome=fresh, lenient=True).to_dict(),
        "cached": diagnose(case, kb=real_kb, genome=cached, lenient=True).to_dict(),
    }
    assert ranked["fresh"]["diseases"] == ranked["cached"]["diseases"]
    assert ranked["fresh"]["genes"] == ranked["cached"]["genes"]
    assert ranked["cached"]["genes"][0]["symbol"] == "FAS"


def test_a_stale_cache_needs_the_unchanged_file(
    store: Store, alps: Case, vcf: Path, real_kb: KnowledgeBase, toy_kb: KnowledgeBase
) -> None:
    store.attach_vcf(alps.id, vcf, user="alice")
    assert store.genome_evidence(alps.id, real_kb, user="alice") is not None
    original = vcf.read_bytes()
    # another KB makes the cache stale: the file is read again (it is there, unchanged)
    assert store.genome_evidence(alps.id, toy_kb, user="alice") is not None
    [record] = store.vcfs(alps.id, user="alice")
    assert record.evidence_inputs is not None
    assert record.evidence_inputs["kb_version"] == toy_kb.version
    # stale for the real KB now, and the file is gone
    vcf.unlink()
    with pytest.raises(VcfUnavailable, match="missing") as err:
        store.genome_evidence(alps.id, real_kb, user="alice")
    assert err.value.reason == "missing"
    # the file is back with other content (same size, other bytes)
    vcf.write_bytes(original.replace(b"\t0/1:99:40:20,20", b"\t0/1:98:40:20,20"))
    assert len(vcf.read_bytes()) == len(original)
    with pytest.raises(VcfUnavailable, match="changed") as err:
        store.genome_evidence(alps.id, real_kb, user="alice")
    assert err.value.reason == "changed"
    vcf.write_bytes(original + b"")
    assert store.genome_evidence(alps.id, real_kb, user="alice") is not None
    [record] = store.vcfs(alps.id, user="alice")
    assert record.evidence_inputs is not None
    assert record.evidence_inputs["kb_version"] == real_kb.version


def test_a_damaged_or_foreign_cache_is_recomputed(
    store: Store, alps: Case, vcf: Path, real_kb: KnowledgeBase
) -> None:
    store.attach_vcf(alps.id, vcf, user="alice")
    good = store.genome_evidence(alps.id, real_kb, user="alice")
    assert good is not None
    with store.engine.begin() as conn:
        conn.execute(update(m.VcfReference).values(evidence=b"PK\x03\x04 not really a zip"))
    again = store.genome_evidence(alps.id, real_kb, user="alice")
    assert again is not None
    _tables_equal(again, good)
    assert table_rows(store)["vcf_references"][0]["evidence"][:4] == b"PK\x03\x04"


def test_the_cache_never_unpickles(
    tmp_path: Path, real_kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch
) -> None:
    evidence = collect_evidence(ALPS_VCF, kb=real_kb)
    inputs = {"format": EVIDENCE_VERSION, "test": True}
    blob = encode_evidence(evidence, inputs)
    _tables_equal(decode_evidence(blob, real_kb, inputs), evidence)
    with pytest.raises(StaleEvidence, match="other inputs"):
        decode_evidence(blob, real_kb, {**inputs, "test": False})
    # an archive carrying a pickled object: refused, the object is never built
    marker = tmp_path / "executed"
    hostile = io.BytesIO()
    payload = np.empty(1, dtype=object)
    payload[0] = _Hostile(str(marker))
    np.savez(hostile, meta=payload)
    with pytest.raises(StaleEvidence):
        decode_evidence(hostile.getvalue(), real_kb, inputs)
    assert not marker.exists()
    # an archive whose members expand far beyond their compressed size is refused unread
    monkeypatch.setattr(vcfcache, "MAX_EVIDENCE_BYTES", 64 * 1024)
    bomb = io.BytesIO()
    np.savez_compressed(bomb, meta=np.zeros(1024 * 1024, dtype=np.uint8))
    assert len(bomb.getvalue()) < 64 * 1024
    with pytest.raises(StaleEvidence, match="expands"):
        decode_evidence(bomb.getvalue(), real_kb, inputs)
    for junk in (b"", b"not a zip", gzip.compress(b"x")):
        with pytest.raises(StaleEvidence):
            decode_evidence(junk, real_kb, inputs)


class _Hostile:
    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (Path.write_text, (Path(self.path), "pwned"))  # type: ignore[return-value]


def test_reanalysis_uses_the_vcf_while_it_is_valid(
    store: Store, alps: Case, vcf: Path, real_kb: KnowledgeBase, toy_kb: KnowledgeBase
) -> None:
    store.attach_vcf(alps.id, vcf, user="alice")
    store.record_analysis(alps.id, diagnose(alps, kb=toy_kb, lenient=True), user="alice")
    [found] = reanalyze(store, real_kb, user="alice")
    assert found.analysis_id is not None
    latest = store.analyses(alps.id, user="alice")[-1]
    assert latest.results["genome"]["vcf"] == str(vcf)
    assert latest.results["genes"][0]["symbol"] == "FAS"

    def older() -> None:
        ranked = diagnose(alps, kb=real_kb, lenient=True)
        older = dataclasses.replace(ranked, kb_version="hpo-2020-01-01")
        store.record_analysis(alps.id, older, user="alice")

    # due again; the file is gone but the cache is valid for this KB: re-run with it
    older()
    vcf.unlink()
    [found] = reanalyze(store, real_kb, user="alice")
    assert found.analysis_id is not None and not any(c.kind == "not_rerun" for c in found.changes)
    assert store.analyses(alps.id, user="alice")[-1].results["genome"] is not None

    # a stale cache (here: made stale by hand) and no file: not re-run, with the reason
    with store.engine.begin() as conn:
        conn.execute(update(m.VcfReference).values(evidence_inputs={"format": 0}))
    older()
    [found] = reanalyze(store, real_kb, user="alice")
    [change] = found.changes
    assert change.kind == "not_rerun" and found.analysis_id is None
    assert change.detail.startswith("VCF file missing")
    # the file back but changed: not re-run either
    vcf.write_text(ALPS_VCF.read_text().replace("S1", "S2"))
    [found] = reanalyze(store, real_kb, user="alice")
    assert [c.detail.split(":")[0] for c in found.changes] == ["VCF file changed"]
    # the attached content back: re-run, and the cache is valid again
    shutil.copyfile(ALPS_VCF, vcf)
    [found] = reanalyze(store, real_kb, user="alice")
    assert found.analysis_id is not None
    assert reanalyze(store, real_kb, user="alice") == ()


def test_a_vcf_analysis_without_an_attached_vcf_is_not_rerun(
    store: Store, alps: Case, real_kb: KnowledgeBase
) -> None:
    genome = collect_evidence(ALPS_VCF, kb=real_kb)
    ranked = diagnose(alps, kb=real_kb, genome=genome, lenient=True)
    store.record_analysis(
        alps.id, dataclasses.replace(ranked, kb_version="hpo-2020-01-01"), user="alice"
    )
    [found] = reanalyze(store, real_kb, user="alice")
    [change] = found.changes
    assert change.kind == "not_rerun" and "not attached" in change.detail


def test_bad_vcf_input_writes_nothing(
    store: Store, alps: Case, vcf: Path, tmp_path: Path, real_kb: KnowledgeBase
) -> None:
    not_vcf = tmp_path / "notes.txt"
    not_vcf.write_text("not a VCF at all\n")
    unreadable = tmp_path / "locked.vcf"
    shutil.copyfile(ALPS_VCF, unreadable)
    unreadable.chmod(0)
    before = table_rows(store)
    attempts: list[tuple[dict[str, object], str]] = [
        ({"path": tmp_path / "missing.vcf"}, "no such file"),
        ({"path": tmp_path}, "not a regular file"),
        ({"path": not_vcf}, "not a VCF"),
        ({"path": vcf, "assembly": "hg42"}, "unknown genome build"),
        ({"path": vcf, "assembly": "GRCh38"}, "GRCh37"),
        ({"path": vcf, "sample": "S9"}, "no sample 'S9'"),
        ({"path": vcf, "case_id": "nope"}, "no case 'nope'"),
        ({"path": vcf, "user": "carol"}, "in the store"),
        ({"path": vcf, "user": "mallory"}, "unknown user"),
    ]
    try:
        readable = unreadable.open("rb")  # root reads anything
        readable.close()
    except PermissionError:
        attempts.append(({"path": unreadable}, "cannot read"))
    for kwargs, message in attempts:
        arguments: dict[str, object] = {"case_id": alps.id, "user": "alice", **kwargs}
        with pytest.raises(InputError, match=message):
            store.attach_vcf(**arguments)  # type: ignore[arg-type]
    assert table_rows(store) == before
    with pytest.raises(InputError, match="in the store"):
        store.genome_evidence(alps.id, real_kb, user="carol")
    with pytest.raises(InputError, match="in the store"):
        store.vcfs(alps.id, user="carol")
    unreadable.chmod(0o644)


def test_a_trio_vcf_of_a_family_case(
    store: Store, shared_dir: Path, real_kb: KnowledgeBase
) -> None:
    path = shared_dir / "bench" / "vcf" / "scout-trio-643594.vep.b37.vcf.gz"
    if not path.is_file():
        pytest.skip(f"{path} is not present")
    persons = (
        PedigreePerson("643594", "ADM1059A2", "ADM1059A1", "ADM1059A3", Sex.MALE, True),
        PedigreePerson("643594", "ADM1059A1", None, None, Sex.MALE, False),
        PedigreePerson("643594", "ADM1059A3", None, None, Sex.FEMALE, False),
    )
    case = Case(
        id="trio-643594",
        subject=Subject("ADM1059A2", Sex.MALE),
        features=(PhenotypeObservation("HP:0001250"),),
        pedigree=persons,
        family_id="643594",
    )
    store.add_case(case, centre="C1", user="alice")
    record = store.attach_vcf(case.id, path, user="alice")
    assert record.sample is None and record.assembly == "GRCh37"  # the pedigree names samples
    first = store.genome_evidence(case.id, real_kb, user="alice")
    cached = store.genome_evidence(case.id, real_kb, user="alice")
    assert first is not None and cached is not None
    fresh = collect_evidence(path, parse_ped(TRIO_PED), real_kb)
    _tables_equal(cached, first)
    assert cached.counts == fresh.counts and cached.counts["records"] == 680
    recql5 = cached.gene("RECQL5")
    assert recql5 is not None
    fit = recql5.fit(InheritanceMode.AUTOSOMAL_RECESSIVE)
    assert fit is not None and fit.compatible and fit.genotype == "homozygous"
    assert set(fit.segregation.consistent) == {"ADM1059A1 (father)", "ADM1059A3 (mother)"}
