"""Staff log in over HTTPS in production mode; a forgotten MONITORING_TRUSTED_PROXIES is noticed;
logs carry timestamps and no e-mail addresses."""

from __future__ import annotations

import logging

import pytest

from tests.conftest import PASSWORD, csrf_token

HTTPS = "https://monitoring.example.org"


def _referer_for(policy: str, page: str) -> dict[str, str]:
    """What a browser sends with a same-origin form post from ``page`` under a Referrer-Policy."""
    if policy in {"no-referrer"}:
        return {}  # and ``Origin: null`` (Fetch standard, "serializing a request origin")
    if policy in {"same-origin", "strict-origin-when-cross-origin", "no-referrer-when-downgrade"}:
        return {"Referer": page}
    if policy in {"origin", "strict-origin", "origin-when-cross-origin"}:
        return {"Referer": HTTPS + "/"}
    raise AssertionError(f"unknown policy {policy}")


def test_a_login_form_posted_over_https_in_production_mode_is_accepted(app, admin, monkeypatch):
    # Production's CSRF settings (config._derive_flask_settings: secure cookies, SSL-strict CSRF).
    monkeypatch.setitem(app.config, "WTF_CSRF_SSL_STRICT", True)
    client = app.test_client()
    page = client.get("/login", base_url=HTTPS)
    policy = page.headers["Referrer-Policy"]
    token = csrf_token(client, HTTPS + "/login")
    response = client.post(
        "/login",
        base_url=HTTPS,
        data={"email": admin.email, "password": PASSWORD, "csrf_token": token},
        headers=_referer_for(policy, HTTPS + "/login"),
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    # A post from another site is still refused.
    refused = client.post(
        "/login",
        base_url=HTTPS,
        data={"email": admin.email, "password": PASSWORD, "csrf_token": token},
        headers={"Referer": "https://elsewhere.example/login"},
    )
    assert refused.status_code == 400


def test_a_proxy_that_the_configuration_does_not_count_is_reported(app, client_for, admin, caplog):
    client = client_for(admin)
    through_proxy = {"X-Forwarded-For": "203.0.113.7"}
    with caplog.at_level(logging.ERROR, logger="monitoring.core.proxies"):
        page = client.get("/admin/users", headers=through_proxy, environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert "MONITORING_TRUSTED_PROXIES is 0" in caplog.text
    assert "This server is behind a reverse proxy that its configuration does not count." in page.get_data(
        as_text=True
    )
    direct = client.get("/admin/users", environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert "reverse proxy" not in direct.get_data(as_text=True)


def test_a_counted_proxy_raises_no_warning(app, client_for, admin, monkeypatch):
    monkeypatch.setitem(app.config, "TRUSTED_PROXIES", 1)
    page = client_for(admin).get(
        "/admin/users", headers={"X-Forwarded-For": "203.0.113.7"}, environ_base={"REMOTE_ADDR": "10.0.0.2"}
    )
    assert "reverse proxy" not in page.get_data(as_text=True)


@pytest.mark.parametrize(
    ("message", "args"),
    [
        ("audit %s: %s", ("user.create", "Created user somchai.k@example.org")),
        ("mail refused: %s", ("{'ผู้ใช้@ตัวอย่าง.ไทย': (550, b'no such user')}",)),
    ],
)
def test_log_lines_carry_a_timestamp_and_no_e_mail_address(message, args):
    from monitoring.core.logs import DATE_FORMAT, FORMAT, RedactPersonalData

    record = logging.LogRecord("monitoring.test", logging.INFO, __file__, 1, message, args, None)
    assert RedactPersonalData().filter(record)
    line = logging.Formatter(FORMAT, DATE_FORMAT).format(record)
    assert "@" not in line and "[e-mail]" in line
    assert line[:4].isdigit() and "T" in line[:20]  # 2026-12-07T01:02:03+0000 INFO …
