"""``make bench-save``: candidates saving answers concurrently against the app under gunicorn.

Set-up (not timed): a fresh database (a SQLite file, or PostgreSQL with schema ``public``
dropped and recreated), migrated with Alembic and seeded with the demo; then N candidates,
each with an attempt in progress on the demo form, are created through the services in one
transaction, with a login session each and the attempt's lock claimed for it. Each simulated
browser gets the signed Flask session cookie a sign-in would have given it (login session
token and Flask-Login's user id) and a Flask-WTF CSRF token bound to that session.

Load: open loop. Every candidate sends a JSON save (``POST /exam/<id>/save``) about every
``candidates / rate`` seconds (jittered +-20 %), with an increasing ``seq``, whether or not
the previous answer has come back. Saves due during the warm-up are sent but not measured;
latency is measured from the moment a save was due, so a slow server is not hidden by a
client that waits. Each save opens a new connection by default (a browser's keep-alive
lapses between saves three seconds apart; gunicorn keeps an idle connection 2 s).

Afterwards the server is stopped and the database is read back: every acknowledged save
(HTTP 200) must be there, with ``seq`` at least the acknowledged one and the exact choice
when equal, and ``last_seq`` of each attempt at least its highest acknowledged ``seq``.

Usage::

    python -m bench.save                       # both databases, 1000 candidates, 60 s
    python -m bench.save --db sqlite --workers 2 --threads 4 --seconds 30
    python -m bench.save --db postgres --pg-url postgresql+psycopg://postgres@host/db
    python -m bench.save --db sqlite --profile  # where a save's CPU goes (no server)

PostgreSQL: the database named by ``--pg-url`` is WIPED (``DROP SCHEMA public CASCADE``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

import aiohttp
from flask import Flask
from flask import session as flask_session
from flask_wtf.csrf import generate_csrf
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from tests.live_server import LiveServer
from webapp import create_app, dialect
from webapp.extensions import db
from webapp.models import (
    Attempt,
    AttemptEvent,
    AttemptState,
    ExamSession,
    Form,
    Response,
    Role,
    utcnow,
)
from webapp.security import SESSION_TOKEN
from webapp.services import attempts, auth
from webapp.services.seed import FORM_CODE

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_save"  # created if missing
PASSWORD = "bench-candidate-pass"
TARGET_RATE = 300.0  # saves/s the platform must sustain on this 2-core machine
TARGET_P99_MS = 100.0
SAVE_INTERVAL_S = 3.0  # the default pace of one candidate
KEEPALIVE_S = 60  # how long a simulated browser keeps an idle connection
# The gunicorn configurations with the lowest tail latency in docs/benchmarks.md. SQLite
# admits one writer at a time and a waiting connection polls in a busy handler that naps
# 1-100 ms between tries, so the fewer threads and processes compete, the shorter the tail.
BEST_CONFIG = {"sqlite": (2, 1), "postgres": (2, 1)}
ERROR_EXAMPLES: dict[str, str] = {}  # first message seen per client-side error type


@dataclass
class Candidate:
    """One simulated browser: its attempt, credentials and what the server acknowledged."""

    attempt_id: int
    items: list[tuple[int, list[str]]]  # item version id, option ids
    cookie: str
    csrf: str
    seq: int = 0
    acked: dict[int, tuple[int, str]] = field(default_factory=dict)  # item -> (seq, choice)
    applied: int = 0


@dataclass(frozen=True)
class Sample:
    due: float
    latency_s: float
    status: str


@dataclass(frozen=True)
class CpuSnapshot:
    server_s: float
    client_s: float
    machine_busy_s: float
    wall_s: float


@dataclass(frozen=True)
class Verification:
    acked_saves: int
    acked_answers: int  # distinct (attempt, item) with an acknowledged save
    missing: int  # acknowledged save not in the database (seq lower or no row)
    wrong_choice: int  # stored seq equals the acknowledged one but the choice differs
    last_seq_behind: int  # attempts whose last_seq is below their highest acknowledged seq
    response_rows: int
    save_events: int

    @property
    def ok(self) -> bool:
        return self.missing == 0 and self.wrong_choice == 0 and self.last_seq_behind == 0


@dataclass(frozen=True)
class Result:
    db: str
    config: str
    target_rate: float
    window_s: float
    sent: int
    ok: int
    errors: Counter[str]
    latencies_ms: list[float]
    cpu: tuple[float, float, float]  # cores used: server, load generator, whole machine
    verification: Verification
    cpu_ms_per_save: float  # gunicorn CPU over the whole load / saves it applied
    applied_rate: float  # saves the server applied per second, from first save to drained

    @property
    def achieved(self) -> float:
        return self.ok / self.window_s

    def pct(self, q: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ranked = sorted(self.latencies_ms)
        return ranked[min(len(ranked) - 1, max(0, round(q / 100 * len(ranked)) - 1))]

    @property
    def met(self) -> bool:
        return (self.achieved >= TARGET_RATE and self.pct(99) <= TARGET_P99_MS
                and not self.errors and self.verification.ok)


# --- set-up -------------------------------------------------------------------------------


def reset_postgres(url: str) -> None:
    # A database of its own (created on first use), never the test suite's shared one.
    parsed = make_url(url)
    admin = dialect.make_engine(
        parsed.set(database="postgres").render_as_string(hide_password=False),
        isolation_level="AUTOCOMMIT",
    )
    with admin.connect() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :d"),
                              {"d": parsed.database}).first()
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()
    engine = dialect.make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def bench_app(server: LiveServer) -> Flask:
    """An in-process app on the server's database and secret, to set up and verify."""
    return create_app({
        "EXAM_ENV": "test", "DATABASE_URL": server.database_url,
        "SECRET_KEY": server.env()["SECRET_KEY"], "EXPIRY_SWEEP_SECONDS": 0,
    })


