"""`flask portal purge-contacts`: the retention period of contact details."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from portal.extensions import db
from portal.models_base import utcnow
from portal.privacy.services import (
    count_expired_contacts,
    erase_expired_contacts,
    expired_contacts,
    retention_cutoff,
)


def register_commands(group: click.Group) -> None:
    group.add_command(purge_contacts)


@click.command("purge-contacts")
@click.option(
    "--days",
    type=click.IntRange(min=0),
    default=None,
    help="Keep contacts this many days after the need ended "
    "(default: CONTACT_RETENTION_DAYS, 180).",
)
@click.option(
    "--batch-size",
    type=click.IntRange(1, 10_000),
    default=1000,
    show_default=True,
    help="Contacts erased per transaction.",
)
@click.option("--dry-run", is_flag=True, help="Only count the contacts due; change nothing.")
@with_appcontext
def purge_contacts(days: int | None, batch_size: int, dry_run: bool) -> None:
    """Erase the contact details of needs that ended (closed, rejected,
    withdrawn or merged into another) more than CONTACT_RETENTION_DAYS ago:
    e-mail, name, phone, device and account ids, and the exact position (the
    place text stays). Mails not yet sent to them are cancelled. The privacy
    notice promises it; run it daily. Safe to run again or to interrupt: each
    batch is committed, and erased contacts are not read again."""
    now = utcnow()
    days = current_app.config["CONTACT_RETENTION_DAYS"] if days is None else days
    cutoff = retention_cutoff(now, days)
    if dry_run:
        due = count_expired_contacts(cutoff)
        click.echo(
            f"Dry run: {due} contact(s) of needs that ended before {cutoff:%Y-%m-%d %H:%M} UTC "
            f"({days} days) would be erased. Nothing was changed."
        )
        return
    erased = 0
    while need_ids := expired_contacts(cutoff, batch_size):
        erased += erase_expired_contacts(need_ids, now)
        db.session.commit()
    click.echo(
        f"Erased {erased} contact(s) of needs that ended before {cutoff:%Y-%m-%d %H:%M} UTC "
        f"({days} days)."
    )
