"""Fixtures: an app per test on a fresh database (SQLite always, PostgreSQL when
TEST_POSTGRES_URL is set), a fake clock, clients and a sign-in helper."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from webapp import create_app
from webapp.dialect import make_engine
from webapp.extensions import db, limiter
from webapp.models import Base

BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_POSTGRES_URL") else [])


class FakeClock:
    """The server clock, moved by hand."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


def _reset_postgres(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgresql":
        url = os.environ["TEST_POSTGRES_URL"]
        _reset_postgres(url)
        return url
    return f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_app(database_url: str, clock: FakeClock) -> Iterator[Callable[..., Flask]]:
    """Build an app with overrides; the schema is created from the models (a separate
    test proves the migrations produce the same schema)."""
    apps: list[Flask] = []

    def build(**overrides: Any) -> Flask:
        config = {
            "EXAM_ENV": "test", "TESTING": True, "DATABASE_URL": database_url,
            "SECRET_KEY": "test-secret", "CLOCK": clock, "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False, "EXPIRY_SWEEP_SECONDS": 0, "SAVE_GRACE_SECONDS": 0,
            "FAST_PASSWORD_HASHING": True,
        }
        config.update(overrides)
        app = create_app(config)
        with app.app_context():
            Base.metadata.create_all(db.engine)
        apps.append(app)
        return app

    yield build
    for app in apps:
        with app.app_context():
            db.engine.dispose()
    if getattr(limiter, "_storage", None) is not None:  # only set up when enabled
        limiter.reset()


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Iterator[Flask]:
    application = make_app()
    with application.app_context():
        yield application


@pytest.fixture
def session(app: Flask):  # type: ignore[no-untyped-def]
    return db.session


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def sign_in(client: FlaskClient, email: str, password: str) -> Any:
    """Sign in through the real form (works with CSRF on or off)."""
    data = {"email": email, "password": password}
    if client.application.config.get("WTF_CSRF_ENABLED", True):
        data["csrf_token"] = csrf_token(client)
    return client.post("/login", data=data)
