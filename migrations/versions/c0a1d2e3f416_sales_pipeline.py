"""sales pipeline: enquiry stages, lost reasons, stage and assignment history,
sales capacity, activities, quotes, customer duplicate keys and merges.

Data migration of today's enquiry statuses to stages (docs/sales-pipeline.md):
`new` -> `new`; `in_progress` -> `contacted`; `resolved` (answered, no booking
linked) -> `on_hold`, so it can still be resumed or won by a booking;
`closed` -> `lost` with the reason `other` and the feedback "Closed before the
sales pipeline existed (status closed).". Each enquiry gets one stage-history row
(its stage since its last update), `source` web_form (raised by the customer) or
phone (raised by staff), a first-response deadline of created_at + 24 hours, and,
when it had left `new`, a first response at its last update (the best known).
The default lost reasons are inserted; customers get their normalised phone.

Revision ID: c0a1d2e3f416
Revises: c0a1d2e3f413
Create Date: 2026-12-01 14:32:38

"""
from datetime import datetime, timedelta, timezone

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c0a1d2e3f416'
down_revision = 'c0a1d2e3f413'
branch_labels = None
depends_on = None

STAGE_OF_STATUS = {"new": "new", "in_progress": "contacted", "resolved": "on_hold",
                   "closed": "lost"}
STATUS_OF_STAGE = {"new": "new", "contacted": "in_progress", "quoted": "in_progress",
                   "on_hold": "resolved", "won": "resolved", "lost": "closed"}
LOST_FEEDBACK = "Closed before the sales pipeline existed (status closed)."
DEFAULT_LOST_REASONS = (
    ("price", "Price"), ("dates", "Dates"), ("destination", "Destination"),
    ("competitor", "Competitor"), ("no_answer", "No answer"), ("other", "Other"),
)
FIRST_RESPONSE_HOURS = 24
PHONE_KEY_DIGITS = 9
PHONE_MIN_DIGITS = 7


