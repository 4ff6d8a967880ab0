"""SIGKILL the server in the middle of a stream of saves: an acknowledged save is durable.

A candidate signs in and starts the exam over HTTP against gunicorn on a file database.
Four threads stream JSON saves (each thread waits for one answer before sending the next;
the four run concurrently, numbered from one per-attempt sequence, as the browser's queue
numbers them): one thread rewrites a single question again and again, the others each
cycle through their own questions. Once enough saves are acknowledged, the server's whole
process group is killed with SIGKILL. The database must then hold every acknowledged save
(and nothing but acknowledged saves or the one save per thread still in flight), and pass
an integrity check; a restarted server on the same database must let the candidate carry
on from where the database says they were, in the same login session.
"""

from __future__ import annotations

import http.client
import http.cookiejar
import itertools
import json
import re
import sqlite3
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, Row, select
from sqlalchemy.engine import make_url

from tests.live_server import LiveServer
from webapp.dialect import make_engine
from webapp.models import Attempt, AttemptEvent, AttemptState, Response, User
from webapp.services.seed import DEMO_ACCOUNTS

pytestmark = pytest.mark.slow

CANDIDATE = next(a for a in DEMO_ACCOUNTS if a.email == "candidate1@example.org")
STREAMS = 4  # stream 0 rewrites one question; 1..3 cycle through five questions each
KILL_AFTER_ACKS = 120  # roughly 1-2 s of saves on the 2-core machine
MIN_ACKS_PER_STREAM = 10
HTTP_TIMEOUT_S = 15


class Browser:
    """A cookie-keeping HTTP client, like one browser tab (urllib; no JavaScript)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def request(self, method: str, path: str, *, form: dict[str, str] | None = None,
                body: object | None = None, headers: dict[str, str] | None = None
                ) -> tuple[int, str]:
        data = None
        all_headers = dict(headers or {})
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            all_headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            data = json.dumps(body).encode()
            all_headers.update({"Content-Type": "application/json",
                                "Accept": "application/json"})
        req = urllib.request.Request(self.base_url + path, data=data, headers=all_headers,
                                     method=method)
        try:
            with self.opener.open(req, timeout=HTTP_TIMEOUT_S) as resp:
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as err:
            return err.code, err.read().decode()

    def get(self, path: str) -> tuple[int, str]:
        return self.request("GET", path)


def hidden_csrf(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, "no CSRF field on the page"
    return match.group(1)


@dataclass(frozen=True)
class ExamPage:
    csrf: str
    next_seq: int
    questions: list[dict[str, Any]]
    responses: dict[str, dict[str, Any]]


def exam_page(page: str) -> ExamPage:
    csrf = re.search(r'data-csrf="([^"]+)"', page)
    next_seq = re.search(r'data-next-seq="(\d+)"', page)
    paper = re.search(r'<script type="application/json" id="paper-data">(.*?)</script>', page,
                      re.S)
    assert csrf and next_seq and paper, "not the exam page"
    data = json.loads(paper.group(1))
    return ExamPage(csrf.group(1), int(next_seq.group(1)), data["questions"],
                    data["responses"])


@dataclass(frozen=True)
class Save:
    seq: int
    item: int
    choice: str


@dataclass
class Ledger:
    """What the candidate's browser sent and what the server acknowledged, across threads."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    seqs: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    acked: list[Save] = field(default_factory=list)
    acked_by_stream: list[int] = field(default_factory=lambda: [0] * STREAMS)
    in_flight: dict[int, Save] = field(default_factory=dict)  # stream -> unanswered save
    unexpected: list[str] = field(default_factory=list)
    enough: threading.Event = field(default_factory=threading.Event)

    def next_seq(self) -> int:
        with self.lock:
            return next(self.seqs)

    def ack(self, stream: int, save: Save) -> None:
        with self.lock:
            self.acked.append(save)
            self.acked_by_stream[stream] += 1
            del self.in_flight[stream]
            if (len(self.acked) >= KILL_AFTER_ACKS
                    and min(self.acked_by_stream) >= MIN_ACKS_PER_STREAM):
                self.enough.set()


