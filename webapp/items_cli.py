"""`flask --app webapp items validate|import|export PATH`: the authoring format's commands.

Problems are printed one per line as ``path:line: field: message`` (editors jump to them),
and the command exits non-zero if there is any. Import is all or nothing.
"""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy.exc import SQLAlchemyError

from item_bank import authoring
from item_bank.authoring import Batch
from webapp import dialect
from webapp.errors import Invalid
from webapp.extensions import db

items_cli = AppGroup("items", help="Validate, import and export the YAML item bank "
                                   "(docs/item-format.md).")

_PATH = click.Path(exists=True, path_type=Path)


def _known_ids() -> set[str]:
    """Item ids already in the bank, so that an enemy may name one; none if no bank yet."""
    from webapp.services.items import known_item_codes

    try:
        return known_item_codes(db.session)
    except SQLAlchemyError:
        db.session.rollback()
        click.echo("note: no item bank in the database; enemies are checked within PATH only",
                   err=True)
        return set()
    finally:
        db.session.rollback()  # end the read, so an import's write starts afresh


def _load(path: Path) -> Batch:
    batch = authoring.load(path, _known_ids())
    for problem in batch.problems:
        click.echo(str(problem))
    return batch


def _counts(batch: Batch) -> str:
    return (f"{len(batch.files)} file(s): {len(batch.items)} item(s), "
            f"{len(batch.scenarios)} scenario set(s)")


@items_cli.command("validate")
@click.argument("path", type=_PATH)
def validate_command(path: Path) -> None:
    """Check every YAML file under PATH and print every problem."""
    batch = _load(path)
    if not batch.ok:
        raise click.ClickException(f"{len(batch.problems)} problem(s) in {len(batch.files)} "
                                   "file(s)")
    click.echo(f"OK: {_counts(batch)}")


@items_cli.command("import")
@click.argument("path", type=_PATH)
def import_command(path: Path) -> None:
    """Validate the whole batch under PATH, then add what changed as new item versions."""
    from webapp.services.items import ImportRefused, import_batch

    batch = _load(path)
    if not batch.ok:
        raise click.ClickException(f"{len(batch.problems)} problem(s); nothing was imported")
    dialect.begin_write(db.session)
    try:
        summary = import_batch(db.session, batch)
    except ImportRefused as refused:
        db.session.rollback()
        for problem in refused.problems:
            click.echo(str(problem))
        raise click.ClickException(refused.message) from None
    db.session.commit()
    for change in summary.scenarios:
        click.echo(f"scenario set {change.code}: version {change.version} ({change.change})")
    for change in summary.items:
        click.echo(f"item {change.code}: version {change.version} ({change.change})")
    click.echo(f"Imported {_counts(batch)}: {summary.new_versions} new version(s), "
               f"{summary.unchanged_items} item(s) and {summary.unchanged_scenarios} "
               "scenario set(s) unchanged")


@items_cli.command("export")
@click.argument("path", type=click.Path(file_okay=False, path_type=Path))
@click.option("--programme", "programmes", multiple=True,
              help="Programme code to export (repeatable; default: every authored one).")
@click.option("--overwrite", is_flag=True,
              help="Write into a programme folder that already has files.")
def export_command(path: Path, programmes: tuple[str, ...], overwrite: bool) -> None:
    """Write the current version of every item under PATH/<programme>/ as YAML."""
    from webapp.services.items import authored_programmes, export_bank

    codes = programmes or tuple(p.code for p in authored_programmes(db.session))
    if not codes:
        raise click.ClickException("the bank has no authored items to export")
    if not overwrite:
        busy = [path / c.lower() for c in codes
                if (path / c.lower()).exists() and any((path / c.lower()).iterdir())]
        if busy:
            raise click.ClickException(f"{busy[0]} is not empty; export into a new folder "
                                       "or pass --overwrite")
    try:
        written = export_bank(db.session, path, programmes)
    except (Invalid, ValueError) as err:
        raise click.ClickException(str(err)) from None
    finally:
        db.session.rollback()
    click.echo(f"Exported {len(written)} file(s) to {path}")
