"""Commands of the partner workspace, attached to the `flask portal` group."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from portal.partners.cohandlers import remind_inputs
from portal.partners.workspace import send_reminders


def register_commands(group: click.Group) -> None:
    """Adds this area's commands to `flask portal`."""
    group.add_command(remind)


@click.command("remind")
@with_appcontext
def remind() -> None:
    """Send the reminders (催办) for missed due dates, the lead partners' and
    the supporting partners' inputs, and escalate the needs still overdue after
    ESCALATE_AFTER_DAYS working days. Safe to run from cron at any frequency:
    each reminder and escalation happens once."""
    reminded, escalated = send_reminders()
    inputs = remind_inputs()
    click.echo(f"Reminders sent: {reminded}. Inputs reminded: {inputs}. Escalated: {escalated}.")
