"""Property tests: arbitrary text never escapes the readers as anything but KnowledgeBaseError."""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from raredx.errors import KnowledgeBaseError
from raredx.kb.sources import (
    read_genes_to_phenotype,
    read_hgnc,
    read_hpoa,
    read_obo,
    read_sssom,
)

_lines = st.lists(
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60), max_size=20
)
_readers = st.sampled_from([read_obo, read_hpoa, read_genes_to_phenotype, read_hgnc, read_sssom])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=_lines, reader=_readers, prefix=st.sampled_from(["", "[Term]\nid: HP:0000001\n"]))
def test_readers_fail_cleanly(lines: list[str], reader: object, prefix: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "input.txt"
        path.write_text(prefix + "\n".join(lines), encoding="utf-8")
        with contextlib.suppress(KnowledgeBaseError):
            reader(path)  # type: ignore[operator]
