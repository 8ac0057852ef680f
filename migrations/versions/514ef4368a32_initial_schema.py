"""initial schema

Revision ID: 514ef4368a32
Revises: 
Create Date: 2026-11-21 00:11:44.203320

"""
from alembic import op
import sqlalchemy as sa

# Full-text search objects (a snapshot of models/package.py at this revision):
# an external-content FTS5 table with sync triggers on SQLite, a GIN expression
# index on PostgreSQL. Autogenerate ignores them (models/schema_filter.py).
SQLITE_FTS = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS package_fts USING fts5("
    "search_document, content='packages', content_rowid='id', "
    "tokenize='porter unicode61')",
    "CREATE TRIGGER IF NOT EXISTS packages_fts_ai AFTER INSERT ON packages BEGIN "
    "INSERT INTO package_fts(rowid, search_document) "
    "VALUES (new.id, new.search_document); END",
    "CREATE TRIGGER IF NOT EXISTS packages_fts_ad AFTER DELETE ON packages BEGIN "
    "INSERT INTO package_fts(package_fts, rowid, search_document) "
    "VALUES ('delete', old.id, old.search_document); END",
    "CREATE TRIGGER IF NOT EXISTS packages_fts_au AFTER UPDATE ON packages BEGIN "
    "INSERT INTO package_fts(package_fts, rowid, search_document) "
    "VALUES ('delete', old.id, old.search_document); "
    "INSERT INTO package_fts(rowid, search_document) "
    "VALUES (new.id, new.search_document); END",
)
POSTGRES_FTS = (
    "CREATE INDEX IF NOT EXISTS ix_packages_search_fts ON packages "
    "USING gin (to_tsvector('english', search_document))",
)


def _create_search_objects():
    dialect = op.get_bind().dialect.name
    for statement in {"sqlite": SQLITE_FTS, "postgresql": POSTGRES_FTS}.get(dialect, ()):
        op.execute(statement)


def _drop_search_objects():
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("packages_fts_ai", "packages_fts_ad", "packages_fts_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS package_fts")
    else:
        op.execute("DROP INDEX IF EXISTS ix_packages_search_fts")


