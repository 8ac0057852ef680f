"""audit log

Revision ID: 5266055f1b29
Revises: 4d6a3781c6da
Create Date: 2026-11-21 02:31:33.818438

"""
from alembic import op
import sqlalchemy as sa

# Append-only triggers (a snapshot of models/audit.py at this revision): UPDATE and
# DELETE of audit_entries raise on SQLite; on PostgreSQL UPDATE, DELETE and TRUNCATE
# raise unless the transaction set `easytravels.audit_purge = 'on'` (test purge;
# never for UPDATE). Autogenerate does not compare triggers.
MESSAGE = "audit_entries is append-only"
SQLITE_TRIGGERS = (
    "CREATE TRIGGER IF NOT EXISTS audit_entries_no_update BEFORE UPDATE ON audit_entries "
    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END",
    "CREATE TRIGGER IF NOT EXISTS audit_entries_no_delete BEFORE DELETE ON audit_entries "
    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END",
)
POSTGRES_TRIGGERS = (
    "CREATE OR REPLACE FUNCTION audit_entries_append_only() RETURNS trigger "
    "LANGUAGE plpgsql AS $$ BEGIN "
    "IF TG_OP <> 'UPDATE' AND current_setting('easytravels.audit_purge', true) = 'on' THEN "
    "IF TG_OP = 'DELETE' THEN RETURN OLD; END IF; RETURN NULL; END IF; "
    f"RAISE EXCEPTION '{MESSAGE}: % refused', TG_OP "
    "USING ERRCODE = 'restrict_violation'; "
    "END $$",
    "CREATE TRIGGER audit_entries_no_change BEFORE UPDATE OR DELETE ON audit_entries "
    "FOR EACH ROW EXECUTE FUNCTION audit_entries_append_only()",
    "CREATE TRIGGER audit_entries_no_truncate BEFORE TRUNCATE ON audit_entries "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_entries_append_only()",
)


# revision identifiers, used by Alembic.
revision = '5266055f1b29'
down_revision = '4d6a3781c6da'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('audit_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_type', sa.String(length=20), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_email', sa.String(length=254), nullable=True),
    sa.Column('action', sa.String(length=60), nullable=False),
    sa.Column('entity_type', sa.String(length=40), nullable=False),
    sa.Column('entity_id', sa.Integer(), nullable=True),
    sa.Column('details', sa.JSON(), nullable=True),
    sa.Column('request_id', sa.String(length=128), nullable=True),
    sa.Column('ip', sa.String(length=45), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_entries'))
    )
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_entries_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_entries_actor'), ['actor_type', 'actor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_entries_entity'), ['entity_type', 'entity_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_entries_occurred_at'), ['occurred_at'], unique=False)

    dialect = op.get_bind().dialect.name
    for statement in {"sqlite": SQLITE_TRIGGERS, "postgresql": POSTGRES_TRIGGERS}.get(dialect, ()):
        op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_entries_no_truncate ON audit_entries")
        op.execute("DROP TRIGGER IF EXISTS audit_entries_no_change ON audit_entries")
        op.execute("DROP FUNCTION IF EXISTS audit_entries_append_only()")
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_entries_occurred_at'))
        batch_op.drop_index(batch_op.f('ix_audit_entries_entity'))
        batch_op.drop_index(batch_op.f('ix_audit_entries_actor'))
        batch_op.drop_index(batch_op.f('ix_audit_entries_action'))

    op.drop_table('audit_entries')
