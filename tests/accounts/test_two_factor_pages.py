"""Two-factor sign-in in the browser pages: nothing before the code, set-up, login, sessions."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from werkzeug.routing.converters import AnyConverter, NumberConverter

from monitoring.accounts.models import ApiToken, User
from monitoring.core.audit import AuditEntry
from monitoring.core.auth import access_of
from monitoring.core.db import db
from monitoring.core.sessions import WebSession
from tests.accounts.two_factor_helpers import (
    SETUP_URL,
    VERIFY_URL,
    code_at,
    current_step,
    enrol,
    enrol_directly,
    fresh_code,
    give_code,
    page_csrf,
    password_only_login,
    shown_secret,
)
from tests.conftest import PASSWORD

MANDATORY = ["admin", "coordinator", "monitor"]


def _cookie(client, app):
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    return cookie.value if cookie else None


def _example_url(rule):
    values = {}
    for name, converter in rule._converters.items():
        if isinstance(converter, NumberConverter):
            values[name] = 1
        elif isinstance(converter, AnyConverter):
            values[name] = sorted(converter.items)[0]  # e.g. an export's format: csv
        else:
            values[name] = "x"
    return rule.build(values)[1]


def _is_two_factor_page(location):
    return location.startswith((SETUP_URL, VERIFY_URL))


@pytest.mark.parametrize("enrolled", [False, True], ids=["not-enrolled", "enrolled"])
@pytest.mark.parametrize("role", MANDATORY)
def test_no_page_before_the_second_factor(app, create_user, role, enrolled):
    """Crawl every HTML GET route: only public and two-factor pages answer before the code."""
    user = create_user(role)
    if enrolled:
        enrol_directly(app, user)
    client = app.test_client()
    response = password_only_login(client, user.email, PASSWORD)
    assert response.status_code == 302
    assert response.headers["Location"].startswith(VERIFY_URL if enrolled else SETUP_URL)
    checked = 0
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static" or rule.rule.startswith("/api/"):
            continue
        access = access_of(app.view_functions[rule.endpoint])
        if access.public or access.two_factor_exempt:
            continue
        url = _example_url(rule)
        answer = client.get(url)
        # The role check comes first (404 tells nothing); everything else sends to the code.
        assert answer.status_code in {302, 404}, url
        if answer.status_code == 302:
            assert _is_two_factor_page(answer.headers["Location"]), url
        checked += 1
    assert checked > 5
    # What stays open: the two-factor pages, logout, the language switch, static files.
    code_page = VERIFY_URL if enrolled else SETUP_URL
    assert client.get(code_page).status_code == 200
    static = client.get("/static/css/app.css")
    assert static.status_code == 200
    static.close()
    token = page_csrf(client.get(code_page).get_data(as_text=True))
    language = client.post("/language", data={"locale": "es", "next": code_page, "csrf_token": token})
    assert language.headers["Location"] == code_page
    with app.app_context():
        assert db.session.get(User, user.id).locale == "es"
    logout = client.post("/logout", data={"csrf_token": token})
    assert logout.headers["Location"] == "/login"
    assert client.get("/").headers["Location"].startswith("/login")


def test_no_api_token_before_the_second_factor(app, monitor):
    client = app.test_client()
    password_only_login(client, monitor.email, PASSWORD)
    page = client.get(SETUP_URL).get_data(as_text=True)
    response = client.post("/account/tokens", data={"name": "script", "csrf_token": page_csrf(page)})
    assert response.headers["Location"].startswith(SETUP_URL)
    with app.app_context():
        assert db.session.scalar(select(func.count(ApiToken.id)).where(ApiToken.user_id == monitor.id)) == 0
    assert enrol(client, monitor.email).status_code == 302
    page = client.get("/account").get_data(as_text=True)
    response = client.post("/account/tokens", data={"name": "script", "csrf_token": page_csrf(page)})
    assert response.headers["Location"] == "/account"
    with app.app_context():
        assert db.session.scalar(select(func.count(ApiToken.id)).where(ApiToken.user_id == monitor.id)) == 1


def test_enrolment_through_the_pages(app, monitor):
    client = app.test_client()
    password_only_login(client, monitor.email, PASSWORD)
    intro = client.get(SETUP_URL).get_data(as_text=True)
    assert shown_secret(intro) is None
    assert "Show my set-up key" in intro
    begun = client.post("/account/two-factor/begin", data={"csrf_token": page_csrf(intro)})
    assert begun.headers["Location"] == SETUP_URL
    page = client.get(SETUP_URL).get_data(as_text=True)
    secret = shown_secret(page)
    assert secret and len(secret) == 32
    assert 'src="data:image/svg+xml' in page  # the QR code, drawn on the server
    assert "otpauth://totp/" in page
    assert 'autocomplete="one-time-code"' in page
    # Reloading shows the same key until it is confirmed.
    assert shown_secret(client.get(SETUP_URL).get_data(as_text=True)) == secret

    wrong = f"{(int(code_at(secret, current_step())) + 1) % 1_000_000:06d}"
    answer = client.post(SETUP_URL, data={"code": wrong, "csrf_token": page_csrf(page)})
    assert answer.status_code == 200
    assert "This code is not correct" in answer.get_data(as_text=True)
    assert client.get("/").headers["Location"].startswith(SETUP_URL)

    before = _cookie(client, app)
    answer = client.post(
        SETUP_URL, data={"code": fresh_code(app, monitor.email, secret), "csrf_token": page_csrf(page)}
    )
    assert answer.status_code == 302 and answer.headers["Location"] == "/"
    assert _cookie(client, app) != before  # a new session id once the second factor passed
    assert client.get("/").status_code == 200
    with app.app_context():
        user = db.session.get(User, monitor.id)
        assert user.totp_enabled_dt is not None and user.totp_secret == secret
        actions = db.session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.object_id == str(monitor.id), AuditEntry.action.like("two_factor.%"))
            .order_by(AuditEntry.id)
        ).all()
    assert actions == ["two_factor.enrol_start", "two_factor.failure", "two_factor.enrol"]
    # Set up once: the set-up page now only says so.
    assert client.get(SETUP_URL).headers["Location"] == "/account/two-factor"


def test_login_with_a_code(app, coordinator):
    enrol_directly(app, coordinator)
    client = app.test_client()
    response = password_only_login(client, coordinator.email, PASSWORD)
    assert response.headers["Location"] == VERIFY_URL
    page = client.get(VERIFY_URL).get_data(as_text=True)
    assert coordinator.email in page
    # Only logging out is offered until the code has passed; the menu would lead back here.
    assert 'aria-label="Main"' not in page and 'action="/logout"' in page
    answer = client.post(VERIFY_URL, data={"code": "000000x", "csrf_token": page_csrf(page)})
    assert answer.status_code == 200 and "This code is not correct" in answer.get_data(as_text=True)
    before = _cookie(client, app)
    answer = give_code(client, coordinator.email)
    assert answer.status_code == 302 and answer.headers["Location"] == "/"
    after = _cookie(client, app)
    assert after != before
    home = client.get("/")
    assert home.status_code == 200 and 'aria-label="Main"' in home.get_data(as_text=True)
    # The code page has nothing more to ask.
    assert client.get(VERIFY_URL).headers["Location"] == "/"
    # The session id from before the code is worthless.
    stale = app.test_client()
    stale.set_cookie(app.config["SESSION_COOKIE_NAME"], before)
    assert stale.get("/").headers["Location"].startswith("/login")


def test_a_code_is_accepted_once(app, monitor):
    secret = enrol_directly(app, monitor)
    with app.app_context():
        used = db.session.get(User, monitor.id).totp_last_step
    # Someone who saw the code typed at enrolment tries it in another login.
    thief = app.test_client()
    password_only_login(thief, monitor.email, PASSWORD)
    page = thief.get(VERIFY_URL).get_data(as_text=True)
    answer = thief.post(VERIFY_URL, data={"code": code_at(secret, used), "csrf_token": page_csrf(page)})
    assert answer.status_code == 200
    assert "already used" in answer.get_data(as_text=True)
    assert thief.get("/").headers["Location"].startswith(VERIFY_URL)
    with app.app_context():
        entry = db.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "two_factor.failure").order_by(AuditEntry.id.desc())
        )
        assert entry.object_id == str(monitor.id) and entry.data_dict["replayed"] is True


def test_wrong_codes_are_throttled(app, coordinator):
    enrol_directly(app, coordinator)
    client = app.test_client()
    password_only_login(client, coordinator.email, PASSWORD)
    page = client.get(VERIFY_URL).get_data(as_text=True)
    for _ in range(app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]):
        answer = client.post(VERIFY_URL, data={"code": "abcdef", "csrf_token": page_csrf(page)})
        assert answer.status_code == 200
    # Counted per account: a fresh login from elsewhere is throttled too, even with the right code.
    other = app.test_client()
    password_only_login(other, coordinator.email, PASSWORD)
    answer = give_code(other, coordinator.email)
    assert answer.status_code == 429
    assert "Too many wrong codes" in answer.get_data(as_text=True)
    assert other.get("/").headers["Location"].startswith(VERIFY_URL)


def test_next_survives_the_code_and_open_redirects_do_not(app, admin):
    enrol_directly(app, admin)
    client = app.test_client()
    assert client.get("/admin/users").headers["Location"] == "/login?next=/admin/users"
    page = client.get("/login?next=/admin/users").get_data(as_text=True)
    response = client.post(
        "/login?next=/admin/users",
        data={"email": admin.email, "password": PASSWORD, "csrf_token": page_csrf(page)},
    )
    assert response.headers["Location"] == f"{VERIFY_URL}?next=/admin/users"
    answer = give_code(client, admin.email, response.headers["Location"])
    assert answer.headers["Location"] == "/admin/users"

    evil = app.test_client()
    password_only_login(evil, admin.email, PASSWORD)
    answer = give_code(evil, admin.email, f"{VERIFY_URL}?next=https://evil.example/")
    assert answer.headers["Location"] == "/"


def test_the_code_comes_before_a_forced_password_change(app, create_user):
    user = create_user("coordinator", must_change_password=True)
    client = app.test_client()
    response = password_only_login(client, user.email, PASSWORD)
    assert response.headers["Location"].startswith(SETUP_URL)
    assert client.get("/account/password").headers["Location"].startswith(SETUP_URL)
    answer = enrol(client, user.email)
    assert answer.headers["Location"] == "/account/password"
    assert client.get("/").headers["Location"] == "/account/password"
    new = "a completely new passphrase"
    page = client.get("/account/password").get_data(as_text=True)
    changed = client.post(
        "/account/password",
        data={"current_password": PASSWORD, "password": new, "confirm": new, "csrf_token": page_csrf(page)},
    )
    assert changed.headers["Location"] == "/account"
    # The new session keeps the passed second factor.
    assert client.get("/").status_code == 200


def test_status_page_and_voluntary_enrolment(app, affiliate):
    client = app.test_client()
    response = password_only_login(client, affiliate.email, PASSWORD)
    assert response.headers["Location"] == "/"  # not required for a buyer
    assert "/account/two-factor" in client.get("/account").get_data(as_text=True)
    status = client.get("/account/two-factor").get_data(as_text=True)
    assert "no, but you may switch it on" in status
    assert "stands for both your password and your second factor" in status
    begun = client.post("/account/two-factor/begin", data={"csrf_token": page_csrf(status)})
    assert begun.headers["Location"] == SETUP_URL
    # A pending set-up does not lock the buyer out yet.
    assert client.get("/").status_code == 200
    answer = enrol(client, affiliate.email)
    assert answer.headers["Location"] == "/"
    assert "on since" in client.get("/account/two-factor").get_data(as_text=True)
    # From now on the buyer needs the code too.
    again = app.test_client()
    assert password_only_login(again, affiliate.email, PASSWORD).headers["Location"] == VERIFY_URL
    assert again.get("/").headers["Location"].startswith(VERIFY_URL)
    assert give_code(again, affiliate.email).headers["Location"] == "/"


def test_begin_is_refused_once_enrolled(app, supplier):
    enrol_directly(app, supplier)
    client = app.test_client()
    password_only_login(client, supplier.email, PASSWORD)
    give_code(client, supplier.email)
    page = client.get("/account/two-factor").get_data(as_text=True)
    answer = client.post("/account/two-factor/begin", data={"csrf_token": page_csrf(page)})
    assert answer.headers["Location"] == "/account/two-factor"
    assert "already set up" in client.get("/account/two-factor").get_data(as_text=True)


def test_sessions_of_other_users_are_not_affected(app, monitor, coordinator):
    enrol_directly(app, monitor)
    client = app.test_client()
    password_only_login(client, monitor.email, PASSWORD)
    give_code(client, monitor.email)
    # Someone else's pending session does not count as passed because of this one.
    other = app.test_client()
    password_only_login(other, coordinator.email, PASSWORD)
    assert other.get("/").headers["Location"].startswith(SETUP_URL)
    with app.app_context():
        rows = db.session.scalars(
            select(WebSession).where(WebSession.user_id.in_([monitor.id, coordinator.id]))
        ).all()
        passed = {row.user_id: '"two_factor_user_id"' in row.data for row in rows}
    assert passed == {monitor.id: True, coordinator.id: False}


def _age_password_confirmation(app, client, minutes):
    """Move back the time this session's user last typed their password, as if ``minutes`` had passed."""
    import json

    from monitoring.core.auth import PASSWORD_CONFIRMED_KEY
    from monitoring.core.sessions import hash_sid

    with app.app_context():
        row = db.session.scalar(
            select(WebSession).where(WebSession.sid_hash == hash_sid(_cookie(client, app)))
        )
        data = json.loads(row.data)
        data[PASSWORD_CONFIRMED_KEY][1] -= minutes * 60
        row.data = json.dumps(data)
        db.session.commit()


