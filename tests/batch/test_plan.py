"""Planning a batch: the cases `read_cases` would read, named as `raredx diagnose --out` names
them, without parsing them on the client."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from raredx.batch import VCF_WEIGHT, BatchItem, chunks, peek_case, plan_items, store_items
from raredx.case import read_cases
from raredx.cli.diagnose import _stem
from tests.batch.conftest import EXAMPLE, phenopacket


def test_items_follow_read_cases_order_and_diagnose_stems(
    tmp_path: Path, write_cases: Callable[..., Path]
) -> None:
    folder = write_cases([phenopacket(f"c{i}", ["HP:0001744"]) for i in (3, 1, 2)])
    (folder / "nested").mkdir()
    (folder / "nested" / "deep.json.gz").write_bytes(
        gzip.compress(json.dumps(phenopacket("deep", ["HP:0001744"])).encode())
    )
    (folder / ".hidden.json").write_text("{}")
    lines = tmp_path / "more.jsonl"
    lines.write_text(
        json.dumps(phenopacket("dup", ["HP:0001744"]))
        + "\n\n"
        + json.dumps(phenopacket("dup", ["HP:0001744"]))
        + "\nnot json\n"
    )
    paths = [folder, lines, EXAMPLE, tmp_path / "missing.json"]

    items = plan_items(paths)
    results = list(read_cases(paths))

    assert [i.source for i in items] == [r.source for r in results]
    assert [i.index for i in items] == list(range(len(items)))
    stems = {i.source: i.stem for i in items}
    used: set[str] = set()
    for r in results:
        if r.case is None:
            continue
        stem, base, k = _stem(r.source, r.case), _stem(r.source, r.case), 2
        while stem in used:
            stem, k = f"{base}_{k}", k + 1
        used.add(stem)
        assert stems[r.source] == stem, r.source
    by_source = {i.source: i for i in items}
    assert by_source[f"{lines}:3"].stem == "dup_2"
    assert by_source[f"{lines}:4"].case_id is None  # "not json": the worker reports it
    missing = by_source[str(tmp_path / "missing.json")]
    assert missing.error is not None and "no such file" in missing.error
    assert (
        by_source[str(folder / "nested" / "deep.json.gz")].data
        == json.dumps(phenopacket("deep", ["HP:0001744"])).encode()
    )
    assert by_source[str(EXAMPLE)].base == str(EXAMPLE.parent)
    assert by_source[f"{lines}:1"].base == str(tmp_path)


def test_folder_without_cases_and_digests(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    [item] = plan_items([empty])
    assert item.error is not None and "no phenopacket files" in item.error

    a = tmp_path / "a.json"
    a.write_text(json.dumps(phenopacket("a", ["HP:0001744"])))
    first = plan_items([a])[0].digest
    a.write_text(json.dumps(phenopacket("a", ["HP:0001873"])))
    assert plan_items([a])[0].digest != first


def test_peek_case_family_and_files() -> None:
    family = {"id": "FAM1", "proband": {"id": "P1"}, "files": [{"uri": "x.vcf"}]}
    assert peek_case(json.dumps(family).encode()) == ("P1", True)
    assert peek_case(b'{"id": " x "}') == ("x", False)
    assert peek_case(b"[1]") == (None, False)
    assert peek_case(b"{oops") == (None, False)


def test_vcf_cases_weigh_more_and_chunks_respect_the_target(tmp_path: Path) -> None:
    with_vcf = phenopacket("v", ["HP:0001744"], files=[{"uri": "v.vcf"}])
    path = tmp_path / "v.json"
    path.write_text(json.dumps(with_vcf))
    [item] = plan_items([path])
    assert item.weight == VCF_WEIGHT

    def it(i: int, w: int = 1) -> BatchItem:
        return BatchItem(i, f"s{i}", f"s{i}", None, b"{}", ".", "", w)

    groups = list(chunks([it(0), it(1), it(2, 50), it(3), it(4), it(5)], 2))
    assert [[i.index for i in g] for g in groups] == [[0, 1], [2], [3, 4], [5]]


def test_store_items_avoid_used_stems() -> None:
    items = store_items([("a/b", "t1"), ("c", "t2")], start=5, used={"a_b"})
    assert [(i.index, i.source, i.stem, i.data) for i in items] == [
        (5, "store:a/b", "a_b_2", None),
        (6, "store:c", "c", None),
    ]
    assert store_items([("c", "t3")])[0].digest != items[1].digest


def test_relative_inputs_get_an_absolute_base(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.json").write_text(json.dumps(phenopacket("a", ["HP:0001744"])))
    monkeypatch.chdir(tmp_path)
    [item] = plan_items([Path("in/a.json")])
    assert item.source == "in/a.json"  # named as given, like `raredx diagnose`
    assert item.base == str(tmp_path / "in")  # workers may run elsewhere
