"""Passwords, sign-in and server-side login sessions."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from webapp.models import LoginSession, Role, User, utcnow

_hasher = PasswordHasher()
# Verified against when the email is unknown, so both paths cost the same time.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def use_cheap_hashing() -> None:
    """Tests only: argon2's cheapest parameters, so a suite can create hundreds of users."""
    global _hasher, _DUMMY_HASH
    _hasher = PasswordHasher.from_parameters(profiles.CHEAPEST)
    _DUMMY_HASH = _hasher.hash("not-a-real-password")


@dataclass(frozen=True)
class SignedInUser:
    """The signed-in user as requests see it (``current_user``): plain values, no ORM
    object to build on every request. Implements Flask-Login's user protocol."""

    id: int
    email: str
    full_name: str
    role: Role
    locale: str
    is_active: bool = True
    is_authenticated: bool = True
    is_anonymous: bool = False

    def get_id(self) -> str:
        return str(self.id)


# Built once: every signed-in request runs it.
_LIVE_SESSION_USER = (
    select(User.id, User.email, User.full_name, User.role, User.locale)
    .join(LoginSession, LoginSession.user_id == User.id)
    .where(
        LoginSession.id == bindparam("sid"),
        LoginSession.revoked_at.is_(None),
        User.id == bindparam("uid"),
        User.active.is_(True),
    )
)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def token_id(token: str) -> str:
    """The stored id of a session token (the database never holds the token itself)."""
    return hashlib.sha256(token.encode()).hexdigest()


def normalise_email(email: str) -> str:
    return email.strip().lower()


def create_user(
    session: Session, email: str, password: str, role: Role, full_name: str
) -> User:
    user = User(
        email=normalise_email(email), password_hash=hash_password(password), role=role,
        full_name=full_name,
    )
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The active user with these credentials, or None (one answer for every failure)."""
    user = session.scalar(select(User).where(User.email == normalise_email(email)))
    stored = user.password_hash if user is not None else _DUMMY_HASH
    try:
        _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


@dataclass(frozen=True)
class NewSession:
    token: str
    row: LoginSession


def open_session(
    session: Session, user: User, ip: str | None, user_agent: str | None
) -> NewSession:
    token = secrets.token_urlsafe(32)
    row = LoginSession(
        id=token_id(token), user_id=user.id, ip=ip, user_agent=(user_agent or "")[:300]
    )
    session.add(row)
    session.flush()
    return NewSession(token, row)


def load_session_user(
    session: Session, user_id: int, token: str | None
) -> SignedInUser | None:
    """The user of a live (not revoked) login session, or None."""
    if not token:
        return None
    row = session.execute(_LIVE_SESSION_USER, {"sid": token_id(token), "uid": user_id}).first()
    return SignedInUser(*row) if row is not None else None


def revoke_sessions(
    session: Session, reason: str, *, session_id: str | None = None, user_id: int | None = None
) -> int:
    """Revoke one login session (by stored id) or all of a user's; returns how many."""
    if session_id is None and user_id is None:
        raise ValueError("revoke_sessions needs session_id or user_id")
    stmt = update(LoginSession).where(LoginSession.revoked_at.is_(None))
    if session_id is not None:
        stmt = stmt.where(LoginSession.id == session_id)
    if user_id is not None:
        stmt = stmt.where(LoginSession.user_id == user_id)
    result = session.execute(
        stmt.values(revoked_at=utcnow(), revoked_reason=reason[:200]),
        execution_options={"synchronize_session": False},
    )
    return int(result.rowcount or 0)
