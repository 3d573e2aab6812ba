"""The canary: what a worker said is nowhere but in its sealed ciphertexts.

A canary string is planted through the real pages and API in a worker's identity, testimony,
workplace description, a message, an evidence file's name and its content. Then:

(a) a dump of every table and column of the database (SQLite or PostgreSQL) and every file in
    the file store holds it in no form (UTF-8, UTF-16, hex or base64);
(b) no page and no API answer reachable by a supplier, an affiliate or an administrator holds
    it: every GET route of the url_map is crawled with the ids of the planted objects.
"""

from __future__ import annotations

import base64
import io
import logging
import os
import re
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from monitoring.accounts.models import UserRole
from monitoring.core.db import db
from tests.conftest import post_form
from tests.testimony.monitor_helpers import PDF, make_anonymous_report, page_csrf, share_with

CANARY = "Canary-Q7x3-Ünïcødé-นกขมิ้น-金丝雀"
CANARY_FILE = f"{CANARY}.pdf"


def forms_of(value: str) -> list[bytes]:
    """The byte strings a leak of ``value`` could show up as."""
    raw = value.encode()
    found = [raw, value.encode("utf-16-le"), value.encode("utf-16-be"), raw.hex().encode()]
    found.append(raw.hex().upper().encode())
    # base64 at each of the three alignments, without the characters that depend on neighbours
    for pad in range(3):
        encoded = base64.b64encode(b"\0" * pad + raw)
        found.append(encoded[4 if pad else 0 : -4])
        encoded = base64.urlsafe_b64encode(b"\0" * pad + raw)
        found.append(encoded[4 if pad else 0 : -4])
    # and the ASCII core on its own, in case a column keeps only part of the text
    found.append(b"Canary-Q7x3")
    return found


NEEDLES = forms_of(CANARY)


def leaks(blob: bytes) -> list[bytes]:
    return [needle for needle in NEEDLES if needle in blob]


