"""Outgoing mail through Flask-Mail, or the log when no SMTP server is configured.

Callers send only after their transaction committed (docs/architecture.md
"Stack notes").
"""

import logging
import smtplib

from flask import current_app
from flask_mail import Connection, Message

log = logging.getLogger("easytravels.mail")
# The development sink: the only logger whose messages are not redacted
# (observability.UNREDACTED_LOGGERS), so a developer can read the codes.
outbox_log = logging.getLogger("easytravels.mail.outbox")


class MailError(Exception):
    """The SMTP server could not be reached or refused the message."""


class TimedConnection(Connection):
    """A Flask-Mail connection whose socket gives up after `timeout` seconds of
    silence (connect, TLS handshake, every SMTP reply): Flask-Mail 0.10 opens
    smtplib without a timeout, so a server that accepts TCP and never answers
    would hold the request (and its worker) forever."""

    def __init__(self, state, timeout: float):
        super().__init__(state)
        self.timeout = timeout

    def configure_host(self) -> smtplib.SMTP:
        """Flask-Mail's own `configure_host`, with `timeout` passed to smtplib."""
        state = self.mail
        smtp_class = smtplib.SMTP_SSL if state.use_ssl else smtplib.SMTP
        host = smtp_class(state.server, state.port, timeout=self.timeout)
        try:
            host.set_debuglevel(int(state.debug))
            if state.use_tls:
                host.starttls()
            if state.username and state.password:
                host.login(state.username, state.password)
        except BaseException:
            host.close()
            raise
        return host

    def __exit__(self, exc_type, exc_value, tb) -> None:
        """QUIT after a send, then close; after a failure only close (QUIT to a
        stalled server would wait another `timeout`). A failed QUIT after the
        server accepted the message is not a failure of the send."""
        if self.host is None:
            return
        try:
            if exc_type is None:
                self.host.quit()
        except (smtplib.SMTPException, OSError):
            log.info("SMTP QUIT failed after the message was accepted")
        finally:
            self.host.close()


def send_mail(
    to: str,
    subject: str,
    body: str,
    *,
    message_id: str | None = None,
    attachments: list[tuple[str, str, bytes]] | None = None,
) -> None:
    """Send a plain-text mail to one address.

    `attachments` are `(filename, mimetype, bytes)` files sent with it (e.g. the
    PDFs the outbox renders: docs/documents.md "Mail attachments"); the log sink
    names them without their content.

    `message_id` (e.g. `<outbox-12@easytravels>`) is the Message-ID header: the
    outbox gives every delivery attempt of one row the same id, so a receiver can
    drop the duplicate of an at-least-once redelivery.

    Without `MAIL_SERVER` in development (`MAIL_TO_LOG`) the whole message is
    written to the log at INFO so a developer can follow OTP flows from the terminal;
    in production nothing of the message is logged and MailError is raised (not
    sent). Raises MailError when the SMTP server fails, refuses, or stays silent
    for `MAIL_TIMEOUT` seconds (env MAIL_TIMEOUT_SECONDS, default 10) at any step.
    """
    if not current_app.config.get("MAIL_SERVER"):
        if not current_app.config.get("MAIL_TO_LOG"):
            log.error("mail not sent: MAIL_SERVER is not configured")
            raise MailError("MAIL_SERVER is not configured")
        names = ", ".join(item[0] for item in attachments or ())
        outbox_log.info(
            "mail (no MAIL_SERVER set, not sent) to=%s subject=%s%s\n%s",
            to,
            subject,
            f" attachments={names}" if names else "",
            body,
        )
        return
    message = Message(subject=subject, recipients=[to], body=body)
    for filename, mimetype, data in attachments or ():
        message.attach(filename, mimetype, data)
    if message_id:
        message.msgId = message_id
    timeout = float(current_app.config.get("MAIL_TIMEOUT") or 10)
    try:
        with TimedConnection(current_app.extensions["mail"], timeout) as connection:
            message.send(connection)
    except Exception as exc:  # smtplib, socket and TLS errors all mean "not sent"
        log.warning("mail to %s failed: %s", to, exc.__class__.__name__)
        raise MailError(str(exc)) from exc
