"""WhatsApp channel: inbound message ids (de-duplication) and outbound messages (receipts, menus)

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "whatsapp_inbound",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("wamid", sa.String(length=255), nullable=False),
        sa.Column("sender_hash", sa.String(length=64), nullable=False),
        sa.Column("message_type", sa.String(length=30), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("processed", sa.Boolean(), nullable=False),
        sa.Column("processed_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_whatsapp_inbound")),
        sa.UniqueConstraint("wamid", name=op.f("uq_whatsapp_inbound_wamid")),
    )
    with op.batch_alter_table("whatsapp_inbound", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_whatsapp_inbound_sender_hash"), ["sender_hash"], unique=False)

    op.create_table(
        "whatsapp_outbound",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider_message_id", sa.String(length=255), nullable=True),
        sa.Column("recipient_hash", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("menu", sa.JSON(), nullable=True),
        sa.Column("sent_at", sa.DateTime(), nullable=False),
        sa.Column("status_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint(
            "status IN ('accepted', 'sent', 'delivered', 'read', 'failed')", name=op.f("ck_whatsapp_outbound_status")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_whatsapp_outbound")),
        sa.UniqueConstraint("provider_message_id", name=op.f("uq_whatsapp_outbound_provider_message_id")),
    )
    with op.batch_alter_table("whatsapp_outbound", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_whatsapp_outbound_recipient_hash"), ["recipient_hash"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("whatsapp_outbound", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_whatsapp_outbound_recipient_hash"))
    op.drop_table("whatsapp_outbound")
    with op.batch_alter_table("whatsapp_inbound", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_whatsapp_inbound_sender_hash"))
    op.drop_table("whatsapp_inbound")
