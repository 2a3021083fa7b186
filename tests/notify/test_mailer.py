"""Outbox delivery against a real SMTP server (aiosmtpd) on the loopback interface.

Every mail is a committed row, as the worker would find it in production; the
server records what actually arrived, so the tests check what a recipient gets.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from portal.extensions import db
from portal.models_base import utcnow
from portal.notify import channels, mailer
from portal.notify.channels import SENDERS, deliver_outbox
from portal.notify.delivery import DeliveryReport, retry_delay
from portal.notify.mailer import send_email_batch
from portal.notify.models import OutboxChannel, OutboxEmail, OutboxStatus

SUBJECT = "您的诉求已收到：小区路灯不亮"
BODY = "您好！\n\n我们已收到您的诉求，编号 HJ-2026-0001。\n谢谢您的参与。\n"


@dataclass
class ReceivedMail:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes

    @property
    def message(self) -> EmailMessage:
        return message_from_bytes(self.content, policy=policy.default)


class RecordingHandler:
    """Keeps every accepted message; refuses the addresses in `refused` with a 550."""

    def __init__(self) -> None:
        self.received: list[ReceivedMail] = []
        self.refused: set[str] = set()
        self.data_delay = 0.0  # seconds; lets concurrent workers overlap

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refused:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.data_delay:
            await asyncio.sleep(self.data_delay)
        self.received.append(
            ReceivedMail(envelope.mail_from, list(envelope.rcpt_tos), envelope.content)
        )
        return "250 Message accepted for delivery"

    @property
    def recipients(self) -> list[str]:
        return [address for mail in self.received for address in mail.rcpt_tos]


def free_port() -> int:
    """A port nobody listens on (the kernel just handed it out and it was closed)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_handler() -> RecordingHandler:
    return RecordingHandler()


