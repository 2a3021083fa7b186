"""What every channel's sender shares: taking the next due row of its channel,
recording what happened to it, and backing off after a failure.

The outbox row is written in the same transaction as the change it reports;
the senders are the other half: a worker (`flask portal send-mail`) hands due
rows to the mail server (or, later, an SMS or WeChat gateway) and records what
happened to each one.

Delivery is at-least-once. Each message is sent while its row is locked and
committed as sent right after the server accepts it, so a crash never loses a
message and one recorded as sent is never sent again. Only a crash in the
instant between the server's "OK" and the commit can send a message twice; no
gateway offers a way to close that gap, and a duplicate notice is the lesser
evil than a lost one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from portal.extensions import db
from portal.notify.models import OutboxChannel, OutboxEmail, OutboxStatus

FIRST_RETRY_DELAY = timedelta(minutes=1)
MAX_RETRY_DELAY = timedelta(hours=6)
MAX_ERROR_LENGTH = 500


@dataclass
class DeliveryReport:
    """What one run did, for the command's summary line and for tests."""

    sent: int = 0
    retried: int = 0  # failed this time, queued again for later
    failed: int = 0  # failed for the last allowed time; never retried automatically

    @property
    def handled(self) -> int:
        return self.sent + self.retried + self.failed

    def __add__(self, other: DeliveryReport) -> DeliveryReport:
        return DeliveryReport(
            self.sent + other.sent, self.retried + other.retried, self.failed + other.failed
        )

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


def lock_next_due(channel: OutboxChannel, now: datetime) -> OutboxEmail | None:
    """The row of this channel that has been due the longest (for a new one: the
    oldest), following the (status, channel, next_attempt_at) index. Rows of
    other channels are never read, so a sender cannot send what is not its own.

    Several workers may run at once on PostgreSQL: each takes the next due row
    with `FOR UPDATE SKIP LOCKED` and holds that lock only while sending it.
    SQLite renders no FOR UPDATE, so there two workers could pick the same row;
    SQLite serves development, where one worker runs.
    """
    return db.session.scalar(
        sa.select(OutboxEmail)
        .where(
            OutboxEmail.status == OutboxStatus.QUEUED,
            OutboxEmail.channel == channel,
            OutboxEmail.next_attempt_at <= now,
        )
        .order_by(OutboxEmail.next_attempt_at, OutboxEmail.id)
        .limit(1)
        .with_for_update(skip_locked=True)
        # The row may sit in the session from before; the locked version counts.
        .execution_options(populate_existing=True)
    )


def record_sent(row: OutboxEmail, now: datetime, report: DeliveryReport) -> None:
    row.status = OutboxStatus.SENT
    row.attempts += 1
    row.sent_at = now
    row.last_error = ""
    report.sent += 1


def record_failure(
    row: OutboxEmail, error: str, now: datetime, report: DeliveryReport, *, max_attempts: int
) -> None:
    """Count the attempt; give up after `max_attempts`, otherwise back off."""
    row.attempts += 1
    row.last_error = error[:MAX_ERROR_LENGTH]
    if row.attempts >= max_attempts:
        row.status = OutboxStatus.FAILED
        report.failed += 1
    else:
        row.next_attempt_at = now + retry_delay(row.attempts)
        report.retried += 1
