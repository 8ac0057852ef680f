"""customer_merge_requests: merges of customers whose emails and phones do not match
wait for a second employee's approval (maker-checker; docs/sales-pipeline.md
"Merge", docs/security.md "Merging customers").

No request exists before this revision: every merge so far was made at once.

Revision ID: c0a1d2e3f420
Revises: c0a1d2e3f419
Create Date: 2026-12-07 20:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c0a1d2e3f420'
down_revision = 'c0a1d2e3f419'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('customer_merge_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('from_customer_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('rejection_reason', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('pending','approved','rejected')", name=op.f('ck_customer_merge_requests_status_valid')),
    sa.CheckConstraint('customer_id <> from_customer_id', name=op.f('ck_customer_merge_requests_distinct_customers')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_customer_merge_requests_customer_id_customers'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['decided_by_id'], ['employees.id'], name=op.f('fk_customer_merge_requests_decided_by_id_employees'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['from_customer_id'], ['customers.id'], name=op.f('fk_customer_merge_requests_from_customer_id_customers'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['requested_by_id'], ['employees.id'], name=op.f('fk_customer_merge_requests_requested_by_id_employees'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customer_merge_requests'))
    )
    with op.batch_alter_table('customer_merge_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customer_merge_requests_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_customer_merge_requests_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_customer_merge_requests_from_customer_id'), ['from_customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_customer_merge_requests_status'), ['status'], unique=False)


def downgrade():
    with op.batch_alter_table('customer_merge_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customer_merge_requests_status'))
        batch_op.drop_index(batch_op.f('ix_customer_merge_requests_from_customer_id'))
        batch_op.drop_index(batch_op.f('ix_customer_merge_requests_customer_id'))
        batch_op.drop_index(batch_op.f('ix_customer_merge_requests_created_at'))

    op.drop_table('customer_merge_requests')
