"""What the demo tests share: `count_rows`, how many rows of a model (matching
optional conditions) the seeded database holds.

Fixtures come from tests/conftest.py (`app`, `client`); the seeds run in the
session's app (demo/seed.py, demo/seed_scale.py).
"""

from sqlalchemy import func, select

from core.extensions import db


def count_rows(model, *where) -> int:
    """Rows of `model` matching `where` (all rows without conditions); needs an
    app context."""
    return db.session.scalar(select(func.count()).select_from(model).where(*where))
