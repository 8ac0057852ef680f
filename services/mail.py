"""Outgoing mail through Flask-Mail, or the log when no SMTP server is configured.

Callers send only after their transaction committed (ENGINEERING.md house rule 3).
"""

import logging

from flask import current_app
from flask_mail import Message

from extensions import mail

log = logging.getLogger("easytravels.mail")


class MailError(Exception):
    """The SMTP server could not be reached or refused the message."""


def send_mail(to: str, subject: str, body: str) -> None:
    """Send a plain-text mail to one address.

    Without `MAIL_SERVER` (development) the whole message is written to the log at
    INFO so a developer can follow OTP flows from the terminal. Raises MailError when
    the SMTP server fails.
    """
    if not current_app.config.get("MAIL_SERVER"):
        log.info("mail (no MAIL_SERVER set, not sent) to=%s subject=%s\n%s", to, subject, body)
        return
    message = Message(subject=subject, recipients=[to], body=body)
    try:
        mail.send(message)
    except Exception as exc:  # smtplib, socket and TLS errors all mean "not sent"
        log.warning("mail to %s failed: %s", to, exc.__class__.__name__)
        raise MailError(str(exc)) from exc