def signed_session(app: Flask, user_id: int, token: str) -> tuple[str, str]:
    """The session cookie a sign-in gives, and a CSRF token bound to that session."""
    with app.app_context(), app.test_request_context("/"):
        flask_session.permanent = True
        flask_session[SESSION_TOKEN] = token
        flask_session["_user_id"] = str(user_id)
        flask_session["_fresh"] = True
        csrf = generate_csrf()
        serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
        assert serializer is not None
        return serializer.dumps(dict(flask_session)), csrf


def create_candidates(app: Flask, n: int) -> list[Candidate]:
    """N candidates in progress on the demo form, each signed in with the lock claimed."""
    now = utcnow()
    made = []
    with app.app_context():
        session = db.session
        dialect.begin_write(session)
        exam_session = session.scalar(
            select(ExamSession).join(Form, ExamSession.form_id == Form.id)
            .where(Form.code == FORM_CODE)
        )
        assert exam_session is not None, "the demo seed made no exam session"
        # Held for the loop: the identity map is weak, and create_attempt reads the form's
        # 180 slots, which would otherwise be loaded again for every candidate.
        form = session.get(Form, exam_session.form_id)
        assert form is not None and [slot.item for slot in form.items]
        # argon2 costs ~0.2 s a hash on this machine: hash once, share it (nobody signs in
        # with the password; the login sessions are opened directly).
        shared_hash = auth.hash_password(PASSWORD)
        with mock.patch.object(auth, "hash_password", lambda _password: shared_hash):
            for i in range(n):
                user = auth.create_user(session, f"bench{i:05d}@example.test", PASSWORD,
                                        Role.CANDIDATE, f"Bench Candidate {i}")
                attempt = attempts.create_attempt(session, user.id, exam_session)
                attempts.transition(session, attempt, AttemptState.ADMITTED, now,
                                    reason="bench: checked in")
                attempts.transition(session, attempt, AttemptState.IN_PROGRESS, now,
                                    actor_id=user.id)
                opened = auth.open_session(session, user, "127.0.0.1", "bench/save")
                attempts.claim(session, attempt, opened.row.id, now)
                made.append((user.id, attempt, opened.token))
        session.commit()
    # Outside the app context: each sign-in needs its own (Flask-WTF caches the token in g).
    candidates = []
    for user_id, attempt, token in made:
        cookie, csrf = signed_session(app, user_id, token)
        items = [(int(item), list(options)) for item, options in attempt.option_order.items()]
        candidates.append(Candidate(attempt.id, items, cookie, csrf))
    return candidates


def headers(candidate: Candidate) -> dict[str, str]:
    return {
        "Cookie": f"session={candidate.cookie}", "X-CSRFToken": candidate.csrf,
        "Content-Type": "application/json", "Accept": "application/json",
    }


