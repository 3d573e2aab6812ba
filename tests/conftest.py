"""One app and schema per session; every test runs in a transaction that is rolled back.

The database is SQLite unless MONITORING_TEST_DATABASE_URL names another (CI sets a
PostgreSQL URL). Tests must not hold an application context while they use the client:
requests would then share ``g`` (and the logged-in user) with the test.
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import pytest
from alembic import command as alembic
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from monitoring import create_app
from monitoring.accounts import keys, operations
from monitoring.accounts.models import (
    ROLE_ORGANISATION_KIND,
    Organisation,
    OrganisationKind,
    User,
    UserRole,
)
from monitoring.config import ROOT
from monitoring.core.db import db, make_engine
from monitoring.core.i18n import compile_catalogs
from monitoring.core.migrate import alembic_config
from monitoring.core.testing import test_config

PASSWORD = "correct horse battery staple"
_counter = itertools.count(1)


def test_database_url(tmp_dir: Any) -> str:
    return os.environ.get("MONITORING_TEST_DATABASE_URL") or f"sqlite:///{tmp_dir / 'test.sqlite3'}"


def reset_database(url: str) -> None:
    """Drop everything in the test database so migrations start from nothing."""
    if make_url(url).get_backend_name() == "postgresql":
        engine = make_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    else:
        path = make_url(url).database
        if path and os.path.exists(path):
            os.remove(path)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return test_database_url(tmp_path_factory.mktemp("db"))


@pytest.fixture(scope="session")
def app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    compile_catalogs(ROOT / "translations")
    reset_database(database_url)
    instance = tmp_path_factory.mktemp("instance")
    application = create_app(test_config(database_url, INSTANCE_PATH=str(instance)))
    # Every head: work goes on while parallel migrations wait to be chained into one line.
    alembic.upgrade(alembic_config(database_url), "heads")
    yield application
    db.state(application).engine.dispose()


@pytest.fixture(autouse=True)
def _rollback(app: Flask) -> Iterator[None]:
    """Run the test inside a transaction; every commit only releases a savepoint.

    The audit checkpoints a test wrote anchor rows that are rolled back, so they go too.
    """
    state = db.state(app)
    connection = state.engine.connect()
    transaction = connection.begin()
    state.bind, state.join_transaction_mode = connection, "create_savepoint"
    try:
        yield
    finally:
        transaction.rollback()
        connection.close()
        state.bind, state.join_transaction_mode = state.engine, "conditional_savepoint"
        Path(app.config["AUDIT_CHECKPOINT_FILE"]).unlink(missing_ok=True)


@pytest.fixture
def create_organisation(app: Flask) -> Callable[..., Organisation]:
    def _create(
        kind: OrganisationKind | str = OrganisationKind.monitor, name: str | None = None, **kwargs: Any
    ) -> Organisation:
        kind = OrganisationKind(kind)
        with app.app_context():
            org = operations.create_organisation(
                None, name or f"Test {kind.value} {next(_counter)}", kind, **kwargs
            )
            db.session.commit()
            return org

    return _create


def approve_as_colleague(user: User) -> None:
    """Have an approved active member of the user's organisation approve them (as on the keys page)."""
    approver = db.session.scalar(
        select(User)
        .where(
            User.organisation_id == user.organisation_id,
            User.role == UserRole.monitor,
            User.is_active.is_(True),
            User.membership_approved_dt.is_not(None),
            User.id != user.id,
        )
        .order_by(User.id)
        .limit(1)
    )
    assert approver is not None, f"nobody in {user.organisation.name!r} can approve {user.email}"
    operations.approve_member(approver, user)


