"""Settings from the environment, in one place.

``create_app(config)`` starts from :class:`Config` and applies the overrides a test passes.
The app refuses to start outside ``dev``/``test`` with the built-in secret key.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

DEV_SECRET_KEY = "dev-only-secret-key-change-me"  # noqa: S105 - refused outside dev/test
INSTANCE_DIR = Path(os.environ.get("EXAM_INSTANCE_DIR", Path.cwd() / "instance"))
DEV_ENVS = frozenset({"dev", "test"})


def _hours(name: str, default: float) -> timedelta:
    return timedelta(hours=float(os.environ.get(name, default)))


class Config:
    """Defaults read from the environment when the app is created."""

    def __init__(self) -> None:
        env = os.environ
        self.EXAM_ENV: str = env.get("EXAM_ENV", "production")
        self.SECRET_KEY: str = env.get("SECRET_KEY", DEV_SECRET_KEY)
        self.DATABASE_URL: str = env.get(
            "DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'exam.db'}"
        )
        # A sitting lasts 3 h plus extra time and breaks: the CSRF token and the login
        # session must outlive it. The token is bound to the server-side login session,
        # which logout and proctor actions revoke.
        self.WTF_CSRF_TIME_LIMIT: int = int(_hours("CSRF_TOKEN_HOURS", 14).total_seconds())
        self.PERMANENT_SESSION_LIFETIME: timedelta = _hours("SESSION_HOURS", 14)
        # The lifetime counts from sign-in; re-signing the cookie on every save costs CPU.
        self.SESSION_REFRESH_EACH_REQUEST = False
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.SESSION_COOKIE_SECURE: bool = env.get("SESSION_COOKIE_SECURE", "") == "1"
        self.RATELIMIT_STORAGE_URI: str = env.get("RATELIMIT_STORAGE_URI", "memory://")
        self.RATELIMIT_HEADERS_ENABLED = True
        # A test centre sits behind one NAT address: the per-IP limit must admit a room
        # of candidates signing in at 9:00, the per-account one stops password guessing.
        self.LOGIN_LIMIT_PER_IP: str = env.get("LOGIN_LIMIT_PER_IP", "120 per minute")
        self.LOGIN_LIMIT_PER_ACCOUNT: str = env.get(
            "LOGIN_LIMIT_PER_ACCOUNT", "5 per minute;20 per hour"
        )
        # Honoured only with EXAM_ENV=test: argon2's cheapest parameters for fast suites.
        self.FAST_PASSWORD_HASHING: bool = env.get("FAST_PASSWORD_HASHING", "") == "1"
        self.BABEL_DEFAULT_LOCALE = "en"
        self.LANGUAGES: tuple[str, ...] = ("en",)
        # Seconds after the deadline during which a save already in flight is accepted.
        self.SAVE_GRACE_SECONDS: float = float(env.get("SAVE_GRACE_SECONDS", 3))
        # How often each app process ends attempts whose time ran out (0: never).
        self.EXPIRY_SWEEP_SECONDS: float = float(env.get("EXPIRY_SWEEP_SECONDS", 5))
        self.MAX_CONTENT_LENGTH = 1024 * 1024  # no legitimate request comes near this
        self.COMPRESS_MIMETYPES = [
            "text/html", "text/css", "application/javascript", "text/javascript",
            "application/json",
        ]
        self.COMPRESS_MIN_SIZE = 500

    def as_dict(self) -> dict[str, object]:
        return {k: v for k, v in vars(self).items() if k.isupper()}


def check_secret(settings: dict[str, object]) -> None:
    """Refuse the built-in secret key outside development and tests."""
    if settings["EXAM_ENV"] not in DEV_ENVS and settings["SECRET_KEY"] == DEV_SECRET_KEY:
        raise RuntimeError(
            "SECRET_KEY is the built-in development key; set SECRET_KEY "
            "(or EXAM_ENV=dev for a local demo)"
        )
