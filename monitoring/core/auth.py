"""Who may use which route: declarations, login manager and bearer tokens.

Every view declares its audience with ``@public``, ``@authenticated`` or
``@roles(...)``. A view with no declaration is refused (deny by default), and a route a
role may not use answers 404, exactly as a missing object does.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from flask import Flask, Response, abort, current_app, redirect, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, current_user
from flask_login.config import COOKIE_NAME as REMEMBER_COOKIE_NAME

from monitoring.core.errors import ApiError
from monitoring.core.roles import UserRole
from monitoring.core.transactions import one_transaction

logger = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])

# Where a logged-in user who still owes the second factor must go first (an endpoint), or None.
# The accounts feature sets it at start-up (``monitoring.accounts.login_setup``): core knows no
# feature, so two-factor sign-in plugs in here.
SecondFactorGate = Callable[[Any], str | None]
second_factor_gate: SecondFactorGate | None = None


class SessionOnlyLoginManager(LoginManager):
    """Flask-Login without its remember-me cookie: only a login opens a session.

    Flask-Login's ``remember_token`` is ``user_id|HMAC(SECRET_KEY, user_id)``, so honouring it
    would let anyone who holds ``SECRET_KEY`` log in as any user, past the password, the
    throttle, the second factor and the audit log. The cookie is neither read nor written;
    a browser that sends one is told to drop it.
    """

    def _load_user_from_remember_cookie(self, cookie: str) -> Any:
        # Flask-Login tries the cookie *instead of* the request loader: try the bearer token.
        return self._load_user_from_request(request)

    def _update_remember_cookie(self, response: Response) -> Response:
        name = current_app.config.get("REMEMBER_COOKIE_NAME", REMEMBER_COOKIE_NAME)
        if name in request.cookies:
            response.delete_cookie(
                name,
                domain=current_app.config.get("REMEMBER_COOKIE_DOMAIN"),
                path=current_app.config.get("REMEMBER_COOKIE_PATH", "/"),
            )
        return response


login_manager = SessionOnlyLoginManager()
login_manager.session_protection = None  # the session id is renewed at login instead
login_manager.login_view = "accounts.login"


@dataclass(frozen=True)
class Access:
    roles: frozenset[str] | None  # None: anyone, even without an account
    password_change_exempt: bool = False
    two_factor_exempt: bool = False  # reachable before the second factor passed (its own pages)
    # Only in a web session whose user typed the password there within PASSWORD_CONFIRM_MINUTES;
    # refused (403) with a bearer token. For what a thief of a token or of an idle session
    # must not do, such as changing how the account signs in.
    password_confirmed: bool = False

    @property
    def public(self) -> bool:
        return self.roles is None


def _declare(access: Access) -> Callable[[F], F]:
    """Record who may use the view, and run it in one transaction (committed on success)."""

    def decorator(view: F) -> F:
        if hasattr(view, "_access"):
            raise RuntimeError(f"{view.__name__} declares its access twice")
        wrapped = cast(F, one_transaction(view))
        wrapped._access = access  # type: ignore[attr-defined]
        return wrapped

    return decorator


def public(view: F) -> F:
    """Declare a view open to everyone, logged in or not."""
    return _declare(Access(roles=None))(view)


def roles(
    *allowed: Any,
    password_change_exempt: bool = False,
    two_factor_exempt: bool = False,
    password_confirmed: bool = False,
) -> Callable[[F], F]:
    """Declare the roles that may use a view; others get 404."""
    if not allowed:
        raise ValueError("roles() needs at least one role")
    names = frozenset(getattr(r, "value", r) for r in allowed)
    return _declare(
        Access(
            roles=names,
            password_change_exempt=password_change_exempt,
            two_factor_exempt=two_factor_exempt,
            password_confirmed=password_confirmed,
        )
    )


def authenticated(
    view: F | None = None,
    *,
    password_change_exempt: bool = False,
    two_factor_exempt: bool = False,
    password_confirmed: bool = False,
) -> Any:
    """Declare a view open to every logged-in user, whatever the role."""
    decorator = roles(
        *UserRole,
        password_change_exempt=password_change_exempt,
        two_factor_exempt=two_factor_exempt,
        password_confirmed=password_confirmed,
    )
    return decorator(view) if view is not None else decorator


def current_member() -> Any:
    """The logged-in user itself, not Flask-Login's proxy (for operations and type hints)."""
    return current_user._get_current_object()


def access_of(view: Callable[..., Any]) -> Access | None:
    return getattr(view, "_access", None)


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def safe_next(target: str | None) -> str | None:
    """Return ``target`` if it is a local path, else None (no open redirects)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def enforce_access() -> Any:
    """Refuse the request unless the matched view's declaration admits the current user."""
    if request.endpoint is None:
        return None  # routing failed; the 404/405 handler answers
    view = current_app.view_functions[request.endpoint]
    access = access_of(view)
    if access is None:
        logger.error("refused %s: the view declares no access", request.endpoint)
        abort(403)
    if access.public:
        return None
    if not current_user.is_authenticated:
        if is_api_request():
            abort(401)
        return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))
    if access.roles is None or current_user.role.value not in access.roles:
        abort(404)
    if access.password_confirmed and is_api_request():
        raise ApiError(403, str(TOKEN_REFUSED))
    # The second factor comes before anything else, a forced password change included. API
    # requests carry a bearer token, which only a session that passed it can make.
    gate = second_factor_gate(current_user) if second_factor_gate is not None else None
    if gate is not None and not access.two_factor_exempt and not is_api_request():
        target = request.full_path.rstrip("?") if request.method == "GET" else None
        return redirect(url_for(gate, next=target))
    if current_user.must_change_password and not access.password_change_exempt and not is_api_request():
        return redirect(url_for("accounts.change_password"))
    if access.password_confirmed and not password_recently_confirmed(current_user):
        return redirect(url_for("accounts.confirm_password", next=_return_target()))
    return None


def _return_target() -> str | None:
    """Where to come back to after confirming the password: this page, or the form that posted here."""
    if request.method == "GET":
        return request.full_path.rstrip("?")
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc and referrer.netloc != request.host:
        return None
    return safe_next(referrer.path + (f"?{referrer.query}" if referrer.query else ""))


# --- password-confirmed sessions ------------------------------------------------------------

# The session entry recording who typed their password in this session, and when (epoch seconds).
PASSWORD_CONFIRMED_KEY = "password_confirmed"  # noqa: S105 - the name of a session entry
TOKEN_REFUSED = _l(
    "This can only be done on the web pages, in a session where you have just entered your "
    "password: an API token is not enough."
)


def record_password_confirmed(user: Any) -> None:
    """Note in the session that the user has just typed their password (at login or on request)."""
    session[PASSWORD_CONFIRMED_KEY] = [user.id, int(time.time())]


def password_recently_confirmed(user: Any) -> bool:
    """Whether this web session's user typed their password within PASSWORD_CONFIRM_MINUTES."""
    if is_api_request():
        return False
    value = session.get(PASSWORD_CONFIRMED_KEY)
    if not isinstance(value, list) or len(value) != 2 or value[0] != user.id:
        return False
    age = time.time() - float(value[1])
    return 0 <= age <= current_app.config["PASSWORD_CONFIRM_MINUTES"] * 60


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def init_auth(app: Flask) -> None:
    """Install the login manager and the access check (the loaders come from accounts)."""
    login_manager.init_app(app)
    app.before_request(enforce_access)

    @login_manager.unauthorized_handler
    def unauthorized() -> Any:
        abort(401)


def role_names(items: Iterable[Any]) -> list[str]:
    return sorted(getattr(i, "value", i) for i in items)