@pytest.fixture
def smtp_server(smtp_handler):
    controller = Controller(smtp_handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller
    controller.stop()


@pytest.fixture
def app_config(smtp_server) -> dict:
    return {
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp_server.port,
        "MAIL_TIMEOUT": 5.0,
        "MAIL_FROM": "Huiju 汇聚 <noreply@huiju.example>",
    }


def queue(to_address: str, subject: str = SUBJECT, body: str = BODY, **fields) -> int:
    mail = OutboxEmail(
        to_address=to_address, subject=subject, body_text=body, locale="zh_CN", **fields
    )
    db.session.add(mail)
    db.session.commit()
    return mail.id


def outbox(mail_id: int) -> OutboxEmail:
    return db.session.get(OutboxEmail, mail_id, populate_existing=True)


def test_due_mails_arrive_intact_and_are_marked_sent(app, smtp_handler):
    first = queue("ana@example.org")
    second = queue("bo@example.org", subject="Status update", body="Your need is open.\n")
    now = utcnow()

    report = deliver_outbox(now=now)

    assert (report.sent, report.retried, report.failed) == (2, 0, 0)
    assert smtp_handler.recipients == ["ana@example.org", "bo@example.org"]
    received = smtp_handler.received[0]
    assert received.mail_from == "noreply@huiju.example"
    message = received.message
    assert message["To"] == "ana@example.org"
    assert message["From"] == "Huiju 汇聚 <noreply@huiju.example>"
    assert message["Subject"] == SUBJECT
    assert message.get_content_charset() == "utf-8"
    assert message.get_content().replace("\r\n", "\n") == BODY
    assert message["Message-ID"].endswith("@huiju.example>")
    assert message["Date"].datetime is not None
    # The Chinese text travels in a 7-bit encoding, so any relay accepts it.
    assert message["Content-Transfer-Encoding"] in {"base64", "quoted-printable"}
    assert smtp_handler.received[1].message.get_content().rstrip() == "Your need is open."
    for mail_id in (first, second):
        mail = outbox(mail_id)
        assert mail.status == OutboxStatus.SENT
        assert mail.attempts == 1
        assert mail.sent_at == now
        assert mail.last_error == ""


def test_a_second_run_sends_nothing_twice(app, smtp_handler):
    queue("ana@example.org")
    assert deliver_outbox().sent == 1

    again = deliver_outbox(now=utcnow() + timedelta(days=1))

    assert (again.sent, again.retried, again.failed) == (0, 0, 0)
    assert smtp_handler.recipients == ["ana@example.org"]


def test_only_due_mails_go_oldest_first_and_at_most_a_batch(app, smtp_handler):
    now = utcnow()
    later = queue("later@example.org", next_attempt_at=now + timedelta(minutes=5))
    oldest = queue("oldest@example.org", next_attempt_at=now - timedelta(minutes=3))
    newer = queue("newer@example.org", next_attempt_at=now - timedelta(minutes=1))
    app.config["MAIL_BATCH_SIZE"] = 1

    assert deliver_outbox(now=now).sent == 1
    assert smtp_handler.recipients == ["oldest@example.org"]
    assert deliver_outbox(now=now).sent == 1
    assert deliver_outbox(now=now).sent == 0
    assert smtp_handler.recipients == ["oldest@example.org", "newer@example.org"]
    assert outbox(later).status == OutboxStatus.QUEUED
    assert {outbox(oldest).status, outbox(newer).status} == {OutboxStatus.SENT}


def test_mails_wait_while_the_server_is_down_and_go_once_it_is_back(app, smtp_server):
    ids = [queue(f"user{n}@example.org") for n in range(3)]
    now = utcnow()
    app.config["MAIL_PORT"] = free_port()

    report = deliver_outbox(now=now)

    assert (report.sent, report.retried, report.failed) == (0, 3, 0)
    for mail_id in ids:
        mail = outbox(mail_id)
        assert mail.status == OutboxStatus.QUEUED
        assert mail.attempts == 1
        assert mail.next_attempt_at == now + timedelta(minutes=1)
        assert "Connection refused" in mail.last_error
    # Not due yet: nothing is retried before its time, even with the server back.
    app.config["MAIL_PORT"] = smtp_server.port
    assert deliver_outbox(now=now + timedelta(seconds=30)).handled == 0

    back = deliver_outbox(now=now + timedelta(minutes=1))

    assert back.sent == 3
    assert [outbox(mail_id).status for mail_id in ids] == [OutboxStatus.SENT] * 3
    assert [outbox(mail_id).attempts for mail_id in ids] == [2, 2, 2]
    assert outbox(ids[0]).last_error == ""


def test_the_delay_doubles_after_each_failure(app):
    mail_id = queue("ana@example.org")
    app.config.update(MAIL_PORT=free_port(), MAIL_MAX_ATTEMPTS=10)
    now = utcnow()
    delays = []
    for _ in range(5):
        assert deliver_outbox(now=now).retried == 1
        mail = outbox(mail_id)
        delays.append(mail.next_attempt_at - now)
        now = mail.next_attempt_at
    assert delays == [timedelta(minutes=m) for m in (1, 2, 4, 8, 16)]
    assert outbox(mail_id).attempts == 5


def test_the_delay_is_capped_at_six_hours():
    assert retry_delay(1) == timedelta(minutes=1)
    assert retry_delay(9) == timedelta(minutes=256)
    assert retry_delay(10) == timedelta(hours=6)
    assert retry_delay(1000) == timedelta(hours=6)


def test_a_mail_fails_for_good_after_the_last_attempt(app, smtp_server, smtp_handler):
    mail_id = queue("ana@example.org")
    app.config.update(MAIL_PORT=free_port(), MAIL_MAX_ATTEMPTS=3)
    now = utcnow()
    reports = []
    for _ in range(3):
        reports.append(deliver_outbox(now=now))
        now = outbox(mail_id).next_attempt_at + timedelta(seconds=1)
    assert [(r.retried, r.failed) for r in reports] == [(1, 0), (1, 0), (0, 1)]
    mail = outbox(mail_id)
    assert mail.status == OutboxStatus.FAILED
    assert mail.attempts == 3
    assert "Connection refused" in mail.last_error

    # Never retried automatically, even with the server back and much later.
    app.config["MAIL_PORT"] = smtp_server.port
    assert deliver_outbox(now=now + timedelta(days=30)).handled == 0
    assert smtp_handler.received == []
    assert outbox(mail_id).attempts == 3


def test_a_refused_recipient_fails_only_its_own_mail(app, smtp_handler):
    smtp_handler.refused = {"nobody@example.org"}
    good = queue("ana@example.org")
    refused = queue("nobody@example.org")
    after = queue("bo@example.org")

    report = deliver_outbox()

    assert (report.sent, report.retried, report.failed) == (2, 1, 0)
    assert smtp_handler.recipients == ["ana@example.org", "bo@example.org"]
    assert outbox(good).status == outbox(after).status == OutboxStatus.SENT
    mail = outbox(refused)
    assert mail.status == OutboxStatus.QUEUED
    assert mail.attempts == 1
    assert "nobody@example.org" in mail.last_error and "550" in mail.last_error
    assert "No such mailbox" in mail.last_error


def test_a_crash_mid_batch_neither_loses_nor_repeats_a_mail(app, smtp_handler, monkeypatch):
    ids = [queue(f"user{n}@example.org") for n in range(3)]
    build = mailer._build_message

    def crash_on_the_second(mail, now):
        if mail.id == ids[1]:
            raise RuntimeError("worker killed")
        return build(mail, now)

    monkeypatch.setattr(mailer, "_build_message", crash_on_the_second)
    with pytest.raises(RuntimeError):
        deliver_outbox()
    assert smtp_handler.recipients == ["user0@example.org"]
    assert [outbox(i).status for i in ids] == [OutboxStatus.SENT] + [OutboxStatus.QUEUED] * 2
    assert [outbox(i).attempts for i in ids] == [1, 0, 0]

    monkeypatch.setattr(mailer, "_build_message", build)
    assert deliver_outbox().sent == 2
    assert smtp_handler.recipients == [f"user{n}@example.org" for n in range(3)]


def test_conflicting_tls_settings_stop_the_run_before_any_mail(app, smtp_handler):
    mail_id = queue("ana@example.org")
    app.config.update(MAIL_USE_SSL=True, MAIL_USE_TLS=True)
    with pytest.raises(mailer.MailConfigError):
        deliver_outbox()
    assert outbox(mail_id).attempts == 0

    result = app.test_cli_runner().invoke(args=["portal", "send-mail"])
    assert result.exit_code == 1
    assert "exclude each other" in result.output


def test_send_mail_command_delivers_and_prints_a_summary(app, smtp_handler):
    mail_id = queue("ana@example.org")
    runner = app.test_cli_runner()

    result = runner.invoke(args=["portal", "send-mail"])

    assert result.exit_code == 0, result.output
    assert result.output.strip() == "Outbox: 1 sent, 0 retried, 0 failed."
    assert smtp_handler.recipients == ["ana@example.org"]
    assert outbox(mail_id).status == OutboxStatus.SENT

    again = runner.invoke(args=["portal", "send-mail", "--once"])
    assert again.exit_code == 0
    assert again.output.strip() == "Outbox: 0 sent, 0 retried, 0 failed."


def test_send_mail_help_explains_the_modes(app):
    result = app.test_cli_runner().invoke(args=["portal", "send-mail", "--help"])
    assert result.exit_code == 0
    for text in ("--loop / --once", "--interval SECONDS", "MAIL_MAX_ATTEMPTS", "SIGTERM"):
        assert text in result.output
    listing = app.test_cli_runner().invoke(args=["portal", "--help"])
    assert "send-mail" in listing.output


def test_the_loop_finishes_its_run_and_stops_on_sigterm(app, smtp_handler, monkeypatch):
    import portal.notify.cli as notify_cli

    queue("ana@example.org")
    runs = []

    def deliver_then_get_stopped(**kwargs):
        report = deliver_outbox(**kwargs)
        runs.append(report)
        signal.raise_signal(signal.SIGTERM)  # as `docker stop` would
        return report

    monkeypatch.setattr(notify_cli, "deliver_outbox", deliver_then_get_stopped)
    handler_before = signal.getsignal(signal.SIGTERM)

    result = app.test_cli_runner().invoke(
        args=["portal", "send-mail", "--loop", "--interval", "600"]
    )

    assert result.exit_code == 0, result.output
    assert len(runs) == 1
    assert "Outbox: 1 sent, 0 retried, 0 failed." in result.output
    assert result.output.strip().endswith("Stopped.")
    assert smtp_handler.recipients == ["ana@example.org"]
    assert signal.getsignal(signal.SIGTERM) is handler_before


@pytest.mark.postgres_only
@pytest.mark.committed  # the workers read the outbox on connections of their own
def test_concurrent_workers_never_send_the_same_mail(app, smtp_handler):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("row locks (FOR UPDATE SKIP LOCKED) need PostgreSQL")
    addresses = [f"user{n:02}@example.org" for n in range(40)]
    db.session.add_all(
        OutboxEmail(to_address=a, subject=SUBJECT, body_text=BODY, locale="zh_CN")
        for a in addresses
    )
    db.session.commit()
    smtp_handler.data_delay = 0.01
    workers = 4
    start = threading.Barrier(workers)
    sent_by: list[int] = [0] * workers
    errors: list[BaseException] = []

    def worker(index: int, now: datetime) -> None:
        try:
            with app.app_context():
                start.wait()
                while (report := deliver_outbox(now=now, limit=3)).handled:
                    sent_by[index] += report.sent
                db.session.remove()
        except BaseException as error:  # re-raised in the test's thread
            errors.append(error)

    now = utcnow()
    threads = [threading.Thread(target=worker, args=(i, now)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert sorted(smtp_handler.recipients) == addresses  # each exactly once
    assert sum(sent_by) == len(addresses)
    assert sum(1 for count in sent_by if count) > 1  # they really worked side by side
    statuses = db.session.scalars(sa.select(OutboxEmail.status)).all()
    assert set(statuses) == {OutboxStatus.SENT}


# --- channels: the e-mail sender sends e-mail rows only ---------------------------


def _raw_row(mail_id: int) -> dict:
    row = db.session.execute(
        sa.text("SELECT channel, status, attempts, last_error FROM outbox_emails WHERE id = :id"),
        {"id": mail_id},
    ).one()
    return dict(row._mapping)


def test_a_row_of_a_channel_without_a_sender_is_not_sent_by_the_email_sender(app, smtp_handler):
    email_id = queue("ana@example.org")
    # A row written by a later release (an SMS to a phone number) while this
    # worker, which has no SMS sender, still runs.
    sms_id = queue("+8613800000000", subject="短信", body="您的诉求已解决。\n")
    db.session.execute(
        sa.text("UPDATE outbox_emails SET channel = 'sms' WHERE id = :id"), {"id": sms_id}
    )
    db.session.commit()
    assert "sms" not in {channel.value for channel in SENDERS}
    assert outbox(email_id).channel == OutboxChannel.EMAIL  # the default

    assert send_email_batch().sent == 1
    report = deliver_outbox(now=utcnow() + timedelta(days=1))  # every channel, later

    assert report.handled == 0
    assert smtp_handler.recipients == ["ana@example.org"]
    assert _raw_row(sms_id) == {
        "channel": "sms",
        "status": "queued",
        "attempts": 0,
        "last_error": "",
    }


def test_send_mail_runs_the_sender_of_every_channel(app, smtp_handler, monkeypatch):
    calls = []

    def pager_sender(now=None, limit=None):
        calls.append(limit)
        return DeliveryReport(sent=2, retried=1)

    monkeypatch.setitem(channels.SENDERS, "pager", pager_sender)
    queue("ana@example.org")

    result = app.test_cli_runner().invoke(args=["portal", "send-mail"])

    assert result.exit_code == 0, result.output
    assert result.output.strip() == "Outbox: 3 sent, 1 retried, 0 failed."
    assert calls == [None]  # each sender applies its own batch size
    assert smtp_handler.recipients == ["ana@example.org"]
