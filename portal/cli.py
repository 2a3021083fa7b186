"""`flask portal …` commands for operators."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from portal.auth.models import Role, User
from portal.demo import DEMO_ACCOUNTS, load_demo_data
from portal.extensions import db
from portal.moderation.services import need_flags
from portal.needs.models import Need
from portal.photos.services import sweep_abandoned
from portal.workflow.diagram import DOCUMENT, state_machine_markdown
from portal.workflow.services import Actor, WorkflowError, transition

portal_cli = click.Group("portal", help="Huiju portal administration commands.")


@portal_cli.command("seed-demo")
@click.option(
    "--if-empty",
    is_flag=True,
    help="Do nothing when the database already holds needs (used by `make run`).",
)
@with_appcontext
def seed_demo(if_empty: bool) -> None:
    """Load the bilingual demo data set: categories, partners, accounts and needs."""
    if db.session.scalar(sa.select(sa.func.count(Need.id))):
        if if_empty:
            click.echo("The database already holds needs; demo data not loaded.")
            return
        raise click.ClickException("The database already holds needs; use an empty database.")
    counts = load_demo_data()
    db.session.commit()
    click.echo(
        f"Loaded {counts['categories']} categories, {counts['organisations']} partners, "
        f"{counts['areas']} areas, {counts['needs']} needs."
    )
    for email, password, role in DEMO_ACCOUNTS:
        click.echo(f"  {role:8} {email}  password: {password}")


@portal_cli.command("create-admin")
@click.option("--email", prompt=True, help="E-mail address of the new administrator.")
@click.option("--name", prompt="Display name", help="Name shown to other staff.")
@with_appcontext
def create_admin(email: str, name: str) -> None:
    """Create an administrator account. The password is asked for, never taken
    from the command line (where it would land in the shell history)."""
    email = email.strip().lower()
    if "@" not in email:
        raise click.BadParameter("not an e-mail address", param_hint="--email")
    if db.session.scalar(sa.select(User.id).where(User.email == email)):
        raise click.ClickException(f"An account with the e-mail {email} already exists.")
    password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < 12:
        raise click.ClickException("The password must have at least 12 characters.")
    user = User(email=email, display_name=name.strip(), role=Role.ADMIN)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    click.echo(f"Administrator {email} created.")


@portal_cli.command("publish")
@click.argument("refs", nargs=-1, required=True)
@click.option("--admin", "admin_email", required=True, help="E-mail of the acting admin.")
@with_appcontext
def publish(refs: tuple[str, ...], admin_email: str) -> None:
    """Publish submitted needs from the command line (admins can also do it in
    the triage queue at /admin/triage). A need flagged by the content screening
    (a listed sensitive term, too many links) is refused: publish it from its
    page at /admin/needs/<ref>, which shows why it was flagged."""
    admin = db.session.scalar(sa.select(User).where(User.email == admin_email.lower()))
    if admin is None or admin.role != Role.ADMIN:
        raise click.ClickException(f"No administrator with the e-mail {admin_email}.")
    for ref in refs:
        need = db.session.scalar(sa.select(Need).where(Need.ref == ref))
        if need is None:
            raise click.ClickException(f"No need {ref}.")
        if need_flags([need]):
            raise click.ClickException(
                f"{ref} is flagged by the content screening: publish it at /admin/needs/{ref}."
            )
        try:
            transition(need, "publish", Actor.staff(admin))
        except WorkflowError as error:
            raise click.ClickException(f"{ref}: {error}") from error
    db.session.commit()
    click.echo(f"Published {len(refs)} need(s).")


@portal_cli.command("clean-photos")
@with_appcontext
def clean_photos() -> None:
    """Delete the staged photos of forms that were shown again with errors and
    never sent back (an hour after PHOTO_STAGING_HOURS). Run it daily."""
    click.echo(f"Removed {sweep_abandoned()} staged photo file(s).")


@portal_cli.command("state-machine")
@click.option("--write", is_flag=True, help="Write docs/state-machine.md instead of printing it.")
@with_appcontext
def state_machine(write: bool) -> None:
    """Print (or write) docs/state-machine.md from the workflow's table of moves."""
    text = state_machine_markdown()
    if write:
        DOCUMENT.write_text(text, encoding="utf-8")
        click.echo(f"Wrote {DOCUMENT}.")
    else:
        click.echo(text, nl=False)
