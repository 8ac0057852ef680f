"""catalogue_version: the one-row counter every catalogue change bumps (HTTP caching
validators of catalogue reads)

Revision ID: c0a1d2e3f417
Revises: c0a1d2e3f416
Create Date: 2026-12-01 17:50:00

"""

import sqlalchemy as sa
from alembic import op

revision = "c0a1d2e3f417"
down_revision = "c0a1d2e3f416"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "catalogue_version",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_catalogue_version_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalogue_version")),
    )
    op.execute(
        "INSERT INTO catalogue_version (id, version, changed_at) "
        "VALUES (1, 0, CURRENT_TIMESTAMP)"
    )


def downgrade():
    op.drop_table("catalogue_version")