@pytest.fixture
def planted(app, client_for, api_client, monitor_with_keys, coordinator, caplog):
    """Plant the canary through the monitor's pages and API; return the ids of what was made."""
    caplog.set_level(logging.DEBUG)
    client = client_for(monitor_with_keys)
    form_page = client.get("/testimony/reports/new").get_data(as_text=True)
    response = client.post(
        "/testimony/reports/new",
        data={
            "csrf_token": page_csrf(form_page),
            "site": "none",
            "country": "TH",
            "workplace": f"Behind the market ({CANARY})",
            "channel": "offsite_interview",
            "collected_date": "2026-02-01",
            "language": "th",
            "name": CANARY,
            "contact": f"{CANARY}@example.org",
            "employee_number": CANARY,
            "employer": CANARY,
            "nationality": "MM",
            "gender": "woman",
            "age_band": "25_34",
            "testimony": f"The supervisor said: {CANARY}",
            "categories": ["wages", "harassment"],
            "consent_contact": "y",
            "retaliation_risk": "high",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    report_id = int(response.headers["Location"].rsplit("/", 1)[1])

    report_page = client.get(f"/testimony/reports/{report_id}").get_data(as_text=True)
    response = client.post(
        f"/testimony/reports/{report_id}/evidence",
        data={"csrf_token": page_csrf(report_page), "file": (io.BytesIO(PDF + CANARY.encode()), CANARY_FILE)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    # Opening and downloading are audited; the audit entries must not carry the canary either.
    opened = post_form(
        client,
        f"/testimony/reports/{report_id}/open",
        {"reason": "investigation"},
        form_page=f"/testimony/reports/{report_id}",
    )
    assert CANARY in opened.get_data(as_text=True)

    script = api_client(monitor_with_keys, unlocked=True)
    created = script.post(
        "/api/v1/worker-reports",
        json={
            "country": "MM",
            "channel": "hotline",
            "collected_date": "2026-02-02",
            "language": "my",
            "identity": {"name": CANARY, "contact": CANARY},
            "testimony": CANARY,
            "workplace": CANARY,
            "categories": ["forced_labour"],
        },
    )
    assert created.status_code == 201, created.get_json()
    api_report_id = created.get_json()["id"]
    upload = script.post(
        f"/api/v1/worker-reports/{api_report_id}/evidence?filename={CANARY_FILE}",
        data=PDF + CANARY.encode("utf-16-le"),
        headers={"Content-Type": "application/octet-stream"},
    )
    assert upload.status_code == 201, upload.get_json()
    evidence_id = upload.get_json()["id"]
    download = script.post(
        f"/api/v1/worker-reports/{api_report_id}/evidence/{evidence_id}/download",
        json={"reason": "verification"},
    )
    assert download.status_code == 200
    assert download.data.endswith(CANARY.encode("utf-16-le"))
    download.close()

    anonymous_id, _receipt_key = make_anonymous_report(app, monitor_with_keys, text=CANARY)
    reply = script.post(f"/api/v1/worker-reports/{anonymous_id}/messages", json={"body": CANARY})
    assert reply.status_code == 201
    grant_id = share_with(app, monitor_with_keys, report_id, coordinator)
    return {
        "report_id": report_id,
        "api_report_id": api_report_id,
        "anonymous_id": anonymous_id,
        "evidence_id": evidence_id,
        "grant_id": grant_id,
        "user_id": monitor_with_keys.id,
        "organisation_id": monitor_with_keys.organisation_id,
    }


def test_the_canary_is_in_no_table_and_no_stored_file(app, planted, caplog):
    with app.app_context():
        connection = db.session.connection()
        tables = inspect(connection).get_table_names()
        assert {"worker_report", "evidence", "report_message", "audit_entry", "web_session"} <= set(tables)
        rows: dict[str, int] = {}
        for table in tables:
            preparer = connection.dialect.identifier_preparer
            for row in connection.execute(text(f"SELECT * FROM {preparer.quote(table)}")):  # noqa: S608
                rows[table] = rows.get(table, 0) + 1
                for value in row:
                    blob = (
                        value
                        if isinstance(value, bytes)
                        else bytes(value)
                        if isinstance(value, memoryview)
                        else str(value).encode()
                    )
                    assert not leaks(blob), (table, row)
        # The dump did read the sealed rows.
        assert rows["worker_report"] == 3 and rows["evidence"] == 2 and rows["report_message"] == 1
    store = Path(app.config["FILE_STORE_PATH"])
    files = [Path(root) / name for root, _dirs, names in os.walk(store) for name in names]
    assert len(files) >= 2
    for path in files:
        assert CANARY not in path.name
        assert not leaks(path.read_bytes()), path
    assert not leaks(caplog.text.encode()), "the canary reached the log"


def test_the_detector_finds_every_form():
    raw = CANARY.encode()
    for blob in (
        raw,
        CANARY.encode("utf-16-le"),
        CANARY.encode("utf-16-be"),
        raw.hex().encode(),
        b"x" + base64.b64encode(b"ab" + raw) + b"y",
        base64.urlsafe_b64encode(b"a" + raw),
        b"prefix " + raw[:12],
    ):
        assert leaks(blob), blob
    assert not leaks(b"nothing to see")


# Values for the variables of GET routes: the planted objects, or harmless placeholders.
STRING_VALUES = {"filename": "css/app.css"}


def _url(rule: str, ids: dict[str, int]) -> str:
    def value(match: re.Match[str]) -> str:
        converter, name = match.group(1), match.group(2)
        if name in ids:
            return str(ids[name])
        if name in STRING_VALUES:
            return STRING_VALUES[name]
        return str(ids["report_id"]) if converter in ("int", None) else "x"

    return re.sub(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>", value, rule)


def _get_urls(app, planted) -> list[str]:
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods:
            continue
        urls.append(_url(rule.rule, {**planted, "evidence_id": planted["evidence_id"]}))
        for name in ("report_id", "evidence_id", "grant_id"):
            if f"<int:{name}>" in rule.rule:
                for other in ("api_report_id", "anonymous_id"):
                    urls.append(_url(rule.rule, {**planted, name: planted[other]}))
    # Lists with filters and large pages, so nothing planted is left on a later page.
    urls += [
        "/api/v1/audit?limit=200",
        "/admin/audit?action=report.open",
        "/admin/audit?action=report.evidence_add",
        "/admin/audit?action=report.create",
        f"/admin/audit?object_type=worker_report&object_id={planted['report_id']}",
        "/testimony/reports?overdue=y",
        "/api/v1/worker-reports?limit=200",
    ]
    return sorted(set(urls))


@pytest.mark.parametrize("role", [UserRole.supplier.value, UserRole.affiliate.value, UserRole.admin.value])
def test_no_page_or_answer_shows_the_canary(app, client_for, api_client, create_user, planted, role):
    user = create_user(role)
    page_client, script_client = client_for(user), api_client(user)
    urls = _get_urls(app, planted)
    assert any(url.startswith("/api/v1/") for url in urls) and any(
        url.startswith("/testimony/") for url in urls
    )
    statuses = {}
    for url in urls:
        client = script_client if url.startswith("/api/") else page_client
        response = client.get(url)
        statuses[url] = response.status_code
        assert response.status_code < 500, (url, response.status_code)
        assert not leaks(response.get_data()), (role, url)
        for header, value in response.headers.items():
            assert not leaks(value.encode()), (role, url, header)
        response.close()
    # The crawl did reach pages: the start page, the API document, and for admins the audit log.
    assert statuses["/"] == 200
    assert statuses["/api/v1/openapi.json"] == 200
    if role == UserRole.admin.value:
        assert statuses["/api/v1/audit?limit=200"] == 200
        assert statuses["/admin/audit?action=report.open"] == 200
    for url, status in statuses.items():
        if url.startswith(("/testimony/", "/api/v1/worker-report")):
            assert status == 404, (role, url, status)
