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
from typing import Any

import pytest
from alembic import command as alembic
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.engine import make_url

from monitoring import create_app
from monitoring.accounts import operations
from monitoring.accounts.models import (
    ROLE_ORGANISATION_KIND,
    Organisation,
    OrganisationKind,
    User,
    UserRole,
)
from monitoring.config import ROOT, test_config
from monitoring.core.db import db, make_engine
from monitoring.core.migrate import alembic_config

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


def compile_catalogs() -> None:
    """Compile every catalog whose .mo is missing or older than its .po (as `make` does)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po in (ROOT / "translations").glob("*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            with po.open("rb") as fh:
                catalog = read_po(fh, locale=po.parent.parent.name)
            with mo.open("wb") as fh:
                write_mo(fh, catalog)


@pytest.fixture(scope="session")
def app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    compile_catalogs()
    reset_database(database_url)
    instance = tmp_path_factory.mktemp("instance")
    application = create_app(test_config(database_url, INSTANCE_PATH=str(instance)))
    alembic.upgrade(alembic_config(database_url), "head")
    yield application
    db.state(application).engine.dispose()


@pytest.fixture(autouse=True)
def _rollback(app: Flask) -> Iterator[None]:
    """Run the test inside a transaction; every commit only releases a savepoint."""
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


@pytest.fixture
def create_user(app: Flask, create_organisation: Callable[..., Organisation]) -> Callable[..., User]:
    """Create a user of a role, in a new organisation of the right kind unless one is given."""

    def _create(
        role: UserRole | str = UserRole.monitor,
        *,
        organisation: Organisation | None = None,
        email: str | None = None,
        password: str = PASSWORD,
        must_change_password: bool = False,
        **kwargs: Any,
    ) -> User:
        role = UserRole(role)
        org = organisation or create_organisation(ROLE_ORGANISATION_KIND[role])
        n = next(_counter)
        with app.app_context():
            org = db.session.get(Organisation, org.id)
            user = operations.create_user(
                None,
                email=email or f"{role.value}{n}@example.org",
                name=f"{role.value.title()} {n}",
                role=role,
                organisation=org,
                password=password,
                must_change_password=must_change_password,
                **kwargs,
            )
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
    email = user if isinstance(user, str) else user.email
    token = csrf_token(client, "/login")
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token})


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
        def __init__(self, user: User) -> None:
            with app.app_context():
                _token, self.token = operations.create_token(db.session.get(User, user.id), "test")
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

        def delete(self, url: str, **kwargs: Any) -> Any:
            return self.client.delete(url, headers=self._headers(kwargs), **kwargs)

    return _ApiClient
