"""Sign-in, sign-out, revocable sessions, throttling, password storage, the secret key."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from tests.conftest import FakeClock
from tests.factories import PASSWORD, make_user
from tests.webapp.conftest import World, build_world, db_rows, login, new_audit_actions
from webapp import create_app
from webapp.config import DEV_SECRET_KEY
from webapp.extensions import db
from webapp.models import Attempt, AuditLog, Base, LoginSession, Role, User
from webapp.services import auth as auth_service
from webapp.services.auth import token_id

HOMES = {Role.CANDIDATE: "/candidate/", Role.PROCTOR: "/proctor/", Role.ADMIN: "/admin/"}
GENERIC = "Invalid email or password."
TOO_MANY = "Too many attempts. Please wait a few minutes and try again."


def _post_login(client: FlaskClient, email: str, password: str, **kwargs: str) -> TestResponse:
    return client.post("/login", data={"email": email, "password": password, **kwargs})


def _path(resp: TestResponse) -> str:
    return urlsplit(resp.headers["Location"]).path


def _session_cookie(client: FlaskClient) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def _browser_with(app: Flask, cookie: str) -> FlaskClient:
    browser = app.test_client()
    browser.set_cookie("session", cookie)
    return browser


def _audit(app: Flask, action: str) -> list[AuditLog]:
    with app.app_context():
        rows = list(db.session.scalars(select(AuditLog).where(AuditLog.action == action)
                                       .order_by(AuditLog.id)))
        db.session.expunge_all()
        db.session.rollback()
    return rows


# --- signing in ------------------------------------------------------------------------


@pytest.mark.parametrize("role", list(Role))
def test_each_role_lands_on_its_home(world: World, role: Role) -> None:
    client = world.app.test_client()
    resp = _post_login(client, world.emails[role], PASSWORD)
    assert resp.status_code == 303
    assert _path(resp) == HOMES[role]
    home = client.get(HOMES[role])
    assert home.status_code == 200
    assert "Sign out" in home.get_data(as_text=True)
    assert _path(client.get("/")) == HOMES[role]
    assert _path(client.get("/login")) == HOMES[role]


def _normalised(resp: TestResponse, email: str) -> str:
    body = resp.get_data(as_text=True).replace(email, "EMAIL")
    return re.sub(r'(name="csrf_token" value=|"X-CSRFToken": )"[^"]+"', r"\1TOKEN", body)


def test_wrong_password_unknown_email_and_inactive_account_get_one_answer(
    world: World,
) -> None:
    client = world.app.test_client()
    with world.app.app_context():
        inactive = make_user(db.session, Role.CANDIDATE)
        inactive.active = False
        inactive_email = inactive.email
        db.session.commit()
    before = db_rows(world.app)
    answers = {
        world.candidate: _post_login(client, world.candidate, "not the password"),
        "nobody@example.test": _post_login(client, "nobody@example.test", PASSWORD),
        inactive_email: _post_login(client, inactive_email, PASSWORD),
        world.proctor: _post_login(client, world.proctor, ""),
    }
    pages = set()
    for email, resp in answers.items():
        assert resp.status_code == 401, email
        assert f'<p class="error" role="alert" id="login-error">{GENERIC}</p>' in (
            resp.get_data(as_text=True))
        pages.add(_normalised(resp, email))
    assert len(pages) == 1  # nothing tells an existing account from an unknown one
    assert _path(client.get("/candidate/")) == "/login"  # still signed out
    after = db_rows(world.app)
    assert new_audit_actions(before, after) == ["security.login_failed"] * len(answers)
    assert after["login_sessions"] == before["login_sessions"]
    logged = [row.data["email"] for row in _audit(world.app, "security.login_failed")]
    assert logged == list(answers)


BAD_NEXT = [
    "//evil.test", "https://evil.test", "/\\evil.test", "javascript:alert(1)",
    "http:/evil.test", "\\\\evil.test", "/\\/evil.test", "evil.test/path",
    "//evil.test/candidate/", "https:evil.test",
]


@pytest.mark.parametrize("target", BAD_NEXT)
def test_next_is_ignored_unless_it_is_a_local_path(world: World, target: str) -> None:
    client = world.app.test_client()
    page = client.get("/login", query_string={"next": target}).get_data(as_text=True)
    assert 'name="next"' not in page
    resp = _post_login(client, world.candidate, PASSWORD, next=target)
    assert resp.status_code == 303
    assert resp.headers["Location"] == "/candidate/"
    # Already signed in: a GET of the sign-in page with the same target goes home too.
    again = client.get("/login", query_string={"next": target})
    assert again.headers["Location"] == "/candidate/"


def test_next_takes_the_candidate_back_to_the_page_asked_for(world: World) -> None:
    client = world.app.test_client()
    wanted = f"/exam/{world.attempt_id}/q/2"
    refused = client.get(wanted)
    assert refused.status_code == 302
    login_url = refused.headers["Location"]
    page = client.get(login_url).get_data(as_text=True)
    match = re.search(r'name="next" value="([^"]+)"', page)
    assert match and match.group(1) == wanted
    resp = _post_login(client, world.candidate, PASSWORD, next=match.group(1))
    assert resp.headers["Location"] == wanted
    assert client.get(wanted).status_code == 200


# --- server-side sessions --------------------------------------------------------------


def test_logout_revokes_the_session_on_the_server(world: World) -> None:
    client = login(world.app, world.candidate)
    cookie = _session_cookie(client)
    assert _browser_with(world.app, cookie).get("/candidate/").status_code == 200  # control

    out = client.post("/logout")
    assert out.status_code == 303 and _path(out) == "/login"
    assert "You have signed out." in client.get("/login").get_data(as_text=True)

    replay = _browser_with(world.app, cookie)
    page = replay.get("/candidate/")
    assert page.status_code == 302 and _path(page) == "/login"
    save = replay.post(f"/exam/{world.attempt_id}/save",
                       json={"seq": 1, "item": world.items[0], "choice": "A"})
    assert save.status_code == 401 and save.json["error"] == "unauthorized"
    with world.app.app_context():
        rows = db.session.scalars(select(LoginSession)).all()
        assert [(r.revoked_reason, r.revoked_at is not None) for r in rows] == [
            ("signed out", True)
        ]
        db.session.rollback()


def test_unlock_revokes_the_old_browser_and_lets_the_new_one_continue(world: World) -> None:
    aid = world.attempt_id
    save_url = f"/exam/{aid}/save"
    old = login(world.app, world.candidate)
    old_sid = token_id(_session_for(old))
    assert old.get(f"/exam/{aid}/q/1").status_code == 200  # takes the lock
    first = old.post(save_url, json={"seq": 1, "item": world.items[0], "choice": "A"})
    assert first.status_code == 200 and first.json["applied"] is True

    new = login(world.app, world.candidate)
    locked = new.get(f"/exam/{aid}/q/1")
    assert locked.status_code == 409
    assert "A proctor must unlock it" in locked.get_data(as_text=True)
    refused = new.post(save_url, json={"seq": 2, "item": world.items[0], "choice": "B"})
    assert refused.status_code == 409 and refused.json["error"] == "attempt_locked"

    proctor = login(world.app, world.proctor)
    unlocked = proctor.post(f"/proctor/attempts/{aid}/unlock",
                            data={"reason": "workstation change"})
    assert unlocked.status_code == 303

    gone = old.post(save_url, json={"seq": 2, "item": world.items[0], "choice": "C"})
    assert gone.status_code == 401 and gone.json["error"] == "unauthorized"
    assert _path(old.get(f"/exam/{aid}/q/1")) == "/login"

    assert new.get(f"/exam/{aid}/q/1").status_code == 200
    saved = new.post(save_url, json={"seq": 2, "item": world.items[0], "choice": "D"})
    assert saved.status_code == 200 and saved.json["applied"] is True

    new_sid = token_id(_session_for(new))
    with world.app.app_context():
        attempt = db.session.get(Attempt, aid)
        assert attempt is not None and attempt.lock_session_id == new_sid
        sessions = {s.id: s for s in db.session.scalars(select(LoginSession))}
        assert sessions[old_sid].revoked_reason == "unlocked by proctor"
        assert sessions[new_sid].revoked_at is None
        db.session.rollback()
    [entry] = _audit(world.app, "proctor.unlock")
    assert entry.reason == "workstation change" and entry.target == f"attempt:{aid}"


def _session_for(client: FlaskClient) -> str:
    """The login-session token held in this browser's (signed) cookie."""
    with client.session_transaction() as cookie_session:
        return str(cookie_session["sid"])


