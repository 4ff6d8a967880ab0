"""Domain errors and the one renderer that maps them (and HTTP errors) to responses.

A response is JSON when the client asked for JSON, a small fragment on ``HX-Request``,
else a full page. Every message is generic and safe to show; nothing leaks internals.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class DomainError(Exception):
    """A rule of the domain was broken; ``status`` is the HTTP status it maps to."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.default_message())
        self.message = message or self.default_message()

    def default_message(self) -> str:
        return str(lazy_gettext("The request could not be processed."))


class NotFound(DomainError):
    status = 404
    code = "not_found"

    def default_message(self) -> str:
        return str(lazy_gettext("Not found."))


class Invalid(DomainError):
    status = 422
    code = "invalid"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class Conflict(DomainError):
    status = 409
    code = "conflict"


def wants_json() -> bool:
    if request.is_json:
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json" and (
        request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
    )


def render_error(status: int, message: str, code: str) -> Response:
    if wants_json():
        resp = jsonify(error=code, message=message)
    elif request.headers.get("HX-Request") and not request.headers.get("HX-Boosted"):
        resp = Response(render_template("errors/fragment.html", message=message))
    else:
        resp = Response(render_template("errors/page.html", status=status, message=message))
    resp.status_code = status
    return resp


_HTTP_MESSAGES = {
    400: lazy_gettext("The request was not understood."),
    401: lazy_gettext("Please sign in."),
    403: lazy_gettext("You do not have access to this page."),
    404: lazy_gettext("Page not found."),
    405: lazy_gettext("That action is not allowed here."),
    413: lazy_gettext("The request is too large."),
    415: lazy_gettext("Unsupported content type."),
    429: lazy_gettext("Too many attempts. Please wait a few minutes and try again."),
    500: lazy_gettext("Something went wrong on our side. Your saved answers are safe."),
}


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain(err: DomainError) -> Response:
        return render_error(err.status, err.message, err.code)

    @app.errorhandler(CSRFError)
    def _csrf(err: CSRFError) -> Response:
        from webapp.security import record_security_event

        record_security_event("security.csrf_failed", detail=err.description)
        return render_error(
            400, _("Your session's security token is missing or invalid. Reload the page."),
            "csrf",
        )

    @app.errorhandler(HTTPException)
    def _http(err: HTTPException) -> Response:
        status = err.code or 500
        message = str(_HTTP_MESSAGES.get(status, err.name))
        return render_error(status, message, err.name.lower().replace(" ", "_"))

    if app.testing:
        return  # let tests see the exception itself

    @app.errorhandler(Exception)
    def _unexpected(err: Exception) -> Response:
        log.exception("unhandled error", exc_info=err)
        from webapp.extensions import db

        db.session.rollback()
        return render_error(500, str(_HTTP_MESSAGES[500]), "internal_server_error")
