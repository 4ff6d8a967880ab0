"""The exam platform's web application: ``create_app`` wires everything together."""

from __future__ import annotations

import gc
import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask, has_request_context, request
from flask_babel import get_locale
from flask_login import current_user

from webapp.config import Config, check_secret
from webapp.extensions import babel, compress, csrf, db, limiter, login_manager
from webapp.models import utcnow
from webapp.services.timing import format_duration


def _select_locale() -> str:
    if not has_request_context():  # CLI commands and the sweeper thread
        return "en"
    languages = current_app_languages()
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    return request.accept_languages.best_match(languages) or "en"


def current_app_languages() -> tuple[str, ...]:
    from flask import current_app

    return tuple(current_app.config["LANGUAGES"])


def _running_a_cli_command() -> bool:
    """True when the flask command line builds the app for a command other than ``run``.

    The secret key only signs cookies; `flask items validate` or `flask seed-demo` serve no
    request, so they work without one, while gunicorn and `flask run` still refuse it.
    """
    import click

    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return False
    words = [ctx.info_name or "", *getattr(ctx, "protected_args", []), *ctx.args]
    return "run" not in words


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app; ``config`` overrides the settings read from the environment."""
    app = Flask(__name__, instance_relative_config=False)
    app.config.from_mapping(Config().as_dict())
    app.config["CLOCK"] = utcnow
    if config:
        app.config.from_mapping(config)
    if not _running_a_cli_command():
        check_secret(app.config)
    if app.config["FAST_PASSWORD_HASHING"] and app.config["EXAM_ENV"] == "test":
        from webapp.services.auth import use_cheap_hashing

        use_cheap_hashing()
    logging.basicConfig(level=logging.INFO)

    from webapp.converters import IdConverter

    app.url_map.converters["id"] = IdConverter
    db.init_app(app)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = None  # the server-side session row is the protection
    babel.init_app(app, locale_selector=_select_locale)
    limiter.init_app(app)
    compress.init_app(app)

    from webapp.errors import register_error_handlers
    from webapp.security import init_security

    init_security(app)
    register_error_handlers(app)

    from webapp import admin, auth, candidate, delivery, proctor

    for module in (auth, candidate, delivery, proctor, admin):
        app.register_blueprint(module.bp)

    from webapp.cli import register_cli
    from webapp.forms_cli import forms_cli
    from webapp.items_cli import items_cli

    register_cli(app)
    app.cli.add_command(items_cli)
    app.cli.add_command(forms_cli)

    @app.context_processor
    def _template_globals() -> dict[str, Any]:
        return {
            "htmx_js": "vendor/htmx-2.0.11.min.js", "get_locale": get_locale,
            "fmt_duration": format_duration,
        }

    from webapp.services.sweeper import start_sweeper

    if not _running_a_cli_command():  # a command line needs no background expiry
        start_sweeper(app)
    if not app.testing:
        # Move everything built so far out of the garbage collector's generations: a full
        # collection over it pauses every thread of the worker for ~100 ms.
        gc.freeze()
    return app
