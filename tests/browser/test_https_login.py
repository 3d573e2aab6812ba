"""Chromium logs in over HTTPS with production's cookie and CSRF settings.

``MONITORING_BEHIND_HTTPS`` gives the settings production has (secure ``__Host-`` cookies and
Flask-WTF's SSL-strict CSRF check, which wants a same-origin ``Referer`` on every form post).
With ``Referrer-Policy: no-referrer`` Chromium sent none, and every staff login over HTTPS got
"The form expired or was sent from elsewhere" (400).
"""

from __future__ import annotations

import datetime
import ipaddress
import ssl
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from monitoring.config import ROOT
from monitoring.demo import LOGINS
from tests.browser.conftest import prepare_demo, screenshot

pytestmark = pytest.mark.browser

SERVER = """
import sys
from werkzeug.serving import make_server
from wsgi import app

server = make_server("127.0.0.1", 0, app, threaded=True, ssl_context=(sys.argv[1], sys.argv[2]))
print(server.server_port, flush=True)
server.serve_forever()
"""


def _certificate(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


@pytest.fixture(scope="module")
def https_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("https")
    env = prepare_demo(tmp)
    env["MONITORING_BEHIND_HTTPS"] = "1"
    cert, key = _certificate(tmp)
    log_path = tmp / "server.log"
    with open(log_path, "w", encoding="utf-8") as log:
        process = subprocess.Popen(
            [sys.executable, "-c", SERVER, str(cert), str(key)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
    try:
        assert process.stdout is not None
        port = process.stdout.readline().strip()
        assert port.isdigit(), log_path.read_text(encoding="utf-8")
        base = f"https://localhost:{port}"
        context = ssl.create_default_context(cafile=str(cert))
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2, context=context) as answer:  # noqa: S310
                    if answer.status == 200:
                        break
            except OSError:
                assert time.monotonic() < deadline, log_path.read_text(encoding="utf-8")
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


def test_staff_log_in_over_https(chromium, https_server) -> None:
    login = next(item for item in LOGINS if item.role.value == "coordinator")
    context = chromium.new_context(ignore_https_errors=True, locale="en-GB")  # type: ignore[attr-defined]
    page = context.new_page()
    try:
        response = page.goto(f"{https_server}/login")
        assert response is not None and response.headers["referrer-policy"] == "same-origin"
        page.get_by_label("E-mail address").fill(login.email)
        page.get_by_label("Password").fill(login.password)
        with page.expect_response(lambda r: r.request.method == "POST") as answer:
            page.get_by_role("button", name="Log in").click()
        assert answer.value.status == 302, page.locator("main").inner_text()
        page.wait_for_url(lambda url: "/login" not in url)
        assert "The form expired" not in page.locator("body").inner_text()
        cookies = {cookie["name"]: cookie for cookie in context.cookies()}
        assert cookies["__Host-session"]["secure"]
        # Another form on a page of the signed-in user: the language switch.
        page.goto(f"{https_server}/account")
        page.get_by_label("Language").select_option("sv")
        with page.expect_response(lambda r: r.request.method == "POST") as switched:
            page.get_by_role("button", name="Change").click()
        assert switched.value.status == 302
        screenshot(page, "https-login.png")
    finally:
        context.close()