# revision identifiers, used by Alembic.
revision = '514ef4368a32'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('employees',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=True),
    sa.Column('tokens_valid_after', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("role IN ('admin','hr','sales','operation','operation_head','finance')", name=op.f('ck_employees_role_valid')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_employees')),
    sa.UniqueConstraint('email', name=op.f('uq_employees_email')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('employees', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_employees_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_employees_role'), ['role'], unique=False)

    op.create_table('idempotency_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('owner', sa.String(length=40), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('method', sa.String(length=10), nullable=False),
    sa.Column('path', sa.String(length=255), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('response_status', sa.Integer(), nullable=True),
    sa.Column('response_body', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_idempotency_keys')),
    sa.UniqueConstraint('owner', 'key', name='uq_idempotency_keys_owner_key')
    )
    with op.batch_alter_table('idempotency_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_idempotency_keys_expires_at'), ['expires_at'], unique=False)

    op.create_table('otp_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_type', sa.String(length=10), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.String(length=20), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('voided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_otp_codes'))
    )
    with op.batch_alter_table('otp_codes', schema=None) as batch_op:
        batch_op.create_index('ix_otp_codes_account', ['account_type', 'account_id', 'created_at'], unique=False)

    op.create_table('revoked_sessions',
    sa.Column('sid', sa.String(length=36), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('sid', name=op.f('pk_revoked_sessions'))
    )
    op.create_table('customers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('address', sa.Text(), nullable=True),
    sa.Column('wallet_balance', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('registered_by_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=True),
    sa.Column('tokens_valid_after', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('wallet_balance >= 0', name=op.f('ck_customers_wallet_non_negative')),
    sa.ForeignKeyConstraint(['registered_by_id'], ['employees.id'], name=op.f('fk_customers_registered_by_id_employees'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customers')),
    sa.UniqueConstraint('email', name=op.f('uq_customers_email')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customers_created_at'), ['created_at'], unique=False)

    op.create_table('packages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('destination', sa.String(length=120), nullable=False),
    sa.Column('origin', sa.String(length=120), nullable=True),
    sa.Column('transport_mode', sa.String(length=10), nullable=False),
    sa.Column('duration_days', sa.Integer(), nullable=False),
    sa.Column('base_price', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('deposit_percent', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('rejection_reason', sa.Text(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('revision_author_id', sa.Integer(), nullable=True),
    sa.Column('last_edited_by_id', sa.Integer(), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('approved_by_id', sa.Integer(), nullable=True),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('search_document', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('draft','pending_approval','published','rejected','archived')", name=op.f('ck_packages_status_valid')),
    sa.CheckConstraint('base_price >= 0', name=op.f('ck_packages_base_price_non_negative')),
    sa.CheckConstraint('deposit_percent >= 1 AND deposit_percent <= 100', name=op.f('ck_packages_deposit_range')),
    sa.CheckConstraint('duration_days >= 1', name=op.f('ck_packages_duration_positive')),
    sa.ForeignKeyConstraint(['approved_by_id'], ['employees.id'], name=op.f('fk_packages_approved_by_id_employees'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by_id'], ['employees.id'], name=op.f('fk_packages_created_by_id_employees'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['last_edited_by_id'], ['employees.id'], name=op.f('fk_packages_last_edited_by_id_employees'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['revision_author_id'], ['employees.id'], name=op.f('fk_packages_revision_author_id_employees'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_packages'))
    )
    with op.batch_alter_table('packages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_packages_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_packages_destination'), ['destination'], unique=False)
        batch_op.create_index(batch_op.f('ix_packages_status'), ['status'], unique=False)

    _create_search_objects()
    op.create_table('departures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('package_id', sa.Integer(), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('seats_taken', sa.Integer(), nullable=False),
    sa.Column('price', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('booking_cutoff', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('scheduled','cancelled')", name=op.f('ck_departures_status_valid')),
    sa.CheckConstraint('capacity >= 0', name=op.f('ck_departures_capacity_non_negative')),
    sa.CheckConstraint('end_date >= start_date', name=op.f('ck_departures_dates_ordered')),
    sa.CheckConstraint('price >= 0', name=op.f('ck_departures_price_non_negative')),
    sa.CheckConstraint('seats_taken >= 0 AND seats_taken <= capacity', name=op.f('ck_departures_seats_within_capacity')),
    sa.ForeignKeyConstraint(['package_id'], ['packages.id'], name=op.f('fk_departures_package_id_packages'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_departures'))
    )
    with op.batch_alter_table('departures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_departures_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_departures_package_id'), ['package_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_departures_start_date'), ['start_date'], unique=False)

    op.create_table('enquiries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('package_id', sa.Integer(), nullable=True),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('assigned_to_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('new','in_progress','resolved','closed')", name=op.f('ck_enquiries_status_valid')),
    sa.ForeignKeyConstraint(['assigned_to_id'], ['employees.id'], name=op.f('fk_enquiries_assigned_to_id_employees'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by_id'], ['employees.id'], name=op.f('fk_enquiries_created_by_id_employees'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_enquiries_customer_id_customers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['package_id'], ['packages.id'], name=op.f('fk_enquiries_package_id_packages'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enquiries'))
    )
    with op.batch_alter_table('enquiries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_enquiries_assigned_to_id'), ['assigned_to_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_enquiries_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_enquiries_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_enquiries_package_id'), ['package_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_enquiries_status'), ['status'], unique=False)

    op.create_table('itinerary_days',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('package_id', sa.Integer(), nullable=False),
    sa.Column('day_number', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('location', sa.String(length=120), nullable=True),
    sa.CheckConstraint('day_number >= 1', name=op.f('ck_itinerary_days_day_number_positive')),
    sa.ForeignKeyConstraint(['package_id'], ['packages.id'], name=op.f('fk_itinerary_days_package_id_packages'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_itinerary_days')),
    sa.UniqueConstraint('package_id', 'day_number', name='uq_itinerary_days_package_day')
    )
    with op.batch_alter_table('itinerary_days', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_itinerary_days_package_id'), ['package_id'], unique=False)

    op.create_table('bookings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=16), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('departure_id', sa.Integer(), nullable=False),
    sa.Column('seats', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('unit_price', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('total_amount', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('amount_paid', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('hold_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancellation_policy', sa.JSON(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancel_reason', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('held','confirmed','completed','expired','cancelled')", name=op.f('ck_bookings_status_valid')),
    sa.CheckConstraint('amount_paid >= 0 AND amount_paid <= total_amount', name=op.f('ck_bookings_paid_within_total')),
    sa.CheckConstraint('seats >= 1', name=op.f('ck_bookings_seats_positive')),
    sa.CheckConstraint('total_amount >= 0', name=op.f('ck_bookings_total_non_negative')),
    sa.ForeignKeyConstraint(['created_by_id'], ['employees.id'], name=op.f('fk_bookings_created_by_id_employees'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_bookings_customer_id_customers'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['departure_id'], ['departures.id'], name=op.f('fk_bookings_departure_id_departures'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bookings')),
    sa.UniqueConstraint('reference', name=op.f('uq_bookings_reference'))
    )
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bookings_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_bookings_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index('ix_bookings_departure_status', ['departure_id', 'status'], unique=False)

    op.create_table('enquiry_notes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enquiry_id', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('author_type', sa.String(length=10), nullable=False),
    sa.Column('author_employee_id', sa.Integer(), nullable=True),
    sa.Column('author_customer_id', sa.Integer(), nullable=True),
    sa.Column('author_name', sa.String(length=120), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("author_type IN ('employee','customer')", name=op.f('ck_enquiry_notes_author_type_valid')),
    sa.ForeignKeyConstraint(['author_customer_id'], ['customers.id'], name=op.f('fk_enquiry_notes_author_customer_id_customers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['author_employee_id'], ['employees.id'], name=op.f('fk_enquiry_notes_author_employee_id_employees'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['enquiry_id'], ['enquiries.id'], name=op.f('fk_enquiry_notes_enquiry_id_enquiries'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enquiry_notes'))
    )
    with op.batch_alter_table('enquiry_notes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_enquiry_notes_enquiry_id'), ['enquiry_id'], unique=False)

    op.create_table('booking_travellers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('birth_date', sa.Date(), nullable=False),
    sa.Column('category', sa.String(length=10), nullable=False),
    sa.CheckConstraint("category IN ('adult','child')", name=op.f('ck_booking_travellers_category_valid')),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_booking_travellers_booking_id_bookings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_booking_travellers'))
    )
    with op.batch_alter_table('booking_travellers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_booking_travellers_booking_id'), ['booking_id'], unique=False)



def downgrade():
    with op.batch_alter_table('booking_travellers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_booking_travellers_booking_id'))

    op.drop_table('booking_travellers')
    with op.batch_alter_table('enquiry_notes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_enquiry_notes_enquiry_id'))

    op.drop_table('enquiry_notes')
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.drop_index('ix_bookings_departure_status')
        batch_op.drop_index(batch_op.f('ix_bookings_customer_id'))
        batch_op.drop_index(batch_op.f('ix_bookings_created_at'))

    op.drop_table('bookings')
    with op.batch_alter_table('itinerary_days', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_itinerary_days_package_id'))

    op.drop_table('itinerary_days')
    with op.batch_alter_table('enquiries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_enquiries_status'))
        batch_op.drop_index(batch_op.f('ix_enquiries_package_id'))
        batch_op.drop_index(batch_op.f('ix_enquiries_customer_id'))
        batch_op.drop_index(batch_op.f('ix_enquiries_created_at'))
        batch_op.drop_index(batch_op.f('ix_enquiries_assigned_to_id'))

    op.drop_table('enquiries')
    with op.batch_alter_table('departures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_departures_start_date'))
        batch_op.drop_index(batch_op.f('ix_departures_package_id'))
        batch_op.drop_index(batch_op.f('ix_departures_created_at'))

    op.drop_table('departures')
    with op.batch_alter_table('packages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_packages_status'))
        batch_op.drop_index(batch_op.f('ix_packages_destination'))
        batch_op.drop_index(batch_op.f('ix_packages_created_at'))

    _drop_search_objects()
    op.drop_table('packages')
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customers_created_at'))

    op.drop_table('customers')
    op.drop_table('revoked_sessions')
    with op.batch_alter_table('otp_codes', schema=None) as batch_op:
        batch_op.drop_index('ix_otp_codes_account')

    op.drop_table('otp_codes')
    with op.batch_alter_table('idempotency_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_idempotency_keys_expires_at'))

    op.drop_table('idempotency_keys')
    with op.batch_alter_table('employees', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_employees_role'))
        batch_op.drop_index(batch_op.f('ix_employees_created_at'))

    op.drop_table('employees')
