"""card payments through the provider: payment attempts, provider events, provider
refunds (refunds.status `failed`, payment_id, provider_refund_id, failure_message)

Revision ID: c0a1d2e3f410
Revises: 7b3e52c1a9d4
Create Date: 2026-12-01 14:40:00

"""
from alembic import op
import sqlalchemy as sa

revision = "c0a1d2e3f410"
down_revision = "7b3e52c1a9d4"
branch_labels = None
depends_on = None

MONEY = sa.Numeric(12, 2)


def upgrade():
    op.create_table(
        "payment_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("provider_payment_id", sa.String(length=255), nullable=False),
        sa.Column("client_secret", sa.String(length=255), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("received_amount", MONEY, nullable=True),
        sa.Column("amount_mismatch", sa.Boolean(), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=True),
        sa.Column("provider_refund_id", sa.String(length=255), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_payment_attempts_amount_positive")),
        sa.CheckConstraint(
            "status IN ('pending','succeeded','failed','refund_pending','refunded')",
            name=op.f("ck_payment_attempts_status_valid"),
        ),
        sa.ForeignKeyConstraint(["booking_id"], ["bookings.id"], ondelete="RESTRICT",
                                name=op.f("fk_payment_attempts_booking_id_bookings")),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], ondelete="RESTRICT",
                                name=op.f("fk_payment_attempts_customer_id_customers")),
        sa.ForeignKeyConstraint(["payment_id"], ["payments.id"], ondelete="RESTRICT",
                                name=op.f("fk_payment_attempts_payment_id_payments")),
        sa.ForeignKeyConstraint(["created_by_id"], ["employees.id"], ondelete="SET NULL",
                                name=op.f("fk_payment_attempts_created_by_id_employees")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_attempts")),
        sa.UniqueConstraint("payment_id", name=op.f("uq_payment_attempts_payment_id")),
        sa.UniqueConstraint("provider_payment_id",
                            name=op.f("uq_payment_attempts_provider_payment_id")),
    )
    with op.batch_alter_table("payment_attempts", schema=None) as batch_op:
        for column in ("booking_id", "customer_id", "status", "created_at"):
            batch_op.create_index(batch_op.f(f"ix_payment_attempts_{column}"), [column])
    op.create_table(
        "provider_events",
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("type", sa.String(length=100), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provider_events")),
    )
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("payment_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("provider_refund_id", sa.String(length=255),
                                      nullable=True))
        batch_op.add_column(sa.Column("failure_message", sa.Text(), nullable=True))
        batch_op.create_index(batch_op.f("ix_refunds_payment_id"), ["payment_id"])
        batch_op.create_foreign_key(batch_op.f("fk_refunds_payment_id_payments"), "payments",
                                    ["payment_id"], ["id"], ondelete="RESTRICT")
        batch_op.drop_constraint(batch_op.f("ck_refunds_status_valid"), type_="check")
        batch_op.create_check_constraint(
            "status_valid", "status IN ('pending','completed','failed')"
        )


def downgrade():
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_refunds_status_valid"), type_="check")
        batch_op.create_check_constraint("status_valid", "status IN ('pending','completed')")
        batch_op.drop_constraint(batch_op.f("fk_refunds_payment_id_payments"),
                                 type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_refunds_payment_id"))
        batch_op.drop_column("failure_message")
        batch_op.drop_column("provider_refund_id")
        batch_op.drop_column("payment_id")
    op.drop_table("provider_events")
    with op.batch_alter_table("payment_attempts", schema=None) as batch_op:
        for column in ("created_at", "status", "customer_id", "booking_id"):
            batch_op.drop_index(batch_op.f(f"ix_payment_attempts_{column}"))
    op.drop_table("payment_attempts")
