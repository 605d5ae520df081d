"""The first schema: centres, users, patients, cases, observations, VCFs, analyses, decisions,
audit log.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from raredx.store.models import UtcDateTime

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _one_of(column: str, allowed: tuple[str, ...]) -> sa.CheckConstraint:
    # The vocabularies are frozen here on purpose: a later change needs its own revision.
    values = ", ".join(f"'{v}'" for v in allowed)
    return sa.CheckConstraint(f"{column} IN ({values})", name=column)


def upgrade() -> None:
    op.create_table(
        "centres",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("name", sa.String(256), nullable=False),
        sa.UniqueConstraint("code"),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("centre_id", sa.Integer(), sa.ForeignKey("centres.id"), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.String(256), nullable=True),
        sa.UniqueConstraint("name"),
        _one_of("role", ("clinician", "geneticist", "admin")),
    )
    op.create_index(op.f("ix_users_centre_id"), "users", ["centre_id"])
    op.create_table(
        "patients",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("centre_id", sa.Integer(), sa.ForeignKey("centres.id"), nullable=False),
        sa.Column("pseudonym", sa.String(128), nullable=False),
        sa.UniqueConstraint("centre_id", "pseudonym"),
    )
    op.create_index(op.f("ix_patients_centre_id"), "patients", ["centre_id"])
    op.create_table(
        "cases",
        sa.Column("id", sa.String(256), primary_key=True),
        sa.Column("patient_id", sa.Integer(), sa.ForeignKey("patients.id"), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("phenopacket", sa.JSON(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        _one_of("status", ("unsolved", "solved")),
    )
    op.create_index(op.f("ix_cases_patient_id"), "cases", ["patient_id"])
    op.create_table(
        "phenotype_observations",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "case_id", sa.String(256), sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("term_id", sa.String(64), nullable=False),
        sa.Column("excluded", sa.Boolean(), nullable=False),
        sa.Column("provenance", sa.String(16), nullable=False),
        sa.Column("review_status", sa.String(16), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=True),
        _one_of("provenance", ("typed", "note", "labs", "phenopacket")),
        _one_of("review_status", ("proposed", "accepted", "rejected")),
    )
    op.create_index(
        op.f("ix_phenotype_observations_case_id"), "phenotype_observations", ["case_id"]
    )
    op.create_index(
        op.f("ix_phenotype_observations_term_id"), "phenotype_observations", ["term_id"]
    )
    op.create_table(
        "vcf_references",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "case_id", sa.String(256), sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("assembly", sa.String(32), nullable=True),
        sa.Column("sample", sa.String(256), nullable=True),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("evidence", sa.LargeBinary(), nullable=True),
    )
    op.create_index(op.f("ix_vcf_references_case_id"), "vcf_references", ["case_id"])
    op.create_table(
        "analyses",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "case_id", sa.String(256), sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("kb_version", sa.String(64), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("results", sa.JSON(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
    )
    op.create_index(op.f("ix_analyses_case_id"), "analyses", ["case_id"])
    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "case_id", sa.String(256), sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        _one_of("kind", ("diagnosis_confirmed", "variant_classified")),
    )
    op.create_index(op.f("ix_decisions_case_id"), "decisions", ["case_id"])
    op.create_index(op.f("ix_decisions_user_id"), "decisions", ["user_id"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("action", sa.String(8), nullable=False),
        sa.Column("entity", sa.String(32), nullable=False),
        sa.Column("entity_id", sa.String(256), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        _one_of("action", ("read", "write")),
    )
    op.create_index(op.f("ix_audit_log_user_id"), "audit_log", ["user_id"])
    op.create_index(op.f("ix_audit_log_at"), "audit_log", ["at"])


def downgrade() -> None:
    for table in (
        "audit_log",
        "decisions",
        "analyses",
        "vcf_references",
        "phenotype_observations",
        "cases",
        "patients",
        "users",
        "centres",
    ):
        op.drop_table(table)