def _aware(value):
    """A datetime from the driver as aware UTC (SQLite gives naive UTC)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value


def _store(bind, value):
    """An aware UTC datetime as this database stores it (naive on SQLite)."""
    return value.replace(tzinfo=None) if bind.dialect.name == "sqlite" else value


def _phone_key(phone):
    digits = "".join(ch for ch in phone or "" if ch.isdigit())
    return digits[-PHONE_KEY_DIGITS:] if len(digits) >= PHONE_MIN_DIGITS else None


def _migrate_data():
    """Fill the new columns from the old ones (rules in the module docstring)."""
    bind = op.get_bind()
    now = datetime.now(timezone.utc)
    reasons = sa.table("enquiry_lost_reasons", sa.column("code"), sa.column("label"),
                       sa.column("active"), sa.column("created_at"), sa.column("updated_at"))
    op.bulk_insert(reasons, [
        {"code": code, "label": label, "active": True, "created_at": _store(bind, now),
         "updated_at": _store(bind, now)} for code, label in DEFAULT_LOST_REASONS
    ])
    other_id = bind.execute(
        sa.text("SELECT id FROM enquiry_lost_reasons WHERE code = 'other'")
    ).scalar_one()
    rows = bind.execute(sa.text(
        "SELECT id, status, created_by_id, created_at, updated_at FROM enquiries"
    )).all()
    changes = []
    for row in rows:
        stage = STAGE_OF_STATUS.get(row.status, "new")
        created, updated = _aware(row.created_at), _aware(row.updated_at)
        bind.execute(sa.text(
            "UPDATE enquiries SET stage = :stage, stage_changed_at = :changed, "
            "source = :source, lost_reason_id = :reason, lost_feedback = :feedback, "
            "first_response_due_at = :due, first_response_at = :first WHERE id = :id"
        ), {
            "id": row.id, "stage": stage, "changed": _store(bind, updated),
            "source": "web_form" if row.created_by_id is None else "phone",
            "reason": other_id if stage == "lost" else None,
            "feedback": LOST_FEEDBACK if stage == "lost" else None,
            "due": _store(bind, created + timedelta(hours=FIRST_RESPONSE_HOURS)),
            "first": None if stage == "new" else _store(bind, updated),
        })
        changes.append({"enquiry_id": row.id, "from_stage": None, "to_stage": stage,
                        "changed_at": _store(bind, updated)})
    if changes:
        op.bulk_insert(sa.table(
            "enquiry_stage_changes", sa.column("enquiry_id"), sa.column("from_stage"),
            sa.column("to_stage"), sa.column("changed_at"),
        ), changes)
    for row in bind.execute(sa.text("SELECT id, phone FROM customers")).all():
        key = _phone_key(row.phone)
        if key:
            bind.execute(sa.text("UPDATE customers SET phone_normalized = :k WHERE id = :id"),
                         {"k": key, "id": row.id})


def upgrade():
    op.create_table('enquiry_lost_reasons',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('label', sa.String(length=120), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enquiry_lost_reasons')),
    sa.UniqueConstraint('code', name=op.f('uq_enquiry_lost_reasons_code'))
    )
    with op.batch_alter_table('enquiry_lost_reasons', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_enquiry_lost_reasons_created_at'), ['created_at'], unique=False)

    op.create_table('sales_capacities',
    sa.Column('employee_id', sa.Integer(), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('absent_from', sa.DateTime(timezone=True), nullable=True),
    sa.Column('absent_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_assigned_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('capacity >= 0', name=op.f('ck_sales_capacities_capacity_non_negative')),
    sa.ForeignKeyConstraint(['employee_id'], ['employees.id'], name=op.f('fk_sales_capacities_employee_id_employees'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('employee_id', name=op.f('pk_sales_capacities'))
    )
    op.create_table('enquiry_activities',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enquiry_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('summary', sa.String(length=200), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('done', sa.Boolean(), nullable=False),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('done_by_id', sa.Integer(), nullable=True),
    sa.Column('reminder_sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('call','email','meeting','task')", name=op.f('ck_enquiry_activities_kind_valid')),
    sa.ForeignKeyConstraint(['created_by_id'], ['employees.id'], name=op.f('fk_enquiry_activities_created_by_id_employees'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['done_by_id'], ['employees.id'], name=op.f('fk_enquiry_activities_done_by_id_employees'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['enquiry_id'], ['enquiries.id'], name=op.f('fk_enquiry_activities_enquiry_id_enquiries'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['owner_id'], ['employees.id'], name=op.f('fk_enquiry_activities_owner_id_employees'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enquiry_activities'))
    )
    with op.batch_alter_table('enquiry_activities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_enquiry_activities_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_enquiry_activities_enquiry_id'), ['enquiry_id'], unique=False)
        batch_op.create_index('ix_enquiry_activities_owner_due', ['owner_id', 'done', 'due_at'], unique=False)

    op.create_table('enquiry_assignments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enquiry_id', sa.Integer(), nullable=False),
    sa.Column('employee_id', sa.Integer(), nullable=True),
    sa.Column('previous_employee_id', sa.Integer(), nullable=True),
    sa.Column('method', sa.String(length=12), nullable=False),
    sa.Column('assigned_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("method IN ('round_robin','manual','pool')", name=op.f('ck_enquiry_assignments_method_valid')),
    sa.ForeignKeyConstraint(['assigned_by_id'], ['employees.id'], name=op.f('fk_enquiry_assignments_assigned_by_id_employees'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['employee_id'], ['employees.id'], name=op.f('fk_enquiry_assignments_employee_id_employees'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['enquiry_id'], ['enquiries.id'], name=op.f('fk_enquiry_assignments_enquiry_id_enquiries'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['previous_employee_id'], ['employees.id'], name=op.f('fk_enquiry_assignments_previous_employee_id_employees'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enquiry_assignments'))
    )
    with op.batch_alter_table('enquiry_assignments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_enquiry_assignments_employee_id'), ['employee_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_enquiry_assignments_enquiry_id'), ['enquiry_id'], unique=False)

    op.create_table('enquiry_stage_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enquiry_id', sa.Integer(), nullable=False),
    sa.Column('from_stage', sa.String(length=12), nullable=True),
    sa.Column('to_stage', sa.String(length=12), nullable=False),
    sa.Column('seconds_in_from_stage', sa.Integer(), nullable=True),
    sa.Column('changed_by_id', sa.Integer(), nullable=True),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['changed_by_id'], ['employees.id'], name=op.f('fk_enquiry_stage_changes_changed_by_id_employees'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['enquiry_id'], ['enquiries.id'], name=op.f('fk_enquiry_stage_changes_enquiry_id_enquiries'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enquiry_stage_changes'))
    )
    with op.batch_alter_table('enquiry_stage_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_enquiry_stage_changes_enquiry_id'), ['enquiry_id'], unique=False)

    op.create_table('quotes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enquiry_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('departure_id', sa.Integer(), nullable=False),
    sa.Column('seats', sa.Integer(), nullable=False),
    sa.Column('travellers', sa.JSON(), nullable=True),
    sa.Column('prices', sa.JSON(), nullable=False),
    sa.Column('total_amount', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('valid_until', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=True),
    sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status <> 'accepted' OR booking_id IS NOT NULL", name=op.f('ck_quotes_accepted_has_booking')),
    sa.CheckConstraint("status IN ('open','accepted','withdrawn')", name=op.f('ck_quotes_status_valid')),
    sa.CheckConstraint('seats >= 1', name=op.f('ck_quotes_seats_positive')),
    sa.CheckConstraint('total_amount >= 0', name=op.f('ck_quotes_total_non_negative')),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_quotes_booking_id_bookings'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['created_by_id'], ['employees.id'], name=op.f('fk_quotes_created_by_id_employees'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_quotes_customer_id_customers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['departure_id'], ['departures.id'], name=op.f('fk_quotes_departure_id_departures'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['enquiry_id'], ['enquiries.id'], name=op.f('fk_quotes_enquiry_id_enquiries'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quotes')),
    sa.UniqueConstraint('booking_id', name=op.f('uq_quotes_booking_id'))
    )
    with op.batch_alter_table('quotes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quotes_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_quotes_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_quotes_enquiry_id'), ['enquiry_id'], unique=False)

    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('phone_normalized', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('merged_into_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_customers_phone_normalized'), ['phone_normalized'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_customers_merged_into_id_customers'), 'customers', ['merged_into_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('enquiries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stage', sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column('stage_changed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('source', sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column('campaign_tag', sa.String(length=60), nullable=True))
        batch_op.add_column(sa.Column('lost_reason_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('lost_feedback', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('booking_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('won_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('first_response_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('first_response_due_at', sa.DateTime(timezone=True), nullable=True))

    _migrate_data()

    with op.batch_alter_table('enquiries', schema=None) as batch_op:
        batch_op.alter_column('stage', existing_type=sa.String(length=12), nullable=False)
        batch_op.alter_column('stage_changed_at', existing_type=sa.DateTime(timezone=True), nullable=False)
        batch_op.alter_column('source', existing_type=sa.String(length=12), nullable=False)
        batch_op.drop_constraint(batch_op.f('ck_enquiries_status_valid'), type_='check')
        batch_op.drop_index(batch_op.f('ix_enquiries_status'))
        batch_op.drop_column('status')
        batch_op.create_index(batch_op.f('ix_enquiries_stage'), ['stage'], unique=False)
        batch_op.create_unique_constraint(batch_op.f('uq_enquiries_booking_id'), ['booking_id'])
        batch_op.create_foreign_key(batch_op.f('fk_enquiries_lost_reason_id_enquiry_lost_reasons'), 'enquiry_lost_reasons', ['lost_reason_id'], ['id'], ondelete='RESTRICT')
        batch_op.create_foreign_key(batch_op.f('fk_enquiries_booking_id_bookings'), 'bookings', ['booking_id'], ['id'], ondelete='RESTRICT')
        batch_op.create_check_constraint(
            batch_op.f('ck_enquiries_stage_valid'), "stage IN ('new','contacted','quoted','won','lost','on_hold')")
        batch_op.create_check_constraint(
            batch_op.f('ck_enquiries_lost_has_reason'), "stage <> 'lost' OR lost_reason_id IS NOT NULL")
        batch_op.create_check_constraint(
            batch_op.f('ck_enquiries_won_has_booking'), "stage <> 'won' OR booking_id IS NOT NULL")
        batch_op.create_check_constraint(
            batch_op.f('ck_enquiries_source_valid'),
            "source IN ('web_form','phone','email','walk_in','partner','campaign')")



def downgrade():
    with op.batch_alter_table('enquiries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.VARCHAR(length=12), nullable=True))
    bind = op.get_bind()
    for stage, status in STATUS_OF_STAGE.items():
        bind.execute(sa.text("UPDATE enquiries SET status = :status WHERE stage = :stage"),
                     {"status": status, "stage": stage})
    with op.batch_alter_table('enquiries', schema=None) as batch_op:
        batch_op.alter_column('status', existing_type=sa.VARCHAR(length=12), nullable=False)
        batch_op.drop_constraint(batch_op.f('ck_enquiries_source_valid'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_enquiries_won_has_booking'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_enquiries_lost_has_reason'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_enquiries_stage_valid'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_enquiries_booking_id_bookings'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_enquiries_lost_reason_id_enquiry_lost_reasons'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_enquiries_booking_id'), type_='unique')
        batch_op.drop_index(batch_op.f('ix_enquiries_stage'))
        batch_op.create_index(batch_op.f('ix_enquiries_status'), ['status'], unique=False)
        batch_op.create_check_constraint(
            batch_op.f('ck_enquiries_status_valid'), "status IN ('new','in_progress','resolved','closed')")
        batch_op.drop_column('first_response_due_at')
        batch_op.drop_column('first_response_at')
        batch_op.drop_column('won_at')
        batch_op.drop_column('booking_id')
        batch_op.drop_column('lost_feedback')
        batch_op.drop_column('lost_reason_id')
        batch_op.drop_column('campaign_tag')
        batch_op.drop_column('source')
        batch_op.drop_column('stage_changed_at')
        batch_op.drop_column('stage')

    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_customers_merged_into_id_customers'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_customers_phone_normalized'))
        batch_op.drop_column('merged_into_id')
        batch_op.drop_column('phone_normalized')

    with op.batch_alter_table('quotes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quotes_enquiry_id'))
        batch_op.drop_index(batch_op.f('ix_quotes_customer_id'))
        batch_op.drop_index(batch_op.f('ix_quotes_created_at'))

    op.drop_table('quotes')
    with op.batch_alter_table('enquiry_stage_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_enquiry_stage_changes_enquiry_id'))

    op.drop_table('enquiry_stage_changes')
    with op.batch_alter_table('enquiry_assignments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_enquiry_assignments_enquiry_id'))
        batch_op.drop_index(batch_op.f('ix_enquiry_assignments_employee_id'))

    op.drop_table('enquiry_assignments')
    with op.batch_alter_table('enquiry_activities', schema=None) as batch_op:
        batch_op.drop_index('ix_enquiry_activities_owner_due')
        batch_op.drop_index(batch_op.f('ix_enquiry_activities_enquiry_id'))
        batch_op.drop_index(batch_op.f('ix_enquiry_activities_created_at'))

    op.drop_table('enquiry_activities')
    op.drop_table('sales_capacities')
    with op.batch_alter_table('enquiry_lost_reasons', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_enquiry_lost_reasons_created_at'))

    op.drop_table('enquiry_lost_reasons')
