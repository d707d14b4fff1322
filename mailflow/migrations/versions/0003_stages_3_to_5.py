"""meetings, minutes and sign-off, action tracker, acceptance and review

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 07:14:54.953392
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import mailflow.models

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("at", mailflow.models.UTCDateTime(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("actor", sa.String(length=320), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("message_id", sa.String(length=998), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"], ["requests.id"], name=op.f("fk_case_events_request_id_requests")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_events")),
    )
    with op.batch_alter_table("case_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_events_request_id"), ["request_id"], unique=False)

    op.create_table(
        "meetings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("starts_at", mailflow.models.UTCDateTime(), nullable=False),
        sa.Column("ends_at", mailflow.models.UTCDateTime(), nullable=True),
        sa.Column("place", sa.Text(), nullable=False),
        sa.Column("link", sa.Text(), nullable=False),
        sa.Column("materials", sa.Text(), nullable=False),
        sa.Column("questions", sa.Text(), nullable=False),
        sa.Column("organizer", sa.String(length=320), nullable=False),
        sa.Column("uid", sa.String(length=200), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("notice_message_id", sa.String(length=998), nullable=False),
        sa.Column("created_at", mailflow.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"], ["requests.id"], name=op.f("fk_meetings_request_id_requests")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meetings")),
        sa.UniqueConstraint("uid", name=op.f("uq_meetings_uid")),
    )
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_meetings_request_id"), ["request_id"], unique=False)

    op.create_table(
        "reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("department", sa.String(length=200), nullable=False),
        sa.Column("highlights", sa.Text(), nullable=False),
        sa.Column("shortcomings", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("responder", sa.String(length=320), nullable=False),
        sa.Column("replied_at", mailflow.models.UTCDateTime(), nullable=True),
        sa.Column("message_id", sa.String(length=998), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"], ["requests.id"], name=op.f("fk_reviews_request_id_requests")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reviews")),
        sa.UniqueConstraint("request_id", "department", name=op.f("uq_reviews_request_id")),
    )
    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reviews_request_id"), ["request_id"], unique=False)

    op.create_table(
        "meeting_attendees",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("department", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meetings.id"], name=op.f("fk_meeting_attendees_meeting_id_meetings")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_attendees")),
    )
    with op.batch_alter_table("meeting_attendees", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_meeting_attendees_meeting_id"), ["meeting_id"], unique=False
        )

    op.create_table(
        "minutes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("held_at", mailflow.models.UTCDateTime(), nullable=True),
        sa.Column("held_text", sa.Text(), nullable=False),
        sa.Column("place", sa.Text(), nullable=False),
        sa.Column("host", sa.String(length=320), nullable=False),
        sa.Column("recorder", sa.String(length=320), nullable=False),
        sa.Column("discussion", sa.Text(), nullable=False),
        sa.Column("changes", sa.Text(), nullable=False),
        sa.Column("language", sa.String(length=5), nullable=False),
        sa.Column("message_id", sa.String(length=998), nullable=False),
        sa.Column("received_at", mailflow.models.UTCDateTime(), nullable=False),
        sa.Column("confirm_by", mailflow.models.UTCDateTime(), nullable=False),
        sa.Column("confirmed_at", mailflow.models.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meetings.id"], name=op.f("fk_minutes_meeting_id_meetings")
        ),
        sa.ForeignKeyConstraint(
            ["request_id"], ["requests.id"], name=op.f("fk_minutes_request_id_requests")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_minutes")),
        sa.UniqueConstraint("request_id", "version", name=op.f("uq_minutes_request_id")),
    )
    with op.batch_alter_table("minutes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_minutes_request_id"), ["request_id"], unique=False)

    op.create_table(
        "action_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("minutes_id", sa.Integer(), nullable=True),
        sa.Column("department", sa.String(length=200), nullable=False),
        sa.Column("owner", sa.String(length=320), nullable=False),
        sa.Column("owner_name", sa.String(length=200), nullable=False),
        sa.Column("task", sa.Text(), nullable=False),
        sa.Column("due", sa.Date(), nullable=True),
        sa.Column("standard", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", mailflow.models.UTCDateTime(), nullable=False),
        sa.Column("updated_at", mailflow.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["minutes_id"], ["minutes.id"], name=op.f("fk_action_items_minutes_id_minutes")
        ),
        sa.ForeignKeyConstraint(
            ["request_id"], ["requests.id"], name=op.f("fk_action_items_request_id_requests")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_action_items")),
        sa.UniqueConstraint("code", name=op.f("uq_action_items_code")),
    )
    with op.batch_alter_table("action_items", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_action_items_request_id"), ["request_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_action_items_status"), ["status"], unique=False)

    op.create_table(
        "minutes_signers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("minutes_id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("department", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("answered_at", mailflow.models.UTCDateTime(), nullable=True),
        sa.Column("objection", sa.Text(), nullable=False),
        sa.Column("reply_message_id", sa.String(length=998), nullable=False),
        sa.ForeignKeyConstraint(
            ["minutes_id"], ["minutes.id"], name=op.f("fk_minutes_signers_minutes_id_minutes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_minutes_signers")),
        sa.UniqueConstraint("minutes_id", "address", name=op.f("uq_minutes_signers_minutes_id")),
    )
    with op.batch_alter_table("minutes_signers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_minutes_signers_minutes_id"), ["minutes_id"], unique=False
        )

    op.create_table(
        "action_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("at", mailflow.models.UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(length=320), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("old_status", sa.String(length=12), nullable=False),
        sa.Column("new_status", sa.String(length=12), nullable=False),
        sa.Column("old_due", sa.Date(), nullable=True),
        sa.Column("new_due", sa.Date(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("message_id", sa.String(length=998), nullable=False),
        sa.ForeignKeyConstraint(
            ["action_id"], ["action_items.id"], name=op.f("fk_action_events_action_id_action_items")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_action_events")),
    )
    with op.batch_alter_table("action_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_action_events_action_id"), ["action_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_action_events_at"), ["at"], unique=False)

    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("action_code", sa.String(length=20), server_default="", nullable=False)
        )

    with op.batch_alter_table("reply_tokens", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("action_code", sa.String(length=20), server_default="", nullable=False)
        )

    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("acceptance_round", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("acceptance_requested_at", mailflow.models.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(sa.Column("accepted_at", mailflow.models.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("review_due", mailflow.models.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("closed_at", mailflow.models.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.drop_column("closed_at")
        batch_op.drop_column("review_due")
        batch_op.drop_column("accepted_at")
        batch_op.drop_column("acceptance_requested_at")
        batch_op.drop_column("acceptance_round")

    with op.batch_alter_table("reply_tokens", schema=None) as batch_op:
        batch_op.drop_column("action_code")

    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("action_code")

    with op.batch_alter_table("action_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_action_events_at"))
        batch_op.drop_index(batch_op.f("ix_action_events_action_id"))

    op.drop_table("action_events")
    with op.batch_alter_table("minutes_signers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_minutes_signers_minutes_id"))

    op.drop_table("minutes_signers")
    with op.batch_alter_table("action_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_action_items_status"))
        batch_op.drop_index(batch_op.f("ix_action_items_request_id"))

    op.drop_table("action_items")
    with op.batch_alter_table("minutes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_minutes_request_id"))

    op.drop_table("minutes")
    with op.batch_alter_table("meeting_attendees", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_meeting_attendees_meeting_id"))

    op.drop_table("meeting_attendees")
    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reviews_request_id"))

    op.drop_table("reviews")
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_meetings_request_id"))

    op.drop_table("meetings")
    with op.batch_alter_table("case_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_events_request_id"))

    op.drop_table("case_events")
