"""Attack: guess a member's password from the lists of common and breached passwords (online or offline).
Defence: new passwords are rated with zxcvbn; listed or guessable ones are refused, saying why.
"""

from __future__ import annotations

import html

import pytest

from monitoring.accounts import operations
from monitoring.accounts.models import User
from monitoring.core.db import db
from monitoring.core.operations import OperationError
from tests.conftest import PASSWORD, login, post_form

LISTED = "on the lists of common and breached passwords"
GUESSABLE = "too easy to guess"


def _change(client, current, new):
    return post_form(
        client,
        "/account/password",
        {"current_password": current, "password": new, "confirm": new},
        form_page="/account/password",
    )


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("password1234", LISTED),
        ("1qaz2wsx3edc", LISTED),
        ("qwerty123456", LISTED),
        ("iloveyou1234", GUESSABLE),
        ("qwertyuiopasdf", GUESSABLE),
        ("passwordpassword", GUESSABLE),
        ("abcdefghijklmnop", GUESSABLE),
    ],
)
def test_the_first_login_refuses_common_and_guessable_passwords(app, create_user, password, reason):
    user = create_user("monitor", must_change_password=True)
    client = app.test_client()
    login(client, user)
    response = _change(client, PASSWORD, password)
    assert response.status_code == 200
    assert reason in html.unescape(response.get_data(as_text=True))
    with app.app_context():
        row = db.session.get(User, user.id)
        assert row.must_change_password and row.public_key is None  # nothing was set
        assert operations.check_password(row, PASSWORD)


def test_a_password_made_of_ones_own_name_or_address_is_refused(app, create_user, client_for):
    user = create_user("coordinator")
    with app.app_context():
        email = db.session.get(User, user.id).email
    response = _change(client_for(user), PASSWORD, email.upper())
    assert "must not be your e-mail address" in html.unescape(response.get_data(as_text=True))
    with app.app_context(), pytest.raises(OperationError, match="your name or e-mail address"):
        operations.validate_password("jane.doe.example", "jane.doe.example@example.org", name="Jane Doe")


def test_a_strong_password_is_accepted(app, create_user, client_for):
    user = create_user("monitor")
    response = _change(client_for(user), PASSWORD, "tram violet cactus gravel")
    assert response.status_code == 302
    with app.app_context():
        assert operations.check_password(db.session.get(User, user.id), "tram violet cactus gravel")


def test_an_administrator_cannot_set_a_common_password_either(app, admin, api_client, create_organisation):
    org = create_organisation("monitor")
    response = api_client(admin).post(
        "/api/v1/users",
        json={
            "email": "weak@example.org",
            "name": "Weak",
            "role": "monitor",
            "organisation_id": org.id,
            "password": "password1234",
        },
    )
    assert response.status_code == 422
    assert LISTED in response.get_json()["error"]["errors"]["password"][0]


def test_long_passwords_are_rated_by_their_start(app):
    with app.app_context():
        operations.validate_password("tram violet cactus gravel " * 10)
        with pytest.raises(OperationError, match=GUESSABLE):
            operations.validate_password("a" * 200)