def stream_saves(browser: Browser, attempt_id: int, csrf: str, stream: int,
                 questions: list[dict[str, Any]], ledger: Ledger, stop: threading.Event
                 ) -> None:
    """Send saves one after another until the server is gone (or ``stop`` is set)."""
    for n in itertools.count():
        if stop.is_set():
            return
        question = questions[n % len(questions)]
        options = [option_id for option_id, _text in question["options"]]
        save = Save(ledger.next_seq(), question["item"], options[n % len(options)])
        with ledger.lock:
            ledger.in_flight[stream] = save
        try:
            status, text = browser.request(
                "POST", f"/exam/{attempt_id}/save", headers={"X-CSRFToken": csrf},
                body={"seq": save.seq, "item": save.item, "choice": save.choice,
                      "flagged": False, "struck": [], "position": 1,
                      "client_time": 1_790_000_000_000 + save.seq},
            )
        except (OSError, http.client.HTTPException):
            return  # the server is gone: this save stays unacknowledged
        if status != 200 or not json.loads(text).get("applied"):
            with ledger.lock:
                ledger.unexpected.append(f"stream {stream} seq {save.seq}: {status} {text}")
            stop.set()
            return
        ledger.ack(stream, save)


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    live = LiveServer(database_url, workers=2, threads=4)
    live.prepare()
    live.start(log_path=tmp_path / "gunicorn.log")
    yield live
    live.stop()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    db_engine = make_engine(database_url)
    yield db_engine
    db_engine.dispose()


def read_state(engine: Engine, attempt_id: int
               ) -> tuple[Row[Any], dict[int, Row[Any]], set[int]]:
    """The attempt, its responses by item and the sequence numbers of its save events."""
    with engine.connect() as conn:
        attempt = conn.execute(select(Attempt.__table__).where(Attempt.id == attempt_id)).one()
        responses = {
            row.item_version_id: row for row in conn.execute(
                select(Response.__table__).where(Response.attempt_id == attempt_id))
        }
        event_seqs = set(conn.scalars(select(AttemptEvent.seq).where(
            AttemptEvent.attempt_id == attempt_id, AttemptEvent.kind == "save")))
    return attempt, responses, event_seqs


def sqlite_checks(database_url: str) -> tuple[list[tuple[str]], list[tuple[Any, ...]]]:
    """PRAGMA integrity_check and foreign_key_check on a fresh connection (replays the WAL)."""
    path = make_url(database_url).database
    assert path
    conn = sqlite3.connect(path)
    try:
        return (conn.execute("PRAGMA integrity_check").fetchall(),
                conn.execute("PRAGMA foreign_key_check").fetchall())
    finally:
        conn.close()


