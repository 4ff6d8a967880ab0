"""Sign-in, sign-out and the landing page."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response as WerkzeugResponse

from webapp import dialect
from webapp.extensions import db, limiter
from webapp.sanitize import has_control, plain_text
from webapp.security import SESSION_TOKEN, home_for, public, record_security_event, safe_next
from webapp.services import auth as auth_service
from webapp.services.auth import normalise_email

bp = Blueprint("auth", __name__)


def _account_key() -> str:
    return "login:" + plain_text(normalise_email(request.form.get("email", "")), 254)


@bp.get("/")
@public
def index() -> WerkzeugResponse:
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    return redirect(url_for("auth.login"))


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_IP"], methods=["POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"], methods=["POST"],
    key_func=_account_key, deduct_when=lambda resp: resp.status_code == 401,
)
def login() -> WerkzeugResponse | tuple[str, int] | str:
    next_url = safe_next(request.values.get("next"))
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(next_url or home_for(current_user))
        return render_template("auth/login.html", next=next_url)
    email = request.form.get("email", "")
    password = request.form.get("password", "")
    dialect.begin_write(db.session)
    plausible = (email and password and len(email) <= 254 and len(password) <= 1024
                 and not has_control(email))
    user = auth_service.authenticate(db.session, email, password) if plausible else None
    if user is None:
        db.session.rollback()
        record_security_event("security.login_failed", email=normalise_email(email))
        error = _("Invalid email or password.")
        return render_template("auth/login.html", next=next_url, error=error, email=email), 401
    opened = auth_service.open_session(
        db.session, user, plain_text(request.remote_addr or "", 64),
        plain_text(request.headers.get("User-Agent", ""), 300),
    )
    db.session.commit()
    session.clear()
    session.permanent = True
    session[SESSION_TOKEN] = opened.token
    login_user(user)
    return redirect(next_url or home_for(user), 303)


@bp.post("/logout")
@login_required
def logout() -> WerkzeugResponse:
    token = session.get(SESSION_TOKEN)
    if token:
        dialect.begin_write(db.session)
        auth_service.revoke_sessions(
            db.session, "signed out", session_id=auth_service.token_id(token)
        )
        db.session.commit()
    logout_user()
    session.clear()
    flash(_("You have signed out."))
    return redirect(url_for("auth.login"), 303)
