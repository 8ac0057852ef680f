"""otp_codes.new_email: the pending address of an email change

Revision ID: c0a1d2e3f411
Revises: c0a1d2e3f410
Create Date: 2026-12-01 14:50:00

"""
import sqlalchemy as sa
from alembic import op

revision = "c0a1d2e3f411"
down_revision = "c0a1d2e3f410"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("otp_codes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("new_email", sa.String(length=254), nullable=True))


def downgrade():
    with op.batch_alter_table("otp_codes", schema=None) as batch_op:
        batch_op.drop_column("new_email")