@pytest.fixture
def create_user(app: Flask, create_organisation: Callable[..., Organisation]) -> Callable[..., User]:
    """Create a user of a role, in a new organisation of the right kind unless one is given.

    The legitimate way: an administrator creates the account with a temporary password, and the
    person sets ``password`` as their own at the first login, which makes their key pair. With
    ``must_change_password=True`` the person has not done so yet: ``password`` is the one the
    administrator gave, and they have no key pair. A monitor added to an organisation that has
    members is approved by one of them unless ``approved=False``.
    """

    def _create(
        role: UserRole | str = UserRole.monitor,
        *,
        organisation: Organisation | None = None,
        email: str | None = None,
        password: str = PASSWORD,
        must_change_password: bool = False,
        approved: bool = True,
        **kwargs: Any,
    ) -> User:
        role = UserRole(role)
        org = organisation or create_organisation(ROLE_ORGANISATION_KIND[role])
        n = next(_counter)
        with app.app_context():
            org = db.session.get(Organisation, org.id)
            given = password if must_change_password else operations.temporary_password()
            user = operations.create_user(
                None,
                email=email or f"{role.value}{n}@example.org",
                name=f"{role.value.title()} {n}",
                role=role,
                organisation=org,
                password=given,
                must_change_password=True,
                **kwargs,
            )
            if not must_change_password:
                operations.change_password(user, given, password)
            if approved and user.membership_pending:
                approve_as_colleague(user)
            db.session.commit()
            return user

    return _create


@pytest.fixture
def admin(create_user: Callable[..., User]) -> User:
    return create_user(UserRole.admin)


@pytest.fixture
def coordinator(create_user: Callable[..., User]) -> User:
    return create_user(UserRole.coordinator)


@pytest.fixture
def monitor(create_user: Callable[..., User]) -> User:
    return create_user(UserRole.monitor)


@pytest.fixture
def affiliate(create_user: Callable[..., User]) -> User:
    return create_user(UserRole.affiliate)


@pytest.fixture
def supplier(create_user: Callable[..., User]) -> User:
    return create_user(UserRole.supplier)


@pytest.fixture(params=[r.value for r in UserRole])
def any_role_user(request: pytest.FixtureRequest, create_user: Callable[..., User]) -> User:
    return create_user(request.param)


_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def csrf_token(client: FlaskClient, url: str = "/login") -> str:
    """Fetch a page and return the CSRF token of its first form."""
    html = client.get(url).get_data(as_text=True)
    match = _CSRF.search(html)
    assert match, f"no CSRF token on {url}"
    return match.group(1) or match.group(2)


def login(client: FlaskClient, user: User | str, password: str = PASSWORD) -> Any:
    """Log in the real way: the password (which also unlocks the user's keys), then the second
    factor when the server asks for it. Returns the answer of the last step."""
    from tests.accounts.two_factor_helpers import complete_login

    email = user if isinstance(user, str) else user.email
    token = csrf_token(client, "/login")
    response = client.post("/login", data={"email": email, "password": password, "csrf_token": token})
    return complete_login(client, email, response)


def post_form(
    client: FlaskClient,
    url: str,
    data: dict[str, Any] | None = None,
    form_page: str | None = None,
    **kwargs: Any,
) -> Any:
    """POST a form with a CSRF token taken from ``form_page`` (default: the start page)."""
    token = csrf_token(client, form_page or "/")
    return client.post(url, data={**(data or {}), "csrf_token": token}, **kwargs)


@pytest.fixture
def client_for(app: Flask) -> Callable[[User], FlaskClient]:
    """A new test client logged in as the given user."""

    def _client(user: User, password: str = PASSWORD) -> FlaskClient:
        client = app.test_client()
        response = login(client, user, password)
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    return _client


