"""Deliver the outbox over SMTP.

The outbox row is written in the same transaction as the change it reports;
this module is the other half: a worker (`flask portal send-mail`) that hands
due rows to the mail server and records what happened to each one.

Delivery is at-least-once. Each mail is sent while its row is locked and
committed as sent right after the server accepts it, so a crash never loses a
mail and a mail that was recorded as sent is never sent again. Only a crash in
the instant between the server's "250 OK" and the commit can send a mail twice;
SMTP offers no way to close that gap, and a duplicate notice is the lesser evil
than a lost one.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.policy import default as default_policy
from email.utils import format_datetime, make_msgid, parseaddr

import sqlalchemy as sa
from flask import current_app

from portal.extensions import db
from portal.models_base import utcnow
from portal.notify.models import OutboxEmail, OutboxStatus

FIRST_RETRY_DELAY = timedelta(minutes=1)
MAX_RETRY_DELAY = timedelta(hours=6)
MAX_ERROR_LENGTH = 500

# Servers without 8BITMIME still exist; a 7-bit body (base64 or quoted-printable,
# whichever is shorter) reaches every one of them with the Chinese text intact.
MESSAGE_POLICY = default_policy.clone(cte_type="7bit")


class MailConfigError(RuntimeError):
    """The MAIL_* settings contradict each other; retrying cannot help."""


@dataclass
class DeliveryReport:
    """What one run did, for the command's summary line and for tests."""

    sent: int = 0
    retried: int = 0  # failed this time, queued again for later
    failed: int = 0  # failed for the last allowed time; never retried automatically

    @property
    def handled(self) -> int:
        return self.sent + self.retried + self.failed

    def __str__(self) -> str:
        return f"{self.sent} sent, {self.retried} retried, {self.failed} failed"


def retry_delay(attempts: int) -> timedelta:
    """Back-off after the `attempts`-th failure: 1, 2, 4 … minutes, at most 6 hours.

    Doubling keeps a short outage cheap (the first retries come quickly) while a
    long one does not hammer the server or fill the log.
    """
    exponent = max(attempts - 1, 0)
    # Compare before multiplying: 2**exponent minutes overflows timedelta long
    # before anyone configures that many attempts.
    if exponent >= 20:
        return MAX_RETRY_DELAY
    return min(FIRST_RETRY_DELAY * 2**exponent, MAX_RETRY_DELAY)


def deliver_outbox(now: datetime | None = None, limit: int | None = None) -> DeliveryReport:
    """Send the due mails of the outbox (at most MAIL_BATCH_SIZE) over one SMTP connection.

    Commits after every mail: this is a worker's unit of work, not a service.
    Several workers may run at once on PostgreSQL: each takes the next due row
    with `FOR UPDATE SKIP LOCKED` and holds that lock only while sending it, so
    no two workers send the same mail. The connection is opened only when there
    is something to send, so an idle loop never talks to the mail server.
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
            mail = _lock_next_due(now)
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
                _record_failure(mail, unreachable or "not connected", now, report)
            else:
                try:
                    connection.send_message(_build_message(mail, now))
                except (smtplib.SMTPException, OSError, ValueError) as error:
                    _record_failure(mail, _describe(error), now, report)
                    if _connection_lost(error):
                        _close(connection)
                        connection = None
                else:
                    _record_sent(mail, now, report)
            db.session.commit()
    except BaseException:
        # A bug or Ctrl-C: give the current row back, unchanged, to the next run.
        db.session.rollback()
        raise
    finally:
        if connection is not None:
            _close(connection)
    return report


def _lock_next_due(now: datetime) -> OutboxEmail | None:
    """The mail that has been due the longest (for a new mail: the oldest one),
    following the (status, next_attempt_at) index.

    SQLite renders no FOR UPDATE, so there two workers could pick the same row;
    SQLite serves development, where one worker runs.
    """
    return db.session.scalar(
        sa.select(OutboxEmail)
        .where(OutboxEmail.status == OutboxStatus.QUEUED, OutboxEmail.next_attempt_at <= now)
        .order_by(OutboxEmail.next_attempt_at, OutboxEmail.id)
        .limit(1)
        .with_for_update(skip_locked=True)
        # The row may sit in the session from before; the locked version counts.
        .execution_options(populate_existing=True)
    )


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


def _record_sent(mail: OutboxEmail, now: datetime, report: DeliveryReport) -> None:
    mail.status = OutboxStatus.SENT
    mail.attempts += 1
    mail.sent_at = now
    mail.last_error = ""
    report.sent += 1


def _record_failure(mail: OutboxEmail, error: str, now: datetime, report: DeliveryReport) -> None:
    """Count the attempt; give up after MAIL_MAX_ATTEMPTS, otherwise back off."""
    mail.attempts += 1
    mail.last_error = error[:MAX_ERROR_LENGTH]
    if mail.attempts >= current_app.config["MAIL_MAX_ATTEMPTS"]:
        mail.status = OutboxStatus.FAILED
        report.failed += 1
    else:
        mail.next_attempt_at = now + retry_delay(mail.attempts)
        report.retried += 1


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
