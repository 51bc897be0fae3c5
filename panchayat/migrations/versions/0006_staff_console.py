"""staff console: accounts, sessions, login attempts

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

ROLES = "role IN ('clerk', 'pradhan', 'secretary', 'block_officer', 'administrator', 'trainer')"


def upgrade() -> None:
    op.create_table(
        "staff_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=40), nullable=False),
        sa.Column("full_name", sa.String(length=120), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("gp_code", sa.Integer(), nullable=True),
        sa.Column("block_code", sa.Integer(), nullable=True),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("must_change_password", sa.Boolean(), nullable=False),
        sa.Column("one_time_password_expires_at", sa.DateTime(), nullable=True),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_login_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint(ROLES, name=op.f("ck_staff_accounts_role")),
        sa.CheckConstraint("language IN ('bn', 'en')", name=op.f("ck_staff_accounts_language")),
        sa.ForeignKeyConstraint(
            ["gp_code"], ["gram_panchayats.lgd_code"], name=op.f("fk_staff_accounts_gp_code_gram_panchayats")
        ),
        sa.ForeignKeyConstraint(["block_code"], ["blocks.lgd_code"], name=op.f("fk_staff_accounts_block_code_blocks")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_accounts")),
        sa.UniqueConstraint("username", name=op.f("uq_staff_accounts_username")),
    )
    with op.batch_alter_table("staff_accounts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_staff_accounts_gp_code"), ["gp_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_staff_accounts_block_code"), ["block_code"], unique=False)
    op.create_table(
        "staff_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["staff_accounts.id"], name=op.f("fk_staff_sessions_account_id_staff_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_staff_sessions_token_hash")),
    )
    with op.batch_alter_table("staff_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_staff_sessions_account_id"), ["account_id"], unique=False)
    op.create_table(
        "staff_login_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("client_hash", sa.String(length=64), nullable=False),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_login_attempts")),
    )
    with op.batch_alter_table("staff_login_attempts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_staff_login_attempts_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_staff_login_attempts_client_hash"), ["client_hash"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("staff_login_attempts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_login_attempts_client_hash"))
        batch_op.drop_index(batch_op.f("ix_staff_login_attempts_at"))
    op.drop_table("staff_login_attempts")
    with op.batch_alter_table("staff_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_sessions_account_id"))
    op.drop_table("staff_sessions")
    with op.batch_alter_table("staff_accounts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_accounts_block_code"))
        batch_op.drop_index(batch_op.f("ix_staff_accounts_gp_code"))
    op.drop_table("staff_accounts")
