"""`flask --app webapp forms assemble|publish`: build parallel forms from the item bank with
the programme's blueprint (docs/assembly.md) and lock them for delivery.

Errors (a bank too small for the blueprint, a code already taken, an unknown base form)
are printed and the command exits non-zero; nothing is stored then.
"""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from item_bank.blueprint import Blueprint, BlueprintError, load_blueprint
from webapp import dialect
from webapp.errors import DomainError
from webapp.extensions import db

forms_cli = AppGroup("forms", help="Assemble forms from the item bank and publish them "
                                   "(docs/assembly.md).")


@forms_cli.command("assemble")
@click.option("--programme", required=True, help="Programme code, e.g. CCM.")
@click.option("--count", type=click.IntRange(1, 26), default=1, show_default=True,
              help="Parallel forms to assemble together (they share the anchor).")
@click.option("--seed", type=click.IntRange(0), default=0, show_default=True,
              help="The same seed gives the same forms; it also names them.")
@click.option("--time-limit", type=click.FloatRange(0, min_open=True), default=60.0,
              show_default=True, help="Seconds the solver may spend.")
@click.option("--anchor-from", help="Code of a base form whose anchor items to reuse.")
@click.option("--blueprint", "blueprint_file", type=click.Path(exists=True, dir_okay=False,
                                                                path_type=Path),
              help="A blueprint file instead of the programme's shipped one.")
def assemble_command(programme: str, count: int, seed: int, time_limit: float,
                     anchor_from: str | None, blueprint_file: Path | None) -> None:
    """Assemble COUNT forms of PROGRAMME and store them unpublished."""
    from webapp.services.forms import assemble_forms

    blueprint: Blueprint | None = None
    if blueprint_file is not None:
        try:
            blueprint = load_blueprint(blueprint_file)
        except BlueprintError as err:
            for problem in err.problems:
                click.echo(str(problem))
            raise click.ClickException(f"{len(err.problems)} problem(s) in the blueprint"
                                       ) from None
        except ValueError as err:
            raise click.ClickException(str(err)) from None
    try:  # assemble_forms takes the write lock only once the solver is done
        result, forms = assemble_forms(db.session, programme, count, seed, time_limit,
                                       anchor_from=anchor_from, blueprint=blueprint)
    except DomainError as err:
        db.session.rollback()
        raise click.ClickException(err.message) from None
    codes = [f.code for f in forms]
    db.session.commit()
    click.echo(result.format())
    click.echo(f"Stored {len(codes)} unpublished form(s): {', '.join(codes)}")


@forms_cli.command("publish")
@click.argument("code")
def publish_command(code: str) -> None:
    """Lock the form CODE for delivery: it can no longer be changed or deleted."""
    from webapp.services.forms import form_by_code, publish_form

    dialect.begin_write(db.session)
    try:
        form = publish_form(db.session, form_by_code(db.session, code), None)
    except DomainError as err:
        db.session.rollback()
        raise click.ClickException(err.message) from None
    n = len(form.items)
    db.session.commit()
    click.echo(f"Published form {code} ({n} items)")
