"""money changed at the payment provider: refund origin, provider refunds recorded
once, disputes on payments and bookings (docs/payments.md "Money changed at the
provider").

Existing refunds are all the service's own (`origin` service); no booking or
payment is disputed yet.

Revision ID: c0a1d2e3f421
Revises: c0a1d2e3f420
Create Date: 2026-12-07 21:05:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c0a1d2e3f421'
down_revision = 'c0a1d2e3f420'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("origin", sa.String(length=10),
                                      server_default="service", nullable=False))
        batch_op.create_check_constraint(
            "origin_valid", "origin IN ('service','provider','dispute')")
        batch_op.create_unique_constraint(
            batch_op.f("uq_refunds_provider_refund_id"), ["provider_refund_id"])
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dispute_status", sa.String(length=10),
                                      nullable=True))
        batch_op.add_column(sa.Column("provider_dispute_id", sa.String(length=255),
                                      nullable=True))
        batch_op.create_check_constraint(
            "dispute_status_valid",
            "dispute_status IS NULL OR dispute_status IN ('open','won','lost')")
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("disputed", sa.Boolean(),
                                      server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.drop_column("disputed")
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_payments_dispute_status_valid"),
                                 type_="check")
        batch_op.drop_column("provider_dispute_id")
        batch_op.drop_column("dispute_status")
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_refunds_provider_refund_id"),
                                 type_="unique")
        batch_op.drop_constraint(batch_op.f("ck_refunds_origin_valid"), type_="check")
        batch_op.drop_column("origin")