def test_acknowledged_saves_survive_kill_9_and_the_candidate_continues(
    server: LiveServer, engine: Engine, database_url: str, tmp_path: Path
) -> None:
    with engine.connect() as conn:
        attempt_id = conn.scalar(
            select(Attempt.id).join(User, User.id == Attempt.candidate_id)
            .where(User.email == CANDIDATE.email)
        )
    assert attempt_id is not None

    browser = Browser(server.url)
    status, login_page = browser.get("/login")
    assert status == 200
    status, home = browser.request("POST", "/login", form={
        "email": CANDIDATE.email, "password": CANDIDATE.password,
        "csrf_token": hidden_csrf(login_page),
    })
    assert status == 200 and "Start exam" in home
    status, intro = browser.get(f"/exam/{attempt_id}/start")
    assert status == 200
    status, page = browser.request("POST", f"/exam/{attempt_id}/start", form={
        "accept": "yes", "csrf_token": hidden_csrf(intro),
    })
    assert status == 200, page
    exam = exam_page(page)
    assert exam.next_seq == 1 and exam.responses == {}

    # Disjoint questions per stream: a question is only ever changed by one sequential
    # stream, so at most one unanswered save per question can be in the database.
    ledger, stop = Ledger(), threading.Event()
    shares = [exam.questions[:1]] + [exam.questions[1 + 5 * i:6 + 5 * i] for i in range(3)]
    threads = [
        threading.Thread(target=stream_saves, name=f"saves-{i}", daemon=True,
                         args=(browser, attempt_id, exam.csrf, i, shares[i], ledger, stop))
        for i in range(STREAMS)
    ]
    for thread in threads:
        thread.start()
    try:
        assert ledger.enough.wait(timeout=30), (
            f"only {len(ledger.acked)} saves acknowledged: {ledger.unexpected}")
        assert not ledger.unexpected
        server.kill()  # mid-stream: the four threads have requests in flight or on the way
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=HTTP_TIMEOUT_S + 5)
    assert not any(thread.is_alive() for thread in threads)
    assert not ledger.unexpected

    # Every acknowledged save is in the database; nothing else is, except a save that was
    # in flight when the server died (committed or not, it was never acknowledged).
    attempt, responses, event_seqs = read_state(engine, attempt_id)
    highest: dict[int, Save] = {}
    for save in ledger.acked:
        if save.item not in highest or save.seq > highest[save.item].seq:
            highest[save.item] = save
    in_flight = {save.item: save for save in ledger.in_flight.values()}
    assert set(highest) == {q["item"] for share in shares for q in share}
    for item, row in responses.items():
        allowed = {(s.seq, s.choice) for s in (highest.get(item), in_flight.get(item)) if s}
        assert (row.seq, row.choice) in allowed, (
            f"item {item}: stored seq {row.seq} {row.choice!r}, acknowledged "
            f"{highest.get(item)}, in flight {in_flight.get(item)}")
    assert set(highest) <= set(responses), "an acknowledged answer has no row"
    assert {save.seq for save in ledger.acked} <= event_seqs
    assert event_seqs <= {save.seq for save in ledger.acked} | {
        save.seq for save in ledger.in_flight.values()}
    assert attempt.last_seq >= max(save.seq for save in ledger.acked)
    assert attempt.state == AttemptState.IN_PROGRESS
    if make_url(database_url).get_backend_name() == "sqlite":
        integrity, foreign_keys = sqlite_checks(database_url)
        assert integrity == [("ok",)]
        assert foreign_keys == []

    # Restart on the same database: the same browser (its login session is a database row)
    # reloads the exam, sees what the database holds, and its next save is accepted.
    server.start(log_path=tmp_path / "gunicorn-restarted.log")
    status, page = browser.get(f"/exam/{attempt_id}/q/1")
    assert status == 200, page
    reloaded = exam_page(page)
    assert reloaded.next_seq == attempt.last_seq + 1
    assert {int(item): (r["seq"], r["choice"]) for item, r in reloaded.responses.items()} == {
        item: (row.seq, row.choice) for item, row in responses.items()}
    question = exam.questions[-1]  # never touched by the streams
    choice = question["options"][-1][0]
    status, text = browser.request(
        "POST", f"/exam/{attempt_id}/save", headers={"X-CSRFToken": reloaded.csrf},
        body={"seq": reloaded.next_seq, "item": question["item"], "choice": choice,
              "flagged": True, "struck": [], "position": len(exam.questions)},
    )
    assert status == 200, text
    answer = json.loads(text)
    assert answer["applied"] is True and answer["seq"] == reloaded.next_seq
    assert answer["state"] == "in_progress"
    attempt, responses, _events = read_state(engine, attempt_id)
    row = responses[question["item"]]
    assert (row.seq, row.choice, row.flagged) == (reloaded.next_seq, choice, True)
    assert attempt.last_seq == reloaded.next_seq
    assert attempt.current_position == len(exam.questions)
