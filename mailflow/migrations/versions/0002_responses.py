"""responses: chaser and escalation times, reply tokens

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 06:48:11.065007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import mailflow.models

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reply_tokens",
        sa.Column("token", sa.String(length=40), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=60), nullable=False),
        sa.Column("department", sa.String(length=200), nullable=False),
        sa.Column("created_at", mailflow.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"], ["requests.id"], name=op.f("fk_reply_tokens_request_id_requests")
        ),
        sa.PrimaryKeyConstraint("token", name=op.f("pk_reply_tokens")),
    )
    with op.batch_alter_table("reply_tokens", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_reply_tokens_request_id"), ["request_id"], unique=False
        )

    with op.batch_alter_table("request_departments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("chased_at", mailflow.models.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("escalated_at", mailflow.models.UTCDateTime(), nullable=True))

    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("failed_at", mailflow.models.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("failed_at")

    with op.batch_alter_table("request_departments", schema=None) as batch_op:
        batch_op.drop_column("escalated_at")
        batch_op.drop_column("chased_at")

    with op.batch_alter_table("reply_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reply_tokens_request_id"))

    op.drop_table("reply_tokens")
