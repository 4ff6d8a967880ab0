"""Everything that differs between SQLite and PostgreSQL lives here.

SQLite is the embedded default: WAL, ``synchronous=FULL`` (a commit survives power loss),
``busy_timeout`` and foreign keys on every connection. pysqlite's own transaction handling
is switched off so that a writing request can open its transaction with ``BEGIN IMMEDIATE``
(take the write lock first, wait on ``busy_timeout``, never fail half-way with "database is
locked"). PostgreSQL locks the rows it changes instead.
"""

from __future__ import annotations

import fcntl
import functools
import os
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Table, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.sql import Insert

BUSY_TIMEOUT_MS = 30_000
_IMMEDIATE = "exam_write"
_GATE_KEY = "exam_writer_gate"


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine configured for the platform's durability rules."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        kwargs.setdefault("pool_pre_ping", True)
        return create_engine(url, **kwargs)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
        **kwargs,
    )
    _configure_sqlite(engine)
    return engine


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get(_IMMEDIATE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def is_sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


class _WriterGate:
    """Queues SQLite writers in the app instead of in SQLite's busy handler.

    A connection that finds SQLite's write lock taken *sleeps* in the busy handler (1, 2,
    5, 10 ... 100 ms) and is not woken when the lock is freed: under load every extra
    waiting thread adds tail latency. Writers of one process queue on a lock; writers of
    several processes (gunicorn workers) on an ``flock`` of a file beside the database.
    Both wake the next writer the moment the transaction ends.
    """

    def __init__(self, database: str) -> None:
        self.path = database + ".writers"
        self.lock = threading.Lock()
        self.fd: int | None = None
        self.pid = 0

    def acquire(self) -> None:
        if not self.lock.acquire(timeout=BUSY_TIMEOUT_MS / 1000):
            raise TimeoutError("database write lock not available")
        try:
            if self.pid != os.getpid():  # opened after a fork: flock must not be shared
                self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
                self.pid = os.getpid()
            assert self.fd is not None
            fcntl.flock(self.fd, fcntl.LOCK_EX)
        except BaseException:
            self.lock.release()
            raise

    def release(self) -> None:
        if self.fd is not None and self.pid == os.getpid():
            fcntl.flock(self.fd, fcntl.LOCK_UN)
        self.lock.release()


_GATES: dict[str, _WriterGate] = {}
_GATES_LOCK = threading.Lock()


def _gate_for(session: Session) -> _WriterGate | None:
    database = session.get_bind().url.database
    if not database or database == ":memory:":
        return None
    with _GATES_LOCK:
        return _GATES.setdefault(database, _WriterGate(database))


@event.listens_for(Session, "after_transaction_end")
def _release_gate(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None and (gate := session.info.pop(_GATE_KEY, None)):
        gate.release()


def begin_write(session: Session) -> None:
    """Start the session's transaction as a writer.

    Call before the first statement of a transaction that will write. On SQLite it queues
    for the writer gate, then takes the database write lock up front (``BEGIN IMMEDIATE``);
    the gate opens again when the transaction ends. A transaction already open is committed
    first so that the write does not run on a stale read snapshot.
    """
    if session.in_transaction():
        session.commit()
    if not is_sqlite(session):
        session.connection()
        return
    gate = _gate_for(session)
    if gate is not None:
        gate.acquire()
        session.info[_GATE_KEY] = gate
    try:
        session.connection(execution_options={_IMMEDIATE: True})
    except BaseException:
        session.rollback()  # ends the transaction, which opens the gate
        raise


@functools.cache
def _upsert_if_newer(dialect_name: str, table: Table) -> Insert:
    insert = sqlite.insert if dialect_name == "sqlite" else postgresql.insert
    stmt = insert(table)
    keys = [c.name for c in table.primary_key.columns]
    return stmt.on_conflict_do_update(
        index_elements=keys,
        set_={c.name: stmt.excluded[c.name] for c in table.columns if c.name not in keys},
        where=table.c.seq < stmt.excluded.seq,
    ).returning(table.c.seq)


def upsert_if_newer(session: Session | Connection, table: Table, row: dict[str, Any]) -> bool:
    """Insert ``row``, or replace the stored row only if its ``seq`` is lower.

    ``INSERT .. ON CONFLICT (primary key) DO UPDATE .. WHERE seq < excluded.seq
    RETURNING seq``, built once per database and table (the save path is hot). Returns
    whether the row was written.
    """
    dialect = session.dialect if isinstance(session, Connection) else session.get_bind().dialect
    return session.execute(_upsert_if_newer(dialect.name, table), row).first() is not None