def check_signed_in(url: str, candidate: Candidate) -> None:
    """One request before the load: the forged sign-in must be accepted as a real one."""
    request = urllib.request.Request(
        f"{url}/exam/{candidate.attempt_id}/status", headers=headers(candidate)
    )
    with urllib.request.urlopen(request, timeout=10) as resp:
        status = json.loads(resp.read())
    if status.get("state") != "in_progress" or status.get("locked_elsewhere"):
        raise SystemExit(f"the simulated candidate is not signed in as expected: {status}")


# --- load ---------------------------------------------------------------------------------


def group_cpu_s(pgid: int) -> float:
    """CPU seconds (user + system) of every live process in a process group."""
    ticks = 0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def machine_busy_s() -> float:
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def cpu_snapshot(server_pgid: int) -> CpuSnapshot:
    return CpuSnapshot(group_cpu_s(server_pgid), time.process_time(), machine_busy_s(),
                       time.monotonic())


async def raw_post(host: str, port: int, request: bytes) -> tuple[int, bytes]:
    """One HTTP/1.1 request on a new connection, answered with ``Connection: close``.

    A few lines of asyncio instead of an HTTP client library: the load generator shares the
    two cores with the server, and aiohttp costs about 1 ms of CPU a request (a third of a
    core at 300 saves/s), this about a fifth of that.
    """
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = -1
        for line in head.split(b"\r\n")[1:]:
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        body = await (reader.readexactly(length) if length >= 0 else reader.read())
        return status, body
    finally:
        writer.close()


def raw_request(host: str, port: int, path: str, candidate: Candidate, body: str) -> bytes:
    data = body.encode()
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}:{port}", "Connection: close",
             f"Content-Length: {len(data)}"]
    lines += [f"{name}: {value}" for name, value in headers(candidate).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + data


async def run_load(
    url: str, candidates: Sequence[Candidate], *, interval: float, warmup: float,
    seconds: float, keepalive: bool, server_pgid: int, rng: random.Random,
) -> tuple[list[Sample], float, float, list[CpuSnapshot]]:
    loop = asyncio.get_running_loop()
    host, port = url.removeprefix("http://").rsplit(":", 1)[0], int(url.rsplit(":", 1)[1])
    samples: list[Sample] = []
    examples = ERROR_EXAMPLES
    inflight: set[asyncio.Task[None]] = set()
    start = loop.time() + 0.5
    window_start = start + warmup
    window_end = window_start + seconds
    snapshots: list[CpuSnapshot] = []
    def client(limit: int) -> aiohttp.ClientSession:
        return aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(
                limit=limit, force_close=not keepalive,
                **({"keepalive_timeout": KEEPALIVE_S} if keepalive else {}),
            ),
            timeout=aiohttp.ClientTimeout(total=30), cookie_jar=aiohttp.DummyCookieJar(),
        )

    # With keep-alive, each candidate is a browser with its own connections (a browser opens
    # up to 6 per host; an exam page rarely has more than 2 saves in flight).
    browsers = {c.attempt_id: client(2) for c in candidates} if keepalive else {}
    async with client(0) as shared:

        async def save(candidate: Candidate, due: float) -> None:
            candidate.seq += 1
            seq = candidate.seq
            item, options = rng.choice(candidate.items)
            choice = rng.choice(options)
            body = {
                "seq": seq, "item": item, "choice": choice, "flagged": rng.random() < 0.1,
                "struck": [o for o in options if o != choice and rng.random() < 0.1],
                "position": rng.randint(1, len(candidate.items)),
                "client_time": int(time.time() * 1000),
            }
            path = f"/exam/{candidate.attempt_id}/save"
            try:
                if keepalive:
                    http = browsers.get(candidate.attempt_id, shared)
                    async with http.post(f"{url}{path}", data=json.dumps(body),
                                         headers=headers(candidate)) as resp:
                        code, payload = resp.status, await resp.read()
                else:
                    code, payload = await asyncio.wait_for(raw_post(host, port, raw_request(
                        host, port, path, candidate, json.dumps(body))), 30)
                status = str(code)
                if code == 200 and json.loads(payload).get("applied"):
                    candidate.applied += 1
            except (aiohttp.ClientError, OSError, asyncio.IncompleteReadError,
                    TimeoutError) as err:
                status = type(err).__name__
                examples.setdefault(status, str(err)[:200] or "no answer within 30 s")
            samples.append(Sample(due, loop.time() - due, status))
            if status == "200":
                best = candidate.acked.get(item)
                if best is None or seq > best[0]:
                    candidate.acked[item] = (seq, choice)

        async def drive(candidate: Candidate) -> None:
            due = start + rng.uniform(0, interval)
            while due < window_end:
                delay = due - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                task = asyncio.create_task(save(candidate, due))
                inflight.add(task)
                task.add_done_callback(inflight.discard)
                due += interval * rng.uniform(0.8, 1.2)

        async def measure_cpu() -> None:
            for moment in (start, window_start, window_end):
                await asyncio.sleep(max(0.0, moment - loop.time()))
                snapshots.append(cpu_snapshot(server_pgid))

        await asyncio.gather(measure_cpu(), *(drive(c) for c in candidates))
        while inflight:
            await asyncio.gather(*list(inflight))
        snapshots.append(cpu_snapshot(server_pgid))
        for browser in browsers.values():
            await browser.close()
    return samples, window_start, window_end, snapshots


