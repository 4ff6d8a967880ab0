"""Command-line tools: `flask --app webapp seed-demo`, `expire-due`, `create-user`."""

from __future__ import annotations

import click
from flask import Flask, current_app

from webapp import dialect
from webapp.config import DEV_ENVS
from webapp.extensions import db
from webapp.models import Role


def register_cli(app: Flask) -> None:
    @app.cli.command("seed-demo")
    def seed_demo_command() -> None:
        """Create the demo programme, form and accounts; reset the demo candidates."""
        from webapp.services.seed import seed_demo

        if current_app.config["EXAM_ENV"] not in DEV_ENVS:
            raise click.ClickException(
                "seed-demo creates accounts with published passwords: "
                "it runs only with EXAM_ENV=dev or test"
            )
        dialect.begin_write(db.session)
        accounts = seed_demo(db.session, current_app.config["CLOCK"]())
        db.session.commit()
        click.echo("Demo accounts (demo mode only):")
        for account in accounts:
            click.echo(f"  {account.role.value:<10} {account.email:<26} {account.password}")

    @app.cli.command("expire-due")
    def expire_due_command() -> None:
        """End every attempt whose time has run out (the app also does this by itself)."""
        from webapp.services.attempts import settle_due

        ended = settle_due(db.session, current_app.config["CLOCK"](),
                           current_app.config["SAVE_GRACE_SECONDS"])
        click.echo(f"ended {ended} attempt(s)")

    @app.cli.command("create-user")
    @click.option("--email", required=True)
    @click.option("--name", required=True)
    @click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
    @click.password_option()
    def create_user_command(email: str, name: str, role: str, password: str) -> None:
        """Create an account (the way to make the first administrator in production)."""
        from webapp.services.auth import create_user

        if len(password) < 12:
            raise click.ClickException("the password must have at least 12 characters")
        dialect.begin_write(db.session)
        create_user(db.session, email, password, Role(role), name)
        db.session.commit()
        click.echo(f"created {role} {email}")
