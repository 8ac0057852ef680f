"""sort indexes: customers by name, packages by title, base price, duration and
last update, so each `sort=` of these lists pages by keyset on an index
(docs/design.md "API conventions"; the default order, created_at, had one).

Revision ID: c0a1d2e3f419
Revises: c0a1d2e3f417
Create Date: 2026-12-01 18:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'c0a1d2e3f419'
down_revision = 'c0a1d2e3f417'
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_customers_name", "customers", "name"),
    ("ix_packages_title", "packages", "title"),
    ("ix_packages_base_price", "packages", "base_price"),
    ("ix_packages_duration_days", "packages", "duration_days"),
    ("ix_packages_updated_at", "packages", "updated_at"),
)


def upgrade():
    for name, table, column in INDEXES:
        op.create_index(name, table, [column], unique=False)


def downgrade():
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
