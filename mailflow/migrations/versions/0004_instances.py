"""running instances for mailflow status

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 07:52:08.086864
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import mailflow.models

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "instances",
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("role", sa.String(length=12), nullable=False),
        sa.Column("mailbox_state", sa.String(length=300), nullable=False),
        sa.Column("started_at", mailflow.models.UTCDateTime(), nullable=False),
        sa.Column("heartbeat_at", mailflow.models.UTCDateTime(), nullable=False),
        sa.Column("stopped_at", mailflow.models.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_instances")),
    )


def downgrade() -> None:
    op.drop_table("instances")