def test_set_up_needs_a_recently_typed_password(app, affiliate):
    client = app.test_client()
    password_only_login(client, affiliate.email, PASSWORD)
    _age_password_confirmation(app, client, app.config["PASSWORD_CONFIRM_MINUTES"] + 1)
    confirm_url = "/account/confirm-password"
    assert client.get(SETUP_URL).headers["Location"] == f"{confirm_url}?next={SETUP_URL}"
    status = client.get("/account/two-factor").get_data(as_text=True)
    begun = client.post(
        "/account/two-factor/begin",
        data={"csrf_token": page_csrf(status)},
        headers={"Referer": "http://localhost/account/two-factor"},
    )
    assert begun.headers["Location"] == f"{confirm_url}?next=/account/two-factor"
    with app.app_context():
        assert db.session.get(User, affiliate.id).totp_secret_ct is None

    page = client.get(f"{confirm_url}?next={SETUP_URL}").get_data(as_text=True)
    assert "needs your password again" in page
    wrong = client.post(
        f"{confirm_url}?next={SETUP_URL}", data={"password": "not it", "csrf_token": page_csrf(page)}
    )
    assert wrong.status_code == 200 and "The password is not correct." in wrong.get_data(as_text=True)
    assert client.get(SETUP_URL).headers["Location"].startswith(confirm_url)
    right = client.post(
        f"{confirm_url}?next={SETUP_URL}", data={"password": PASSWORD, "csrf_token": page_csrf(page)}
    )
    assert right.headers["Location"] == SETUP_URL
    assert enrol(client, affiliate.email).headers["Location"] == "/"
    with app.app_context():
        actions = db.session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.object_id == str(affiliate.id), AuditEntry.action.like("login.confirm%"))
            .order_by(AuditEntry.id)
        ).all()
    assert actions == ["login.confirm_failure", "login.confirm"]


def test_confirming_the_password_is_throttled(app, affiliate):
    client = app.test_client()
    password_only_login(client, affiliate.email, PASSWORD)
    page = client.get("/account/confirm-password").get_data(as_text=True)
    for _ in range(app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]):
        answer = client.post(
            "/account/confirm-password", data={"password": "no", "csrf_token": page_csrf(page)}
        )
        assert answer.status_code == 200
    answer = client.post(
        "/account/confirm-password", data={"password": PASSWORD, "csrf_token": page_csrf(page)}
    )
    assert answer.status_code == 429
    # The login itself is not locked by it.
    assert password_only_login(app.test_client(), affiliate.email, PASSWORD).headers["Location"] == "/"
