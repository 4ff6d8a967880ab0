"""The SQLAlchemy engine and a session per application context.

Plain SQLAlchemy 2.0, no Flask-SQLAlchemy: ``db.session`` is the current app context's
session; the request boundary commits or rolls back (services only flush).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app, has_request_context
from flask.globals import app_ctx, request_ctx
from sqlalchemy import Engine
from sqlalchemy.orm import Session, scoped_session, sessionmaker

from webapp import dialect


def _context_id() -> int:
    # A request gets its own session even when a test holds the app context open around
    # it, so tests see requests exactly as production does.
    if has_request_context():
        return id(request_ctx._get_current_object())
    return id(app_ctx._get_current_object())


@dataclass
class _State:
    engine: Engine
    sessions: scoped_session[Session]


class Database:
    """Holds one engine and one scoped session factory per app."""

    def init_app(self, app: Flask) -> None:
        engine = dialect.make_engine(app.config["DATABASE_URL"])
        factory = sessionmaker(engine, expire_on_commit=False)
        state = _State(engine, scoped_session(factory, scopefunc=_context_id))
        app.extensions["database"] = state

        def _remove_session(exc: BaseException | None) -> None:
            state.sessions.remove()

        app.teardown_request(_remove_session)
        app.teardown_appcontext(_remove_session)

    @property
    def session(self) -> Session:
        return current_app.extensions["database"].sessions()

    @property
    def engine(self) -> Engine:
        return current_app.extensions["database"].engine


db = Database()
