"""What the messaging tests share: `outbox_rows`, the stored outbox rows (mail and
webhook deliveries) read back detached.

Fixtures come from tests/conftest.py (`app`, `client`, `actors`, `mailbox` and the
session's `smtp` server); `relay_outbox`, `StallingSmtp` (a mail server that
hangs) and `free_port` (tests/live.py) beside them.
"""

from sqlalchemy import select

from core.extensions import db
from models import OutboxMessage


def outbox_rows(app, **filters) -> list[OutboxMessage]:
    """Outbox rows, oldest first, detached (attributes loaded)."""
    with app.app_context():
        stmt = select(OutboxMessage).filter_by(**filters).order_by(OutboxMessage.id)
        found = db.session.scalars(stmt).all()
        db.session.expunge_all()
        return found
