"""One sender per outbox channel, and the worker's run over all of them.

A sender takes `(now=None, limit=None)`, delivers at most `limit` due rows of
its own channel (see `portal/notify/delivery.py` for what they share), commits
after each one and returns a `DeliveryReport`. A row whose channel has no
sender here is never touched: it waits until a sender for its channel is
deployed.

Adding a channel (SMS, WeChat): a member of `OutboxChannel`, a sender module
beside `mailer.py`, one line here, and the notify code that queues its rows.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from portal.notify.delivery import DeliveryReport
from portal.notify.mailer import send_email_batch
from portal.notify.models import OutboxChannel

Sender = Callable[..., DeliveryReport]

SENDERS: dict[OutboxChannel, Sender] = {
    OutboxChannel.EMAIL: send_email_batch,
}


def deliver_outbox(now: datetime | None = None, limit: int | None = None) -> DeliveryReport:
    """Run each channel's sender once (each sends at most `limit` rows, by default
    its batch size) and add up what they did. What `flask portal send-mail` runs."""
    report = DeliveryReport()
    for sender in SENDERS.values():
        report += sender(now=now, limit=limit)
    return report