# --- verification -------------------------------------------------------------------------


def verify(app: Flask, candidates: Sequence[Candidate]) -> Verification:
    ids = [c.attempt_id for c in candidates]
    with app.app_context():
        session = db.session
        rows = {
            (a, i): (seq, choice) for a, i, seq, choice in session.execute(
                select(Response.attempt_id, Response.item_version_id, Response.seq,
                       Response.choice).where(Response.attempt_id.in_(ids))
            )
        }
        last_seq = dict(session.execute(
            select(Attempt.id, Attempt.last_seq).where(Attempt.id.in_(ids))
        ).all())
        events = session.scalar(
            select(func.count()).select_from(AttemptEvent)
            .where(AttemptEvent.kind == "save", AttemptEvent.attempt_id.in_(ids))
        ) or 0
        session.commit()
    missing = wrong = behind = 0
    for c in candidates:
        for item, (seq, choice) in c.acked.items():
            stored = rows.get((c.attempt_id, item))
            if stored is None or stored[0] < seq:
                missing += 1
            elif stored[0] == seq and stored[1] != choice:
                wrong += 1
        top = max((seq for seq, _ in c.acked.values()), default=0)
        behind += last_seq[c.attempt_id] < top
    return Verification(
        acked_saves=sum(c.applied for c in candidates),
        acked_answers=sum(len(c.acked) for c in candidates), missing=missing,
        wrong_choice=wrong, last_seq_behind=behind, response_rows=len(rows),
        save_events=int(events),
    )


# --- one run ------------------------------------------------------------------------------


def bench_one(kind: str, args: argparse.Namespace) -> Result:
    workdir = Path(tempfile.mkdtemp(prefix=f"bench-save-{kind}-"))
    url = f"sqlite:///{workdir / 'bench.db'}" if kind == "sqlite" else args.pg_url
    # The expiry sweeper at its production interval (LiveServer's 1 s suits e2e tests).
    extra = {"EXPIRY_SWEEP_SECONDS": "5"}
    gunicorn_args = args.gunicorn_args
    if args.keepalive:
        # As `make run` serves: idle browser connections stay open between saves.
        gunicorn_args = (f"--keep-alive {KEEPALIVE_S + 15} "
                         f"--worker-connections {2 * args.candidates + 100} {gunicorn_args}")
    if gunicorn_args:
        extra["GUNICORN_CMD_ARGS"] = gunicorn_args.strip()
    workers = args.workers or BEST_CONFIG[kind][0]
    threads = args.threads or BEST_CONFIG[kind][1]
    server = LiveServer(url, workers=workers, threads=threads, env_extra=extra)
    config = (f"gunicorn {'gthread' if threads > 1 else 'sync'} worker, "
              f"{workers} workers x {threads} threads, "
              f"{'keep-alive' if args.keepalive else 'a new connection per save'}"
              + (f", {args.gunicorn_args}" if args.gunicorn_args else ""))
    print(f"\n== {kind}: {config} ==", flush=True)
    try:
        if kind == "postgres":
            reset_postgres(url)
        began = time.monotonic()
        server.prepare()
        app = bench_app(server)
        candidates = create_candidates(app, args.candidates)
        print(f"set-up: migrated, seeded and created {len(candidates)} candidates in "
              f"{time.monotonic() - began:.1f} s", flush=True)
        server.start(log_path=workdir / "gunicorn.log")
        assert server.process is not None
        pgid = server.process.pid
        try:
            check_signed_in(server.url, candidates[0])
            rate = args.rate or args.candidates / SAVE_INTERVAL_S
            interval = args.candidates / rate
            samples, w0, w1, (begin, cpu0, cpu1, drained) = asyncio.run(run_load(
                server.url, candidates, interval=interval, warmup=args.warmup,
                seconds=args.seconds, keepalive=args.keepalive, server_pgid=pgid,
                rng=random.Random(args.seed),
            ))
        finally:
            server.stop()
        verification = verify(app, candidates)
        with app.app_context():
            db.engine.dispose()
    finally:
        if server.process is not None:
            server.kill()
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    measured = [s for s in samples if w0 <= s.due < w1]
    wall = cpu1.wall_s - cpu0.wall_s
    return Result(
        db=kind, config=config, target_rate=rate, window_s=w1 - w0, sent=len(measured),
        ok=sum(s.status == "200" for s in measured),
        errors=Counter(s.status for s in measured if s.status != "200"),
        latencies_ms=[s.latency_s * 1000 for s in measured if s.status == "200"],
        cpu=((cpu1.server_s - cpu0.server_s) / wall, (cpu1.client_s - cpu0.client_s) / wall,
             (cpu1.machine_busy_s - cpu0.machine_busy_s) / wall),
        verification=verification,
        cpu_ms_per_save=(drained.server_s - begin.server_s) * 1000
        / max(1, verification.save_events),
        applied_rate=verification.save_events / (drained.wall_s - begin.wall_s),
    )


