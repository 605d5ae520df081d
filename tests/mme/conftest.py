"""MME fixtures: stores on SQLite and PostgreSQL (the store tests' fixtures), example cases,
and node configuration files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from raredx.case import Case, PhenotypeObservation, Sex, Subject, read_phenopacket
from raredx.mme.config import token_digest
from raredx.store import Store
from tests.store.conftest import EXAMPLE, make_store, postgres_server, store_url

__all__ = ["make_store", "postgres_server", "store_url"]

# Tokens each direction; in real use they come from `raredx mme token`.
TOKEN_FROM_B = "token-node-b-sends-to-a-0123456789abcdef"
TOKEN_FROM_A = "token-node-a-sends-to-b-fedcba9876543210"

ALPS_LIKE = (
    "HP:0002716",  # Lymphadenopathy
    "HP:0001744",  # Splenomegaly
    "HP:0001890",  # Autoimmune hemolytic anemia
    "HP:0001873",  # Thrombocytopenia
    "HP:0002851",  # Elevated proportion of double-negative T cells
)
UNRELATED = (
    "HP:0001250",  # Seizure
    "HP:0001263",  # Global developmental delay
    "HP:0000252",  # Microcephaly
    "HP:0001252",  # Hypotonia
)


def simple_case(
    case_id: str,
    subject: str,
    terms: tuple[str, ...],
    *,
    sex: Sex = Sex.FEMALE,
    excluded: tuple[str, ...] = (),
) -> Case:
    """A case with observed `terms` and `excluded` terms, nothing else."""
    features = tuple(PhenotypeObservation(t) for t in terms) + tuple(
        PhenotypeObservation(t, excluded=True) for t in excluded
    )
    return Case(id=case_id, subject=Subject(id=subject, sex=sex), features=features)


def example_case() -> Case:
    """The bundled ALPS example (FAS variant, OMIM:601859, subject DEMO-ALPS-001)."""
    return read_phenopacket(EXAMPLE)


def write_config(
    path: Path, *, centre: str, user: str, peers: list[dict[str, Any]], extra: str = ""
) -> Path:
    """An mme.toml for a node of `centre` read as `user`, with `peers`."""
    lines = [
        "[node]",
        f'centre = "{centre}"',
        f'user = "{user}"',
        f'contact_name = "MME desk, centre {centre}"',
        f'contact_href = "mailto:mme-{centre.lower()}@example.org"',
        'institution = "Test hospital"',
        "min_score = 0.1",
        extra,
    ]
    for peer in peers:
        lines.append("[[peers]]")
        lines.extend(f'{k} = "{v}"' for k, v in peer.items())
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def populate(store: Store, centre: str, user: str, cases: list[tuple[Case, bool]]) -> None:
    """Add a centre, its MME user and `cases` (case, shared with the MME?)."""
    store.add_centre(centre, f"Centre {centre}")
    store.add_user(user, role="geneticist", centre=centre)
    for case, shared in cases:
        store.add_case(case, centre=centre, user=user)
        if shared:
            store.set_mme_sharing(case.id, True, user=user)


@pytest.fixture
def peer_b() -> dict[str, str]:
    """Node A's view of peer B: B may query A with TOKEN_FROM_B (no outgoing URL)."""
    return {"name": "node-b", "accept_token_sha256": token_digest(TOKEN_FROM_B)}
