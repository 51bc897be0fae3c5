"""Notification delivery over WhatsApp: claims with a lease, backoff, and outbound messages tied to
their notification

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Batch mode: SQLite can neither add a foreign key nor change a check constraint in place.
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claim_token", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("claimed_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("next_attempt_at", sa.DateTime(), nullable=True))
        batch_op.drop_constraint(batch_op.f("ck_notifications_status"), type_="check")
        batch_op.create_check_constraint(
            batch_op.f("ck_notifications_status"), "status IN ('pending', 'sending', 'sent', 'failed')"
        )

    with op.batch_alter_table("whatsapp_outbound", schema=None) as batch_op:
        batch_op.add_column(sa.Column("notification_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_whatsapp_outbound_notification_id"), ["notification_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_whatsapp_outbound_notification_id_notifications"),
            "notifications",
            ["notification_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("whatsapp_outbound", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_whatsapp_outbound_notification_id_notifications"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_whatsapp_outbound_notification_id"))
        batch_op.drop_column("notification_id")

    # A row caught mid-delivery goes back to the queue: the old schema knows no "sending".
    op.execute("UPDATE notifications SET status = 'pending' WHERE status = 'sending'")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_notifications_status"), type_="check")
        batch_op.create_check_constraint(
            batch_op.f("ck_notifications_status"), "status IN ('pending', 'sent', 'failed')"
        )
        batch_op.drop_column("next_attempt_at")
        batch_op.drop_column("claimed_at")
        batch_op.drop_column("claim_token")
