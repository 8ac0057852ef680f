"""money: invoices, payments, refunds, wallet ledger, departure categories

Revision ID: 4d6a3781c6da
Revises: 514ef4368a32
Create Date: 2026-11-21 00:22:39.476783

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '4d6a3781c6da'
down_revision = '514ef4368a32'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('document_sequences',
    sa.Column('name', sa.String(length=20), nullable=False),
    sa.Column('last_value', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_document_sequences'))
    )
    op.create_table('departure_categories',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('departure_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=20), nullable=False),
    sa.Column('price', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=True),
    sa.Column('seats_taken', sa.Integer(), nullable=False),
    sa.CheckConstraint('capacity IS NULL OR capacity >= 0', name=op.f('ck_departure_categories_capacity_non_negative')),
    sa.CheckConstraint('price >= 0', name=op.f('ck_departure_categories_price_non_negative')),
    sa.CheckConstraint('seats_taken >= 0 AND (capacity IS NULL OR seats_taken <= capacity)', name=op.f('ck_departure_categories_seats_within_capacity')),
    sa.ForeignKeyConstraint(['departure_id'], ['departures.id'], name=op.f('fk_departure_categories_departure_id_departures'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_departure_categories')),
    sa.UniqueConstraint('departure_id', 'category', name='uq_departure_categories_dep_cat')
    )
    with op.batch_alter_table('departure_categories', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_departure_categories_departure_id'), ['departure_id'], unique=False)

    op.create_table('invoices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('total_amount', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('issue_date', sa.Date(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('total_amount >= 0', name=op.f('ck_invoices_total_non_negative')),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_invoices_booking_id_bookings'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_invoices_customer_id_customers'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoices')),
    sa.UniqueConstraint('booking_id', name=op.f('uq_invoices_booking_id')),
    sa.UniqueConstraint('number', name=op.f('uq_invoices_number'))
    )
    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invoices_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_invoices_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_invoices_due_date'), ['due_date'], unique=False)

    op.create_table('refunds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('destination', sa.String(length=10), nullable=False),
    sa.Column('method', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('reference', sa.String(length=120), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('completed_by_id', sa.Integer(), nullable=True),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("destination IN ('wallet','original')", name=op.f('ck_refunds_destination_valid')),
    sa.CheckConstraint("status IN ('pending','completed')", name=op.f('ck_refunds_status_valid')),
    sa.CheckConstraint('amount > 0', name=op.f('ck_refunds_amount_positive')),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_refunds_booking_id_bookings'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['completed_by_id'], ['employees.id'], name=op.f('fk_refunds_completed_by_id_employees'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by_id'], ['employees.id'], name=op.f('fk_refunds_created_by_id_employees'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_refunds_customer_id_customers'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_refunds'))
    )
    with op.batch_alter_table('refunds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_refunds_booking_id'), ['booking_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_refunds_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_refunds_customer_id'), ['customer_id'], unique=False)

    op.create_table('credit_notes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount > 0', name=op.f('ck_credit_notes_amount_positive')),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoices.id'], name=op.f('fk_credit_notes_invoice_id_invoices'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_notes')),
    sa.UniqueConstraint('number', name=op.f('uq_credit_notes_number'))
    )
    with op.batch_alter_table('credit_notes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_credit_notes_invoice_id'), ['invoice_id'], unique=False)

    op.create_table('payments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('method', sa.String(length=20), nullable=False),
    sa.Column('reference', sa.String(length=120), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("method IN ('card','bank_transfer','cash','wallet')", name=op.f('ck_payments_method_valid')),
    sa.CheckConstraint('amount > 0', name=op.f('ck_payments_amount_positive')),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_payments_booking_id_bookings'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_payments_customer_id_customers'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoices.id'], name=op.f('fk_payments_invoice_id_invoices'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['employees.id'], name=op.f('fk_payments_recorded_by_id_employees'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payments'))
    )
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payments_booking_id'), ['booking_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_payments_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_payments_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_payments_invoice_id'), ['invoice_id'], unique=False)

    op.create_table('wallet_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('balance_after', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=True),
    sa.Column('payment_id', sa.Integer(), nullable=True),
    sa.Column('refund_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('refund_credit','payment_debit','adjustment')", name=op.f('ck_wallet_entries_kind_valid')),
    sa.CheckConstraint('amount <> 0', name=op.f('ck_wallet_entries_amount_not_zero')),
    sa.CheckConstraint('balance_after >= 0', name=op.f('ck_wallet_entries_balance_non_negative')),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_wallet_entries_booking_id_bookings'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['created_by_id'], ['employees.id'], name=op.f('fk_wallet_entries_created_by_id_employees'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_wallet_entries_customer_id_customers'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['payment_id'], ['payments.id'], name=op.f('fk_wallet_entries_payment_id_payments'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['refund_id'], ['refunds.id'], name=op.f('fk_wallet_entries_refund_id_refunds'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wallet_entries'))
    )
    with op.batch_alter_table('wallet_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_wallet_entries_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_wallet_entries_customer_id'), ['customer_id'], unique=False)

    with op.batch_alter_table('booking_travellers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unit_price', sa.Numeric(precision=12, scale=2), nullable=True))
        batch_op.alter_column('category',
               existing_type=sa.VARCHAR(length=10),
               type_=sa.String(length=20),
               existing_nullable=False)
        # Categories are now defined per departure (adult, child, economy, ...).
        batch_op.drop_constraint(batch_op.f('ck_booking_travellers_category_valid'), type_='check')
        batch_op.create_check_constraint('category_not_empty', 'length(category) >= 1')

    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('amount_refunded', sa.Numeric(precision=12, scale=2), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('deposit_amount', sa.Numeric(precision=12, scale=2), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('balance_due_date', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('price_snapshot', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('penalty_amount', sa.Numeric(precision=12, scale=2), nullable=True))
        batch_op.add_column(sa.Column('cancelled_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('expired_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_bookings_cancelled_by_id_employees'), 'employees', ['cancelled_by_id'], ['id'], ondelete='SET NULL')
        batch_op.create_check_constraint(
            'refunded_within_paid', 'amount_refunded >= 0 AND amount_refunded <= amount_paid'
        )
    # Bookings made before deposits existed were confirmed by paying in full.
    op.execute("UPDATE bookings SET deposit_amount = total_amount")
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.create_check_constraint(
            'deposit_within_total', 'deposit_amount >= 0 AND deposit_amount <= total_amount'
        )
        batch_op.alter_column('amount_refunded', server_default=None)
        batch_op.alter_column('deposit_amount', server_default=None)

    with op.batch_alter_table('departures', schema=None) as batch_op:
        batch_op.add_column(sa.Column('min_party_size', sa.Integer(), nullable=False, server_default='1'))
        batch_op.create_check_constraint('min_party_positive', 'min_party_size >= 1')
    with op.batch_alter_table('departures', schema=None) as batch_op:
        batch_op.alter_column('min_party_size', server_default=None)



def downgrade():
    with op.batch_alter_table('departures', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_departures_min_party_positive'), type_='check')
        batch_op.drop_column('min_party_size')

    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_bookings_deposit_within_total'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_bookings_refunded_within_paid'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_bookings_cancelled_by_id_employees'), type_='foreignkey')
        batch_op.drop_column('completed_at')
        batch_op.drop_column('expired_at')
        batch_op.drop_column('cancelled_by_id')
        batch_op.drop_column('penalty_amount')
        batch_op.drop_column('price_snapshot')
        batch_op.drop_column('balance_due_date')
        batch_op.drop_column('deposit_amount')
        batch_op.drop_column('amount_refunded')

    with op.batch_alter_table('booking_travellers', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_booking_travellers_category_not_empty'), type_='check')
        batch_op.create_check_constraint('category_valid', "category IN ('adult','child')")
        batch_op.alter_column('category',
               existing_type=sa.String(length=20),
               type_=sa.VARCHAR(length=10),
               existing_nullable=False)
        batch_op.drop_column('unit_price')

    with op.batch_alter_table('wallet_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_wallet_entries_customer_id'))
        batch_op.drop_index(batch_op.f('ix_wallet_entries_created_at'))

    op.drop_table('wallet_entries')
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payments_invoice_id'))
        batch_op.drop_index(batch_op.f('ix_payments_customer_id'))
        batch_op.drop_index(batch_op.f('ix_payments_created_at'))
        batch_op.drop_index(batch_op.f('ix_payments_booking_id'))

    op.drop_table('payments')
    with op.batch_alter_table('credit_notes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_credit_notes_invoice_id'))

    op.drop_table('credit_notes')
    with op.batch_alter_table('refunds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_refunds_customer_id'))
        batch_op.drop_index(batch_op.f('ix_refunds_created_at'))
        batch_op.drop_index(batch_op.f('ix_refunds_booking_id'))

    op.drop_table('refunds')
    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invoices_due_date'))
        batch_op.drop_index(batch_op.f('ix_invoices_customer_id'))
        batch_op.drop_index(batch_op.f('ix_invoices_created_at'))

    op.drop_table('invoices')
    with op.batch_alter_table('departure_categories', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_departure_categories_departure_id'))

    op.drop_table('departure_categories')
    op.drop_table('document_sequences')
