"""Web-layer security: login sessions, roles per blueprint, safe redirects, security events."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Flask, current_app, redirect, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.exceptions import Forbidden
from werkzeug.wrappers import Response as WerkzeugResponse

from webapp.extensions import db, login_manager
from webapp.models import Role, User
from webapp.sanitize import has_control, plain_text
from webapp.services import auth as auth_service
from webapp.services.audit import audit
from webapp.services.auth import token_id

SESSION_TOKEN = "sid"


def now() -> datetime:
    """The server clock (tests inject ``CLOCK`` to drive time)."""
    return current_app.config["CLOCK"]()


def current_session_id() -> str:
    """Stored id of this browser's login session (only valid for a signed-in user)."""
    token = session.get(SESSION_TOKEN)
    if not token:
        raise Forbidden()
    return token_id(token)


@login_manager.user_loader
def _load_user(user_id: str) -> auth_service.SignedInUser | None:
    try:
        uid = int(user_id)
    except ValueError:
        return None
    user = auth_service.load_session_user(db.session, uid, session.get(SESSION_TOKEN))
    # End the read transaction: a writing view opens its own with begin_write().
    db.session.commit()
    return user


@login_manager.unauthorized_handler
def _unauthorized() -> WerkzeugResponse:
    from webapp.errors import render_error, wants_json

    if wants_json() or request.method != "GET":
        return render_error(401, str(_l("Please sign in.")), "unauthorized")
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def require_role(blueprint: Blueprint, *roles: Role) -> None:
    """Every view of the blueprint needs a signed-in user with one of ``roles``."""

    @blueprint.before_request
    def _check() -> Any:
        view = current_app.view_functions.get(request.endpoint or "")
        if getattr(view, "checks_sign_in_itself", False):
            return None
        return check_role(*roles)


def check_role(*roles: Role) -> WerkzeugResponse | None:
    """401 (a response) for anonymous users, 403 (raised, logged) for other roles."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if current_user.role not in roles:
        record_security_event("security.wrong_role", role=str(current_user.role))
        raise Forbidden()
    return None


def checks_sign_in_itself(view: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a hot view that verifies the login session inside its own transaction.

    The blueprint's role check then skips the sign-in lookup (a query and a transaction of
    its own); the view must call `check_role` whenever its own check fails, and the URL-map
    test proves anonymous and wrong-role requests are still refused.
    """
    view.checks_sign_in_itself = True  # type: ignore[attr-defined]
    return view


def signed_in_ids() -> tuple[int, str] | None:
    """(user id, stored login-session id) the session cookie claims, unverified, or None."""
    uid, token = session.get("_user_id"), session.get(SESSION_TOKEN)
    if not isinstance(uid, str) or not uid.isdigit() or not isinstance(token, str) or not token:
        return None
    return int(uid), token_id(token)


def public(view: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a view as open to anonymous users (the URL-map test checks the rest)."""
    view.is_public = True  # type: ignore[attr-defined]
    return view


def safe_next(target: str | None) -> str | None:
    """A local path to go to after sign-in, or None for anything else."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return None
    if has_control(target) or len(target) > 2000:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or "\\" in target:
        return None
    return target


def home_for(user: User | auth_service.SignedInUser) -> str:
    return {
        Role.CANDIDATE: url_for("candidate.home"),
        Role.PROCTOR: url_for("proctor.roster"),
        Role.ADMIN: url_for("admin.home"),
    }[user.role]


def record_security_event(action: str, **data: Any) -> None:
    """Log a security event in its own transaction, so a rejected request still leaves it."""
    data.setdefault("path", request.path)
    data.setdefault("method", request.method)
    clean = {k: plain_text(v, 300) if isinstance(v, str) else v for k, v in data.items()}
    actor = current_user.id if current_user.is_authenticated else None
    db.session.rollback()
    audit(db.session, action, actor, ip=plain_text(request.remote_addr or "", 64), **clean)
    db.session.commit()


def init_security(app: Flask) -> None:
    @app.after_request
    def _headers(resp: WerkzeugResponse) -> WerkzeugResponse:
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("X-Frame-Options", "DENY")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        resp.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
        )
        if request.headers.get("HX-Request") is not None or resp.mimetype == "text/html":
            resp.vary.add("HX-Request")
        if request.endpoint != "static" and session.get(SESSION_TOKEN):
            # Signed-in pages (exam content above all) stay out of shared and back-button caches.
            resp.headers.setdefault("Cache-Control", "no-store")
        return resp