def ms(value: float) -> str:
    return "-" if value != value else f"{value:.1f}"  # NaN when nothing succeeded


def report(r: Result, args: argparse.Namespace) -> None:
    v = r.verification
    errors = ", ".join(f"{k}: {n}" for k, n in r.errors.most_common()) or "none"
    print(f"candidates {args.candidates}, target {r.target_rate:.1f} saves/s, "
          f"measured {r.window_s:.0f} s after a {args.warmup:.0f} s warm-up")
    print(f"sent {r.sent}, ok {r.ok} = {r.achieved:.1f} saves/s; errors: {errors}; "
          f"the server applied {r.applied_rate:.1f} saves/s over the whole run")
    for kind in r.errors:
        if kind in ERROR_EXAMPLES:
            print(f"  {kind}, e.g.: {ERROR_EXAMPLES[kind]}")
    print(f"latency ms (from when due): p50 {ms(r.pct(50))}  p95 {ms(r.pct(95))}  "
          f"p99 {ms(r.pct(99))}  max {ms(max(r.latencies_ms, default=float('nan')))}")
    print(f"CPU (cores of {os.cpu_count()}): gunicorn {r.cpu[0]:.2f}, load generator "
          f"{r.cpu[1]:.2f}, whole machine {r.cpu[2]:.2f}; gunicorn CPU per applied save "
          f"{r.cpu_ms_per_save:.1f} ms")
    print(f"durability: {v.acked_saves} acknowledged saves over {v.acked_answers} answers; "
          f"{v.missing} missing, {v.wrong_choice} with another choice, {v.last_seq_behind} "
          f"attempts with last_seq behind; {v.response_rows} response rows, "
          f"{v.save_events} save events -> {'OK' if v.ok else 'ACKNOWLEDGED SAVES LOST'}")
    print(f"target (>= {TARGET_RATE:.0f} saves/s, p99 <= {TARGET_P99_MS:.0f} ms, no errors): "
          f"{'met' if r.met else 'NOT met'}", flush=True)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.save", description=__doc__.split("\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    p.add_argument("--candidates", type=int, default=1000)
    p.add_argument("--rate", type=float, default=None,
                   help="target saves/s over all candidates (default: one save per "
                        f"candidate every {SAVE_INTERVAL_S:.0f} s)")
    p.add_argument("--seconds", type=float, default=60.0, help="measured window")
    p.add_argument("--warmup", type=float, default=10.0)
    p.add_argument("--workers", type=int, default=None,
                   help="gunicorn workers (default: the best measured, per database: "
                        + ", ".join(f"{db} {w}" for db, (w, _t) in BEST_CONFIG.items()) + ")")
    p.add_argument("--threads", type=int, default=None,
                   help="threads per worker (default: the best measured: "
                        + ", ".join(f"{db} {t}" for db, (_w, t) in BEST_CONFIG.items()) + ")")
    p.add_argument("--keepalive", action=argparse.BooleanOptionalAction, default=False,
                   help="each candidate keeps its connections open between saves, as a "
                        "browser does with a gthread server's keep-alive (default off: "
                        "gunicorn's sync workers, the default, close every connection)")
    p.add_argument("--gunicorn-args", default="",
                   help="extra gunicorn options, passed as GUNICORN_CMD_ARGS")
    p.add_argument("--pg-url", default=os.environ.get("BENCH_POSTGRES_URL", PG_URL),
                   help="PostgreSQL database to WIPE and use (default: %(default)s)")
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--keep", action="store_true", help="keep the work directory and log")
    p.add_argument("--profile", type=int, nargs="?", const=500, default=0, metavar="N",
                   help="instead of the load: profile N saves in-process (default 500)")
    return p.parse_args(argv)


