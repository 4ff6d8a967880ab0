"""The SQLAlchemy engine and a session per application context.

Plain SQLAlchemy 2.0, no Flask-SQLAlchemy: ``db.session`` is the current app context's
session; the request boundary commits or rolls back (services only flush).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app
from flask.globals import app_ctx
from sqlalchemy import Engine
from sqlalchemy.orm import Session, scoped_session, sessionmaker

from webapp import dialect


def _context_id() -> int:
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

        @app.teardown_appcontext
        def _remove_session(exc: BaseException | None) -> None:
            state.sessions.remove()

    @property
    def session(self) -> Session:
        return current_app.extensions["database"].sessions()

    @property
    def engine(self) -> Engine:
        return current_app.extensions["database"].engine


db = Database()
