"""The e-mail channel's sender: hands due e-mails of the outbox to the SMTP
server in MAIL_SERVER, over one connection per run.

How rows are taken, recorded and retried, and why delivery is at-least-once,
is shared by every channel: see `portal/notify/delivery.py`. The registry of
senders is `portal/notify/channels.py`.
"""

from __future__ import annotations

import smtplib
import ssl
from datetime import datetime
from email.message import EmailMessage
from email.policy import default as default_policy
from email.utils import format_datetime, make_msgid, parseaddr

from flask import current_app

from portal.extensions import db
from portal.models_base import utcnow
from portal.notify.delivery import DeliveryReport, lock_next_due, record_failure, record_sent
from portal.notify.models import OutboxChannel, OutboxEmail

# Servers without 8BITMIME still exist; a 7-bit body (base64 or quoted-printable,
# whichever is shorter) reaches every one of them with the Chinese text intact.
MESSAGE_POLICY = default_policy.clone(cte_type="7bit")


class MailConfigError(RuntimeError):
    """The MAIL_* settings contradict each other; retrying cannot help."""


def send_email_batch(now: datetime | None = None, limit: int | None = None) -> DeliveryReport:
    """Send the due e-mails of the outbox (at most MAIL_BATCH_SIZE) over one SMTP
    connection; rows of other channels are left to their own senders.

    Commits after every mail: this is a worker's unit of work, not a service.
    No two workers send the same mail (see `lock_next_due`). The connection is
    opened only when there is something to send, so an idle loop never talks
    to the mail server.
    """
    config = current_app.config
    if config["MAIL_USE_SSL"] and config["MAIL_USE_TLS"]:
        raise MailConfigError(
            "MAIL_USE_SSL (implicit TLS) and MAIL_USE_TLS (STARTTLS) exclude each other."
        )
    now = now or utcnow()
    limit = config["MAIL_BATCH_SIZE"] if limit is None else limit
    report = DeliveryReport()
    connection: smtplib.SMTP | None = None
    unreachable: str | None = None  # why the server could not be reached in this run
    try:
        # Each pass takes one row and changes it so that it is no longer due
        # (sent, failed or scheduled later), so the loop cannot pick it twice.
        for _ in range(limit):
            mail = lock_next_due(OutboxChannel.EMAIL, now)
            if mail is None:
                break
            if connection is None and unreachable is None:
                try:
                    connection = _connect()
                except (smtplib.SMTPException, OSError) as error:
                    # Every remaining mail of this run is rescheduled with this
                    # reason; trying to connect again for each would only make
                    # an outage slower.
                    unreachable = _describe(error)
            if connection is None:
                _failed(mail, unreachable or "not connected", now, report)
            else:
                try:
                    connection.send_message(_build_message(mail, now))
                except (smtplib.SMTPException, OSError, ValueError) as error:
                    _failed(mail, _describe(error), now, report)
                    if _connection_lost(error):
                        _close(connection)
                        connection = None
                else:
                    record_sent(mail, now, report)
            db.session.commit()
    except BaseException:
        # A bug or Ctrl-C: give the current row back, unchanged, to the next run.
        db.session.rollback()
        raise
    finally:
        if connection is not None:
            _close(connection)
    return report


def _connect() -> smtplib.SMTP:
    config = current_app.config
    host, port, timeout = config["MAIL_SERVER"], config["MAIL_PORT"], config["MAIL_TIMEOUT"]
    if config["MAIL_USE_SSL"]:
        connection: smtplib.SMTP = smtplib.SMTP_SSL(
            host, port, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        connection = smtplib.SMTP(host, port, timeout=timeout)
    try:
        if config["MAIL_USE_TLS"]:
            connection.starttls(context=ssl.create_default_context())
        if config["MAIL_USERNAME"]:
            connection.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
    except BaseException:
        connection.close()
        raise
    return connection


def _close(connection: smtplib.SMTP) -> None:
    """Say goodbye politely when the server still listens, and always free the socket."""
    try:
        connection.quit()
    except (smtplib.SMTPException, OSError):
        pass
    finally:
        connection.close()


def _build_message(mail: OutboxEmail, now: datetime) -> EmailMessage:
    config = current_app.config
    sender_domain = parseaddr(config["MAIL_FROM"])[1].rpartition("@")[2]
    message = EmailMessage(policy=MESSAGE_POLICY)
    message["From"] = config["MAIL_FROM"]
    message["To"] = mail.to_address
    message["Subject"] = mail.subject
    message["Date"] = format_datetime(now)
    # The sender's domain, not make_msgid's default socket.getfqdn(): that can
    # wait for DNS and would reveal the worker's host name. The row id lets an
    # operator match the server's log to the outbox.
    message["Message-ID"] = make_msgid(
        idstring=f"outbox{mail.id}", domain=sender_domain or "huiju.invalid"
    )
    # RFC 3834: out-of-office replies must not answer automatic notices.
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(mail.body_text, charset="utf-8")
    return message


def _failed(mail: OutboxEmail, error: str, now: datetime, report: DeliveryReport) -> None:
    record_failure(mail, error, now, report, max_attempts=current_app.config["MAIL_MAX_ATTEMPTS"])


def _connection_lost(error: Exception) -> bool:
    """After these the connection's state is unknown: open a new one for the next mail.

    A refused recipient or a rejected message leaves it usable (smtplib resets
    the transaction), so the rest of the batch goes over the same connection.
    """
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return True
    if isinstance(error, smtplib.SMTPResponseException):
        return error.smtp_code == 421  # "service not available, closing channel"
    # Socket errors and timeouts; ValueError (a message we could not build) is ours.
    return not isinstance(error, smtplib.SMTPException | ValueError)


def _describe(error: Exception) -> str:
    """Readable text for `last_error`: the server's own words where there are some."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return "; ".join(
            f"recipient {address} refused: {code} {_text(reply)}"
            for address, (code, reply) in error.recipients.items()
        )
    if isinstance(error, smtplib.SMTPResponseException):
        return f"{type(error).__name__}: {error.smtp_code} {_text(error.smtp_error)}"
    return f"{type(error).__name__}: {error}"


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
