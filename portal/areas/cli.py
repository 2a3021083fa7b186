"""`flask portal import-areas FILE.csv`: the tree of areas from a CSV file."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from portal.extensions import db


def register_commands(group: click.Group) -> None:
    group.add_command(import_areas)


@click.command("import-areas")
@click.argument("file", type=click.File("rb"))
@with_appcontext
def import_areas(file) -> None:
    """Create or update the areas of FILE (columns code, parent_code, name_zh,
    and optionally name_en, lat, lon, position; UTF-8 or GB18030), all or
    nothing: a file with a wrong line saves nothing and lists every wrong
    line. The same as the admin page /admin/areas/import, written to the audit
    log as done by the system."""
    from portal.areas.services import AreaImportError
    from portal.areas.services import import_areas as run_import

    try:
        result = run_import(file.read(), None, source=getattr(file, "name", ""))
    except AreaImportError as error:
        db.session.rollback()
        for problem in error.problems:
            click.echo(f"line {problem.line}: {problem.message}", err=True)
        if error.count > len(error.problems):
            click.echo(f"… and {error.count - len(error.problems)} more.", err=True)
        raise click.ClickException(str(error)) from error
    db.session.commit()
    click.echo(
        f"Areas: {result.created} created, {result.updated} updated, {result.unchanged} unchanged."
    )
