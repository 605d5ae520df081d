"""Observation review (who, when), VCF content identity and evidence cache, MME sharing.

- ``phenotype_observations``: ``label``, ``reviewed_by`` (users.id, nullable), ``reviewed_at``.
  Revision 0001 code kept the term label in ``evidence``: it moves to ``label``.
- ``vcf_references``: ``size``, ``evidence_inputs`` (JSON), ``evidence_at``.
- ``cases``: ``mme_shared`` (boolean, false for existing cases).

Columns are added with ``ALTER TABLE ... ADD COLUMN`` on both databases: on SQLite the tables
are *not* copied and recreated, because dropping ``cases`` with foreign keys on would cascade
into its observations, VCFs, analyses and decisions. The downgrade recreates the two child
tables on SQLite (nothing references them) and drops ``cases.mme_shared`` in place.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from raredx.store.models import UtcDateTime

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FK_REVIEWER = "fk_phenotype_observations_reviewed_by_users"


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        # SQLite: a REFERENCES clause may be added with the column (its default is NULL).
        op.execute(
            "ALTER TABLE phenotype_observations ADD COLUMN reviewed_by INTEGER "
            f"CONSTRAINT {_FK_REVIEWER} REFERENCES users (id)"
        )
    else:
        op.add_column("phenotype_observations", sa.Column("reviewed_by", sa.Integer()))
        op.create_foreign_key(
            _FK_REVIEWER, "phenotype_observations", "users", ["reviewed_by"], ["id"]
        )
    op.add_column("phenotype_observations", sa.Column("reviewed_at", UtcDateTime()))
    op.add_column("phenotype_observations", sa.Column("label", sa.String(256)))
    # Revision 0001 code stored the term label as the evidence of every observation.
    op.execute(
        "UPDATE phenotype_observations SET label = SUBSTR(evidence, 1, 256), evidence = NULL"
    )
    op.create_index(
        op.f("ix_phenotype_observations_reviewed_by"), "phenotype_observations", ["reviewed_by"]
    )
    op.add_column("vcf_references", sa.Column("size", sa.BigInteger()))
    op.add_column("vcf_references", sa.Column("evidence_inputs", sa.JSON()))
    op.add_column("vcf_references", sa.Column("evidence_at", UtcDateTime()))
    # A plain string default ('0' is false on both databases) keeps SQLite on ALTER TABLE.
    op.add_column(
        "cases", sa.Column("mme_shared", sa.Boolean(), nullable=False, server_default="0")
    )


def downgrade() -> None:
    op.drop_column("cases", "mme_shared")  # SQLite >= 3.35: in place, no recreation
    op.drop_index(op.f("ix_phenotype_observations_reviewed_by"), "phenotype_observations")
    op.execute("UPDATE phenotype_observations SET evidence = label WHERE evidence IS NULL")
    with op.batch_alter_table("phenotype_observations") as batch:
        if op.get_bind().dialect.name != "sqlite":
            batch.drop_constraint(_FK_REVIEWER, type_="foreignkey")
        batch.drop_column("label")
        batch.drop_column("reviewed_at")
        batch.drop_column("reviewed_by")
    with op.batch_alter_table("vcf_references") as batch:
        batch.drop_column("evidence_at")
        batch.drop_column("evidence_inputs")
        batch.drop_column("size")