# --- --profile: where a save's CPU goes, in-process --------------------------------------


def _save_client(app: Flask, candidate: Candidate) -> Callable[[], float]:
    """A function that sends the candidate's next save through Flask's test client."""
    client = app.test_client()
    client.set_cookie("session", candidate.cookie)

    def send() -> float:
        candidate.seq += 1
        item, options = candidate.items[candidate.seq % len(candidate.items)]
        body = {"seq": candidate.seq, "item": item, "choice": options[candidate.seq % 4],
                "flagged": False, "struck": [], "position": 1, "client_time": 1}
        began = time.perf_counter()
        resp = client.post(f"/exam/{candidate.attempt_id}/save", data=json.dumps(body),
                           headers={"X-CSRFToken": candidate.csrf,
                                    "Content-Type": "application/json"})
        assert resp.status_code == 200, resp.get_data(as_text=True)
        return (time.perf_counter() - began) * 1000

    return send


def _cpu_ms(send: Callable[[], float], n: int) -> float:
    for _ in range(n // 10):
        send()
    began = time.process_time()
    for _ in range(n):
        send()
    return (time.process_time() - began) * 1000 / n


def _package(filename: str) -> str:
    for marker in ("site-packages/sqlalchemy/", "site-packages/"):
        if marker in filename:
            parts = filename.split(marker, 1)[1].split("/")
            return ("sqlalchemy/" + parts[0]) if "sqlalchemy" in marker else parts[0]
    if "/webapp/" in filename:
        return "webapp"
    return "C builtins / drivers" if filename == "~" else "stdlib"


def profile(kind: str, args: argparse.Namespace) -> None:
    """CPU per save request with parts stubbed out, a cProfile summary, GC pauses and the
    SQLite write-lock wait under threads. Nothing in the application is changed."""
    import cProfile
    import gc
    import pstats
    import threading

    from webapp.extensions import login_manager
    from webapp.services import saves

    workdir = Path(tempfile.mkdtemp(prefix=f"bench-save-profile-{kind}-"))
    url = f"sqlite:///{workdir / 'bench.db'}" if kind == "sqlite" else args.pg_url
    try:
        if kind == "postgres":
            reset_postgres(url)
        server = LiveServer(url)
        server.prepare()
        app = bench_app(server)
        candidates = create_candidates(app, 4)
        n = args.profile
        print(f"\n== profile on {kind}: CPU ms per save request, in-process, one thread ==")
        send = _save_client(app, candidates[0])
        full = _cpu_ms(send, n)
        print(f"{'full save request':<62} {full:6.2f}")
        fake = saves.SaveResult(applied=True, seq=1, remaining_s=1.0,
                                state=AttemptState.IN_PROGRESS)
        with mock.patch.object(saves, "apply_save", lambda *_a, **_k: fake):
            no_save = _cpu_ms(send, n)
            print(f"{'  apply_save stubbed (no save transaction)':<62} {no_save:6.2f}")
            with app.app_context():
                user = db.session.scalar(select(Attempt).where(
                    Attempt.id == candidates[0].attempt_id)).candidate
                db.session.expunge_all()
            with mock.patch.object(login_manager, "_user_callback", lambda _uid: user):
                bare_app = _cpu_ms(send, n)
            print(f"{'  and the user loader stubbed (no database at all)':<62} {bare_app:6.2f}")
        reference = Flask("reference")

        @reference.post("/exam/<int:attempt_id>/save")
        def _reference_save(attempt_id: int) -> object:
            from flask import jsonify, request

            return jsonify(ok=True, seq=request.get_json()["seq"])

        print(f"{'  a bare Flask app with the same route (reference)':<62} "
              f"{_cpu_ms(_save_client(reference, candidates[1]), n):6.2f}")
        print(f"=> save transaction {full - no_save:.2f} ms, sign-in lookup "
              f"{no_save - bare_app:.2f} ms, Flask + extensions {bare_app:.2f} ms")

        pauses: list[tuple[int, float]] = []
        started = [0.0]

        def on_gc(phase: str, info: dict[str, int]) -> None:
            if phase == "start":
                started[0] = time.perf_counter()
            else:
                pauses.append((info["generation"], (time.perf_counter() - started[0]) * 1000))

        gc.callbacks.append(on_gc)
        try:
            latencies = sorted(send() for _ in range(n * 3))
        finally:
            gc.callbacks.remove(on_gc)
        full_gc = [ms_ for gen, ms_ in pauses if gen == 2]
        print(f"{n * 3} sequential saves: p50 {latencies[len(latencies) // 2]:.1f} ms, max "
              f"{latencies[-1]:.1f} ms; {len(full_gc)} full (gen 2) GC pauses, longest "
              f"{max(full_gc, default=0.0):.1f} ms; {len(gc.get_objects())} objects tracked")

        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(n):
            send()
        profiler.disable()
        stats = pstats.Stats(profiler)
        shares: Counter[str] = Counter()
        for (filename, _line, _func), row in stats.stats.items():  # type: ignore[attr-defined]
            shares[_package(filename)] += row[2]
        total = sum(shares.values())
        print("own time by package (cProfile): " + ", ".join(
            f"{name} {t / total:.0%}" for name, t in shares.most_common(8)))
        stats.sort_stats("cumulative").print_stats(r"/webapp/", 12)

        print("threads saving at once (closed loop): latency, and the wait in begin_write")
        waits: list[float] = []
        begin_write = dialect.begin_write

        def timed_begin_write(session: Any) -> None:
            began = time.perf_counter()
            begin_write(session)
            waits.append((time.perf_counter() - began) * 1000)

        with mock.patch.object(dialect, "begin_write", timed_begin_write):
            for threads in (1, 2, 4):
                waits.clear()
                lat: list[float] = []
                senders = [_save_client(app, c) for c in candidates[:threads]]

                def loop(send_one: Callable[[], float], out: list[float]) -> None:
                    out.extend(send_one() for _ in range(n // 2))

                workers = [threading.Thread(target=loop, args=(f, lat)) for f in senders]
                began = time.perf_counter()
                for w in workers:
                    w.start()
                for w in workers:
                    w.join()
                elapsed = time.perf_counter() - began
                lat.sort()
                waits.sort()
                p99 = int(len(lat) * 0.99)
                print(f"  {threads} thread(s): {len(lat) / elapsed:5.0f} saves/s, p50 "
                      f"{lat[len(lat) // 2]:.1f} p99 {lat[p99]:.1f} max {lat[-1]:.1f} ms; "
                      f"begin_write p99 {waits[p99]:.1f} max {waits[-1]:.1f} ms")
        with app.app_context():
            db.engine.dispose()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    kinds = ("sqlite", "postgres") if args.db == "both" else (args.db,)
    if args.profile:
        for kind in kinds:
            profile(kind, args)
        return 0
    print(f"bench-save: {args.candidates} candidates on {os.cpu_count()} cores, "
          f"Python {sys.version.split()[0]}")
    results = []
    for kind in kinds:
        result = bench_one(kind, args)
        report(result, args)
        results.append(result)
    print("\ndb        saves/s  target  ok      errors  p50 ms  p95 ms  p99 ms  max ms  durable")
    for r in results:
        worst = max(r.latencies_ms, default=float("nan"))
        print(f"{r.db:<9} {r.achieved:7.1f} {r.target_rate:7.1f} {r.ok:7d} "
              f"{sum(r.errors.values()):7d} {ms(r.pct(50)):>7} {ms(r.pct(95)):>7} "
              f"{ms(r.pct(99)):>7} {ms(worst):>7}  {'yes' if r.verification.ok else 'NO'}")
    return 0 if all(r.verification.ok for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
