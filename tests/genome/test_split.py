"""Reading a bgzipped VCF in parts by several processes gives exactly the one-pass result."""

from __future__ import annotations

import gzip
import os
import random
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest

from raredx.errors import InputError
from raredx.genome import GenomeEvidence, _collect, collect_evidence, parse_ped, read_header
from raredx.genome._split import (
    FEED_BAD_NUMBER,
    FEED_OK,
    Part,
    feed_part,
    header_bytes,
    plan_parts,
)
from raredx.genome._table import VariantTable
from raredx.kb import KnowledgeBase

from .conftest import TRIO_PED, Genes, VcfFactory, call, record

_EOF = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")


def bgzip(path: Path, text: bytes, block: int) -> Path:
    """Write `text` as BGZF with `block`-byte blocks (small blocks: lines span blocks)."""
    with path.open("wb") as out:
        for i in range(0, len(text), block):
            data = text[i : i + block]
            comp = zlib.compressobj(6, zlib.DEFLATED, -15)
            body = comp.compress(data) + comp.flush()
            head = b"\x1f\x8b\x08\x04\x00\x00\x00\x00\x00\xff\x06\x00BC\x02\x00"
            out.write(head + struct.pack("<H", len(body) + 25) + body)
            out.write(struct.pack("<II", zlib.crc32(data), len(data)))
        out.write(_EOF)
    return path


