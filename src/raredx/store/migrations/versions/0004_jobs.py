"""Background jobs, so that every server process answers for every job.

- ``jobs``: id (the random job id), kind, centre_id (centres.id), user_id (users.id), case_id
  (not a foreign key: a job's history outlives nothing, and reanalysis jobs have none), state
  (queued/running/done/failed), created_at, started_at, finished_at, step, error, problems
  (JSON array), result (JSON), active_key (unique while the job is queued or running, NULL
  afterwards), owner_host, owner_pid, owner_token, heartbeat_at (the running process, see
  `raredx.store.jobs`). Indexed by centre, user and finished_at (retention).

A new table: nothing existing is altered, on SQLite as on PostgreSQL.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from raredx.store.models import JsonList, UtcDateTime

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("centre_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.String(length=256), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("started_at", UtcDateTime(), nullable=True),
        sa.Column("finished_at", UtcDateTime(), nullable=True),
        sa.Column("step", sa.String(length=256), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("problems", JsonList(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("active_key", sa.String(length=64), nullable=True),
        sa.Column("owner_host", sa.String(length=512), nullable=False),
        sa.Column("owner_pid", sa.Integer(), nullable=False),
        sa.Column("owner_token", sa.String(length=32), nullable=False),
        sa.Column("heartbeat_at", UtcDateTime(), nullable=False),
        # The vocabulary is frozen here on purpose: a later change needs its own revision.
        sa.CheckConstraint(
            "state IN ('queued', 'running', 'done', 'failed')", name=op.f("ck_jobs_state")
        ),
        sa.ForeignKeyConstraint(
            ["centre_id"], ["centres.id"], name=op.f("fk_jobs_centre_id_centres")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_jobs_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
        sa.UniqueConstraint("active_key", name=op.f("uq_jobs_active_key")),
    )
    op.create_index(op.f("ix_jobs_centre_id"), "jobs", ["centre_id"], unique=False)
    op.create_index(op.f("ix_jobs_user_id"), "jobs", ["user_id"], unique=False)
    op.create_index(op.f("ix_jobs_finished_at"), "jobs", ["finished_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_jobs_finished_at"), table_name="jobs")
    op.drop_index(op.f("ix_jobs_user_id"), table_name="jobs")
    op.drop_index(op.f("ix_jobs_centre_id"), table_name="jobs")
    op.drop_table("jobs")