# --- throttling ------------------------------------------------------------------------


@pytest.fixture
def limited_world(make_app: Callable[..., Flask], clock: FakeClock) -> World:
    return build_world(make_app(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://"),
                       clock)


def test_failed_sign_ins_lock_the_account_not_the_room(limited_world: World) -> None:
    world = limited_world
    client = world.app.test_client()
    spellings = [world.candidate, world.candidate.upper(), f"  {world.candidate} "]
    for attempt in range(5):
        resp = _post_login(client, spellings[attempt % 3], f"guess {attempt}")
        assert resp.status_code == 401
    blocked = _post_login(client, world.candidate, PASSWORD)
    assert blocked.status_code == 429
    assert TOO_MANY in blocked.get_data(as_text=True)
    assert _path(client.get("/candidate/")) == "/login"
    as_json = client.post("/login", data={"email": world.candidate, "password": PASSWORD},
                          headers={"Accept": "application/json"})
    assert as_json.status_code == 429
    assert as_json.json == {"error": "too_many_requests", "message": TOO_MANY}

    # Another account, same address: unaffected.
    other = _post_login(world.app.test_client(), world.proctor, PASSWORD)
    assert other.status_code == 303 and _path(other) == "/proctor/"
    failed = _audit(world.app, "security.login_failed")
    assert [row.data["email"] for row in failed] == [world.candidate] * 5
    assert {row.ip for row in failed} == {"127.0.0.1"}


def test_successful_sign_ins_do_not_count_against_the_account(limited_world: World) -> None:
    for _ in range(7):
        assert _post_login(limited_world.app.test_client(), limited_world.candidate,
                           PASSWORD).status_code == 303


def test_the_per_address_limit_applies_across_accounts(make_app: Callable[..., Flask],
                                                       clock: FakeClock) -> None:
    world = build_world(make_app(RATELIMIT_ENABLED=True, LOGIN_LIMIT_PER_IP="5 per minute"),
                        clock)
    room = world.app.test_client()
    for email in (world.candidate, world.other_candidate, world.proctor, world.admin):
        assert _post_login(room, email, PASSWORD).status_code == 303
    assert _post_login(room, "stranger@example.test", "guess").status_code == 401
    blocked = _post_login(room, world.candidate, PASSWORD)
    assert blocked.status_code == 429 and TOO_MANY in blocked.get_data(as_text=True)
    elsewhere = world.app.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "10.1.2.3"
    assert _post_login(elsewhere, world.candidate, PASSWORD).status_code == 303


# --- password storage and the secret key -----------------------------------------------


def test_passwords_are_stored_as_argon2_hashes_only(make_app: Callable[..., Flask]) -> None:
    app = make_app()
    secret, wrong = "a distinctive pass phrase 7781", "a wrong pass phrase 1187"
    with app.app_context():
        user = make_user(db.session, Role.CANDIDATE, password=secret)
        email = user.email
        db.session.commit()
    client = app.test_client()
    assert _post_login(client, email, wrong).status_code == 401
    assert _post_login(client, email, secret).status_code == 303
    with app.app_context():
        stored = db.session.scalar(select(User.password_hash).where(User.email == email))
        assert stored is not None and stored.startswith("$argon2id$")
        assert PasswordHasher().verify(stored, secret)
        dump = repr(db_rows(app, tuple(t.name for t in Base.metadata.sorted_tables)))
        db.session.rollback()
    assert secret not in dump and wrong not in dump


@pytest.mark.parametrize("env, secret_from", [
    ("production", "unset"), ("production", "environment"), ("production", "config"),
    ("staging", "unset"), ("from-environment", "unset"),
])
def test_the_default_secret_is_refused_outside_dev_and_test(
    env: str, secret_from: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("EXAM_ENV", raising=False)
    config: dict[str, object] = {"DATABASE_URL": f"sqlite:///{tmp_path / 'prod.db'}",
                                 "EXPIRY_SWEEP_SECONDS": 0}
    if env == "from-environment":
        pass  # EXAM_ENV unset: production is the default
    else:
        config["EXAM_ENV"] = env
    if secret_from == "environment":
        monkeypatch.setenv("SECRET_KEY", DEV_SECRET_KEY)
    elif secret_from == "config":
        config["SECRET_KEY"] = DEV_SECRET_KEY
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(config)


@pytest.mark.parametrize("env, secret", [
    ("production", "a-real-secret-from-the-vault-9f2c"), ("dev", None),
])
def test_the_app_starts_with_a_real_secret_or_in_dev(
    env: str, secret: str | None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("SECRET_KEY", raising=False)
    if secret:
        monkeypatch.setenv("SECRET_KEY", secret)
    app = create_app({"EXAM_ENV": env, "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}",
                      "EXPIRY_SWEEP_SECONDS": 0, "RATELIMIT_ENABLED": False})
    try:
        assert app.config["SECRET_KEY"] == (secret or DEV_SECRET_KEY)
        assert app.testing is False
        page = app.test_client().get("/login")
        assert page.status_code == 200 and 'name="csrf_token"' in page.get_data(as_text=True)
    finally:
        with app.app_context():
            db.engine.dispose()


def test_cheap_hashing_cannot_be_switched_on_outside_tests(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(auth_service, "_hasher", PasswordHasher())
    app = create_app({"EXAM_ENV": "production", "SECRET_KEY": "a-real-secret-from-the-vault",
                      "FAST_PASSWORD_HASHING": True, "EXPIRY_SWEEP_SECONDS": 0,
                      "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"})
    try:
        stored = auth_service.hash_password("a production password")
        assert stored.startswith("$argon2id$")
        assert not PasswordHasher().check_needs_rehash(stored)  # argon2's recommended cost
    finally:
        with app.app_context():
            db.engine.dispose()


def test_cli_commands_that_serve_nothing_work_without_a_secret(tmp_path: Path) -> None:
    """`flask items validate` needs no secret (it signs no cookie); `flask run` still refuses
    the built-in one, like gunicorn."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in ("EXAM_ENV", "SECRET_KEY")}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'cli.db'}"
    flask = [sys.executable, "-m", "flask", "--app", "webapp"]
    example = Path(__file__).resolve().parents[2] / "item_bank" / "content" / "ccm" / "scenarios"
    validate = subprocess.run([*flask, "items", "validate", str(example / "CCM-S-0001.yaml")],
                              env=env, capture_output=True, text=True, timeout=60)
    assert validate.returncode == 0, validate.stderr
    assert "OK: 1 file(s)" in validate.stdout
    serve = subprocess.run([*flask, "run", "--port", "0"], env=env, capture_output=True,
                           text=True, timeout=60)
    assert serve.returncode != 0
    assert "SECRET_KEY is the built-in development key" in serve.stderr
