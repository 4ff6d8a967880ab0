"""`flask --app webapp items validate|import|export PATH`: the authoring format's commands,
and `items export-qti|import-qti PATH.zip`: the same bank as IMS QTI 3.0 packages
(docs/qti.md).

Problems are printed one per line as ``path:line: field: message`` (editors jump to them),
or ``package.zip:path/in/zip: field: message`` for a package, and the command exits non-zero
if there is any. Import is all or nothing.
"""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy.exc import SQLAlchemyError

from item_bank import authoring, qti
from item_bank.authoring import Batch
from webapp import dialect
from webapp.errors import Invalid
from webapp.extensions import db

items_cli = AppGroup("items", help="Validate, import and export the YAML item bank "
                                   "(docs/item-format.md) and QTI 3.0 packages (docs/qti.md).")

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


# --- QTI 3.0 packages (docs/qti.md) --------------------------------------------------------


@items_cli.command("export-qti")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--programme", "programmes", multiple=True,
              help="Programme code to export (repeatable; default: every authored one).")
@click.option("--form", "form_code", help="Export this form (a QTI test) and the item "
                                          "versions it pins, instead of the current bank.")
@click.option("--overwrite", is_flag=True, help="Replace PATH if it exists.")
def export_qti_command(path: Path, programmes: tuple[str, ...], form_code: str | None,
                       overwrite: bool) -> None:
    """Write the current items (or one form) as a QTI 3.0 content package PATH.zip."""
    from webapp.services.qti import export_package

    if path.suffix.lower() != ".zip":
        raise click.ClickException(f"{path}: a QTI package is a .zip file")
    if programmes and form_code:
        raise click.ClickException("give --programme or --form, not both")
    if path.exists() and not overwrite:
        raise click.ClickException(f"{path} exists; choose another name or pass --overwrite")
    try:
        written = export_package(db.session, path, programmes, form_code)
    except (Invalid, ValueError) as err:
        raise click.ClickException(str(err)) from None
    finally:
        db.session.rollback()
    click.echo(f"Exported {written.items} item(s), {written.scenarios} scenario set(s) and "
               f"{written.forms} form(s) to {path}")


@items_cli.command("import-qti")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--skip-unsupported", is_flag=True,
              help="Import the supported items and list the skipped ones, instead of "
                   "refusing a package with unsupported content.")
@click.option("--programme", "default_programme",
              help="Programme of the items whose package metadata names none.")
def import_qti_command(path: Path, skip_unsupported: bool,
                       default_programme: str | None) -> None:
    """Validate a QTI 3.0 package PATH.zip, then add what changed as new item versions (and
    its tests as unpublished forms)."""
    from webapp.services.qti import QtiRefused, bank_programmes, import_package

    known = _known_ids()
    try:
        programmes = bank_programmes(db.session)
    except SQLAlchemyError:
        programmes = []
    finally:
        db.session.rollback()
    try:
        with qti.open_package(path, programmes=programmes, known_ids=known,
                              default_programme=default_programme,
                              skip_unsupported=skip_unsupported) as package:
            for problem in package.errors:
                click.echo(str(problem))
            if skip_unsupported:
                for skipped in package.skipped:
                    click.echo(f"skipped: {skipped}")
            if not package.ok:
                raise click.ClickException(f"{len(package.errors)} problem(s); nothing was "
                                           "imported" + ("" if skip_unsupported or not
                                                         package.skipped else
                                                         " (--skip-unsupported imports the "
                                                         "supported items)"))
            dialect.begin_write(db.session)
            try:
                summary = import_package(db.session, package)
            except QtiRefused as refused:
                db.session.rollback()
                for problem in refused.problems:
                    click.echo(str(problem))
                raise click.ClickException(refused.message) from None
            db.session.commit()
    except qti.PackageError as err:
        raise click.ClickException(str(err)) from None
    for change in summary.items.scenarios:
        click.echo(f"scenario set {change.code}: version {change.version} ({change.change})")
    for change in summary.items.items:
        click.echo(f"item {change.code}: version {change.version} ({change.change})")
    for form in summary.forms:
        click.echo(f"form {form.code}: {form.items} item(s) ({form.change}, unpublished)"
                   if form.change == "new" else f"form {form.code}: unchanged")
    batch = package.batch
    click.echo(f"Imported {len(batch.items)} item(s), {len(batch.scenarios)} scenario set(s) "
               f"and {len(package.forms)} form(s): {summary.items.new_versions} new "
               f"version(s), {len(package.skipped)} problem(s) skipped")
