"""Commands of the notify area, attached to the `flask portal` group."""

from __future__ import annotations

import signal
import threading

import click
from flask import current_app
from flask.cli import with_appcontext

from portal.extensions import db
from portal.notify.channels import deliver_outbox
from portal.notify.delivery import DeliveryReport
from portal.notify.mailer import MailConfigError
from portal.notify.services import send_digests as build_digests


def register_commands(group: click.Group) -> None:
    """Adds this area's commands to `flask portal`."""
    group.add_command(send_mail)
    group.add_command(send_digests)


@click.command("send-digests")
@with_appcontext
def send_digests() -> None:
    """Queue today's digest e-mail for every member who chose the daily digest
    and has news on the needs they follow. Run it once a day (cron or a timer);
    running it again the same day sends nothing twice. `send-mail` delivers."""
    click.echo(f"Digests queued: {build_digests()}.")


@click.command("send-mail")
@click.option(
    "--loop/--once",
    default=False,
    show_default=True,
    help="--once sends the due mails and exits (for cron or a systemd timer); "
    "--loop keeps running, sending every --interval seconds, until stopped "
    "with SIGTERM or Ctrl-C.",
)
@click.option(
    "--interval",
    type=click.FloatRange(min=1),
    default=30.0,
    show_default=True,
    metavar="SECONDS",
    help="Pause between two runs with --loop; ignored with --once.",
)
@with_appcontext
def send_mail(loop: bool, interval: float) -> None:
    """Deliver the outbox: each channel through its sender; e-mails through the
    SMTP server in MAIL_SERVER.

    Each run sends at most MAIL_BATCH_SIZE due mails over one connection. A mail
    that fails is retried later with a growing delay (1 minute, doubling, at most
    6 hours) and is marked failed after MAIL_MAX_ATTEMPTS tries. Several copies
    may run at once on PostgreSQL without sending a mail twice. Prints one
    summary line per run (with --loop only for runs that did something).
    """
    try:
        if not loop:
            click.echo(_summary(deliver_outbox()))
            return
        _deliver_until_stopped(interval)
    except MailConfigError as error:
        raise click.ClickException(str(error)) from error


def _deliver_until_stopped(interval: float) -> None:
    """Stop between two mails, never in the middle of one: a worker killed while
    the server accepts a mail would leave it queued and send it again later."""
    stop = threading.Event()

    def request_stop(signum: int, _frame: object) -> None:
        stop.set()

    previous: dict[int, object] = {}
    # Python lets only the main thread install signal handlers.
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGINT):
            previous[signum] = signal.signal(signum, request_stop)
    click.echo(f"Sending the outbox every {interval:g} s; stop with SIGTERM or Ctrl-C.")
    try:
        while not stop.is_set():
            report = deliver_outbox()
            if report.handled:
                click.echo(_summary(report))
            # Return the connection to the pool while idle.
            db.session.remove()
            # A full batch means more mail is probably due: go on without a pause.
            stop.wait(0 if report.handled >= current_app.config["MAIL_BATCH_SIZE"] else interval)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    click.echo("Stopped.")


def _summary(report: DeliveryReport) -> str:
    return f"Outbox: {report}."