def _records(genes: Genes, n: int, seed: int = 3) -> list[str]:
    """Sorted trio records in and around test genes, with frequencies, filters and phasing."""
    rng = random.Random(seed)
    sites = sorted(
        {
            (chrom, base + rng.randint(-3000, 3000))
            for chrom, base in [("15", genes.fbn1), ("7", genes.pex1), ("X", genes.dmd)]
            for _ in range(n // 3)
        },
        key=lambda cp: (["7", "15", "X"].index(cp[0]), cp[1]),
    )
    out = []
    gts = ["0/1", "1/1", "0/0", "0|1", "1|0", "./.", "1/2"]
    for chrom, pos in sites:
        gt = rng.choice(gts)
        alt = "T,G" if gt == "1/2" else "T"
        af = rng.choice(["", "gnomAD_AF=0.2", "gnomAD_AF=0.0001", "gnomAD_AF=0.03"])
        if af and gt == "1/2":
            af += ",0.001"
        filt = rng.choice(["PASS", "PASS", "LowQual", "VQSRTrancheSNP99.90to100.00"])
        out.append(
            record(
                chrom,
                pos,
                "A",
                alt,
                call(gt, gq=rng.choice([10, 60, 99]), ad="0,5,5" if gt == "1/2" else None),
                call(rng.choice(gts[:3])),
                call(rng.choice(gts[:3])),
                info=af or ".",
                filt=filt,
            )
        )
    return out


def _evidence_parts(
    path: Path, kb: KnowledgeBase, workers: int, monkeypatch: pytest.MonkeyPatch
) -> GenomeEvidence:
    """`_evidence`, asserting that the parts were read (no fallback to one pass)."""
    done: list[int] = []
    original = _collect.Collector._run_parts

    def spy(self: _collect.Collector, parts: list[Part]) -> VariantTable:
        table = original(self, parts)
        done.append(len(parts))
        return table

    monkeypatch.setattr(_collect.Collector, "_run_parts", spy)
    evidence = _evidence(path, kb, workers, monkeypatch)
    monkeypatch.setattr(_collect.Collector, "_run_parts", original)
    assert done and done[0] >= 2
    return evidence


def _evidence(
    path: Path, kb: KnowledgeBase, workers: int, monkeypatch: pytest.MonkeyPatch
) -> GenomeEvidence:
    monkeypatch.setenv("RAREDX_GENOME_WORKERS", str(workers))
    return collect_evidence(path, parse_ped(TRIO_PED.format(sex=1), proband="kid"), kb)


def _same(a: GenomeEvidence, b: GenomeEvidence) -> None:
    assert a.counts == b.counts
    assert list(a.counts) == list(b.counts)
    assert len(a.table) == len(b.table)
    for name, col in a.table.rows.items():
        np.testing.assert_array_equal(col, b.table.rows[name], err_msg=name)
    for name, col in a.table.samples.items():
        np.testing.assert_array_equal(col, b.table.samples[name], err_msg=name)
    assert [a.table.text.get(i) for i in range(len(a.table))] == [
        b.table.text.get(i) for i in range(len(b.table))
    ]
    assert (a.vocab.filters, a.vocab.fields, a.vocab.consequences) == (
        b.vocab.filters,
        b.vocab.fields,
        b.vocab.consequences,
    )
    assert a.compatible_modes() == b.compatible_modes()
    assert [a.gene(g) for g in a.gene_indices] == [b.gene(g) for g in b.gene_indices]
    assert [a.variants(g) for g in a.gene_indices] == [b.variants(g) for g in b.gene_indices]


@pytest.mark.parametrize("block", [97, 1000, 65280])
def test_parts_give_the_one_pass_result(
    vcfs: VcfFactory,
    genes: Genes,
    real_kb: KnowledgeBase,
    monkeypatch: pytest.MonkeyPatch,
    block: int,
) -> None:
    text = vcfs.write(_records(genes, 600), ("kid", "dad", "mum")).read_bytes()
    path = bgzip(vcfs.folder / "trio.vcf.gz", text, block)
    assert read_header(path).compression == "bgzip"
    one = _evidence(path, real_kb, 1, monkeypatch)
    assert one.counts["records"] > 500 and len(one.table) > 100
    for workers in (2, 3):
        if block < 65280:
            _same(one, _evidence_parts(path, real_kb, workers, monkeypatch))
        else:
            _same(one, _evidence(path, real_kb, workers, monkeypatch))


@pytest.mark.parametrize("parts", [2, 3, 5])
@pytest.mark.parametrize("block", [50, 333, 4096])
def test_every_line_goes_to_exactly_one_part(tmp_path: Path, parts: int, block: int) -> None:
    head = "##fileformat=VCFv4.2\n##contig=<ID=1,length=249250621>\n"
    head += "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
    body = "".join(f"1\t{i}\t.\tA\tT\t.\tPASS\tX={'y' * (i % 37)}\n" for i in range(1, 400))
    path = bgzip(tmp_path / "t.vcf.gz", (head + body).encode(), block)
    header = read_header(path, "GRCh37")
    plan = plan_parts(header, parts)
    assert plan is not None and plan[0].first and plan[-1].last
    prefix = header_bytes(str(path))
    assert prefix == head.encode()
    texts = []
    for part in plan:
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - child
            os.close(r)
            os._exit(feed_part(header, part, b"" if part.first else prefix, [], w))
        os.close(w)
        with os.fdopen(r, "rb") as stream:
            texts.append(stream.read())
        assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == FEED_OK
    assert texts[0].startswith(prefix)
    assert all(t.startswith(prefix) for t in texts[1:])
    joined = texts[0] + b"".join(t[len(prefix) :] for t in texts[1:])
    assert joined == (head + body).encode()


def test_feeder_reports_malformed_numbers(tmp_path: Path) -> None:
    head = "##fileformat=VCFv4.2\n##contig=<ID=1,length=249250621>\n"
    head += '##INFO=<ID=AF,Number=A,Type=Float,Description="x">\n'
    head += "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
    body = "".join(
        f"1\t{i}\t.\tA\tT\t.\tPASS\tAF={'x' if i == 300 else '0.1'}\n" for i in range(1, 400)
    )
    path = bgzip(tmp_path / "t.vcf.gz", (head + body).encode(), 200)
    header = read_header(path, "GRCh37")
    plan = plan_parts(header, 2)
    assert plan is not None
    fd = os.open(os.devnull, os.O_WRONLY)
    try:
        assert feed_part(header, plan[-1], header_bytes(str(path)), ["AF"], fd) == FEED_BAD_NUMBER
    finally:
        os.close(fd)


def test_a_failing_part_falls_back_to_the_one_pass_error(
    vcfs: VcfFactory, genes: Genes, real_kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = _records(genes, 300)
    bad = len(records) * 3 // 4
    chrom, pos = records[bad].split("\t")[:2]
    records[bad] = record(
        chrom, int(pos), "A", "T", call("0/1"), call("0/0"), call("0/0"), info="gnomAD_AF=abc"
    )
    text = vcfs.write(records, ("kid", "dad", "mum")).read_bytes()
    path = bgzip(vcfs.folder / "bad.vcf.gz", text, 500)
    messages = []
    for workers in (1, 2):
        with pytest.raises(InputError) as err:
            _evidence(path, real_kb, workers, monkeypatch)
        messages.append(str(err.value))
    assert messages[0] == messages[1] and "malformed INFO/gnomAD_AF" in messages[0]


def test_beyond_contig_error_is_the_one_pass_error(
    vcfs: VcfFactory, genes: Genes, real_kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = _records(genes, 300)
    records.append(record("X", 200_000_000, "A", "T", call("0/1"), call("0/0"), call("0/0")))
    text = vcfs.write(records, ("kid", "dad", "mum")).read_bytes()
    path = bgzip(vcfs.folder / "beyond.vcf.gz", text, 500)
    messages = []
    for workers in (1, 2):
        with pytest.raises(InputError) as err:
            _evidence(path, real_kb, workers, monkeypatch)
        messages.append(str(err.value))
    assert messages[0] == messages[1] and "beyond the end of chromosome X" in messages[0]


def test_files_that_cannot_be_split(vcfs: VcfFactory, genes: Genes) -> None:
    records = _records(genes, 60)
    plain = vcfs.write(records, ("kid", "dad", "mum"))
    gz = vcfs.folder / "plain.vcf.gz"
    gz.write_bytes(gzip.compress(plain.read_bytes()))
    assert plan_parts(read_header(plain), 2) is None
    assert plan_parts(read_header(gz), 2) is None  # gzip, not BGZF
    one_block = bgzip(vcfs.folder / "one.vcf.gz", plain.read_bytes(), 65280)
    assert plan_parts(read_header(one_block), 2) is None  # the header's block is the only one
