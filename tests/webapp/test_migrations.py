"""The Alembic migrations build exactly the models' schema (SQLite, and PostgreSQL when
TEST_POSTGRES_URL is set: the ``database_url`` fixture gives a fresh database of each)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

from webapp.dialect import make_engine
from webapp.models import Base

ALEMBIC_INI = Path(__file__).resolve().parents[2] / "alembic.ini"


@pytest.fixture
def alembic_config(database_url: str) -> Config:
    config = Config(str(ALEMBIC_INI))
    config.set_main_option("sqlalchemy.url", database_url)
    return config


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def _differences(engine: Engine) -> list[object]:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))


def _tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def _current(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def test_upgrade_to_head_builds_exactly_the_models_schema(
    alembic_config: Config, engine: Engine
) -> None:
    assert _tables(engine) == set()

    command.upgrade(alembic_config, "head")

    assert _tables(engine) == set(Base.metadata.tables) | {"alembic_version"}
    assert _current(engine) == ScriptDirectory.from_config(alembic_config).get_current_head()
    assert _differences(engine) == []


def test_downgrade_to_base_then_upgrade_again(alembic_config: Config, engine: Engine) -> None:
    command.upgrade(alembic_config, "head")

    command.downgrade(alembic_config, "base")
    assert _tables(engine) <= {"alembic_version"}
    assert _current(engine) is None

    command.upgrade(alembic_config, "head")
    assert _tables(engine) == set(Base.metadata.tables) | {"alembic_version"}
    assert _differences(engine) == []
