"""trainers' inbox of messages the assistant did not understand

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "nlu_inbox_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("variants", sa.JSON(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("guess_intent", sa.String(length=60), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("first_seen_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("label_intent", sa.String(length=60), nullable=True),
        sa.Column("label_entities", sa.JSON(), nullable=True),
        sa.Column("labelled_by", sa.String(length=120), nullable=True),
        sa.Column("labelled_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("status IN ('new', 'labelled', 'not_for_us')", name=op.f("ck_nlu_inbox_items_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nlu_inbox_items")),
        sa.UniqueConstraint("key", name=op.f("uq_nlu_inbox_items_key")),
    )
    with op.batch_alter_table("nlu_inbox_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_nlu_inbox_items_last_seen_at"), ["last_seen_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_nlu_inbox_items_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("nlu_inbox_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_nlu_inbox_items_status"))
        batch_op.drop_index(batch_op.f("ix_nlu_inbox_items_last_seen_at"))
    op.drop_table("nlu_inbox_items")