@pytest.fixture
def api_client(app: Flask) -> Callable[[User], Any]:
    """A client that sends a fresh bearer token of the given user with every request."""

    class _ApiClient:
        def __init__(self, user: User, *, unlocked: bool = False, password: str = PASSWORD) -> None:
            # unlocked=True: the token is made while the user's keys are unlocked, so it carries
            # the private key and can open sealed data (as a token made on the account page).
            with app.test_request_context("/") if unlocked else app.app_context():
                owner = db.session.get(User, user.id)
                if unlocked:
                    keys.unlock(owner, password)
                _token, self.token = operations.create_token(owner, "test")
                db.session.commit()
            self.client = app.test_client()

        def _headers(self, kwargs: dict[str, Any]) -> dict[str, Any]:
            return {"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}

        def get(self, url: str, **kwargs: Any) -> Any:
            return self.client.get(url, headers=self._headers(kwargs), **kwargs)

        def post(self, url: str, **kwargs: Any) -> Any:
            return self.client.post(url, headers=self._headers(kwargs), **kwargs)

        def patch(self, url: str, **kwargs: Any) -> Any:
            return self.client.patch(url, headers=self._headers(kwargs), **kwargs)

        def put(self, url: str, **kwargs: Any) -> Any:
            return self.client.put(url, headers=self._headers(kwargs), **kwargs)

        def delete(self, url: str, **kwargs: Any) -> Any:
            return self.client.delete(url, headers=self._headers(kwargs), **kwargs)

    return _ApiClient


# --- sealed data: member keys and organisation keys -----------------------------------------

# The recovery code of each organisation whose key a test helper created, by organisation id.
RECOVERY_CODES: dict[int, str] = {}


@contextmanager
def unlocked_as(app: Flask, user: User, password: str = PASSWORD) -> Iterator[User]:
    """A request context in which ``user``'s keys are unlocked, as after a real login.

    Yields the user loaded in that context; call sealed-data functions inside (e.g.
    ``keys.organisation_private_key(user, key)`` or ``sealing.open_report(user, ...)``).
    """
    with app.test_request_context("/"):
        loaded = db.session.get(User, user.id)
        assert loaded is not None
        keys.unlock(loaded, password)
        yield loaded


def give_key_access(app: Flask, user: User, password: str = PASSWORD) -> str:
    """Make sure the monitor's organisation has a key and that the monitor holds it.

    The first call for an organisation creates the key as this monitor (as the setup page
    does); later calls grant access with the organisation's recovery code. Returns the code.
    """
    with unlocked_as(app, user, password) as loaded:
        organisation = loaded.organisation
        if keys.current_organisation_key(organisation) is None:
            RECOVERY_CODES[organisation.id] = keys.create_organisation_key(loaded, organisation)
        else:
            keys.recover(loaded, organisation, RECOVERY_CODES[organisation.id])
        db.session.commit()
        return RECOVERY_CODES[organisation.id]


@pytest.fixture
def grant_keys(app: Flask) -> Callable[..., str]:
    """``grant_keys(monitor)``: give a monitor access to their organisation's key (see give_key_access)."""

    def _grant(user: User, password: str = PASSWORD) -> str:
        return give_key_access(app, user, password)

    return _grant


@pytest.fixture
def monitor_with_keys(app: Flask, create_user: Callable[..., User]) -> User:
    """A monitor whose (new) organisation has a key, created by and granted to them."""
    user = create_user(UserRole.monitor)
    give_key_access(app, user)
    return user


@pytest.fixture
def as_unlocked(app: Flask) -> Callable[..., AbstractContextManager[User]]:
    """``with as_unlocked(monitor) as user:`` a request context with the user's keys unlocked."""

    def _unlocked(user: User, password: str = PASSWORD) -> AbstractContextManager[User]:
        return unlocked_as(app, user, password)

    return _unlocked


@contextmanager
def session_of(app: Flask, client: FlaskClient) -> Iterator[None]:
    """A request context that carries ``client``'s session cookie, as its next request would.

    Inside, ``keys.unlocked_private_key(user)`` and ``keys.organisation_private_key(user, key)``
    answer exactly what that browser session can open (its key is held under its cookie).
    """
    name = app.config["SESSION_COOKIE_NAME"]
    cookie = client.get_cookie(name)
    headers = {"Cookie": f"{name}={cookie.value}"} if cookie else {}
    with app.test_request_context("/", headers=headers):
        yield
