"""`flask portal close-stale`."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from portal.feedback.services import close_stale as close


def register_commands(group: click.Group) -> None:
    group.add_command(close_stale)


@click.command("close-stale")
@with_appcontext
def close_stale() -> None:
    """Close needs resolved more than 14 days ago that got no "not resolved"
    feedback. Safe to run from cron at any frequency."""
    click.echo(f"Closed {close()} resolved need(s).")
