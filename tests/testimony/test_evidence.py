"""Evidence files: size limit before the body is read, type checked by content, safe downloads."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from sqlalchemy import func, select

from monitoring.core.db import db
from monitoring.testimony.models import Evidence
from tests.testimony.monitor_helpers import (
    PDF,
    PNG,
    add_file,
    audit_since,
    last_audit_id,
    make_report,
    page_csrf,
)


def _files(app) -> list[Path]:
    root = Path(app.config["FILE_STORE_PATH"])
    return [Path(r) / n for r, _d, names in os.walk(root) for n in names]


def _evidence_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Evidence.id))) or 0


def _upload(client, report_id, content, name):
    page = client.get(f"/testimony/reports/{report_id}").get_data(as_text=True)
    return client.post(
        f"/testimony/reports/{report_id}/evidence",
        data={"csrf_token": page_csrf(page), "file": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )


class Untouchable(io.RawIOBase):
    """A request body that must not be read."""

    reads = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        Untouchable.reads += 1
        raise AssertionError("the body was read")


@pytest.fixture
def small_limit(app, monkeypatch):
    monkeypatch.setitem(app.config, "EVIDENCE_MAX_BYTES", 100_000)
    return 100_000


def test_a_file_is_sealed_in_the_store_and_listed_as_metadata(app, client_for, monitor_with_keys):
    report_id = make_report(app, monitor_with_keys)
    client = client_for(monitor_with_keys)
    before = set(_files(app))
    secret = PDF + b"Payslip of Somchai with a secret bonus"
    response = _upload(client, report_id, secret, "payslip-march.pdf")
    assert response.status_code == 302
    assert "was sealed" in client.get(response.headers["Location"]).get_data(as_text=True)
    (stored,) = set(_files(app)) - before
    content = stored.read_bytes()
    assert b"secret bonus" not in content and b"%PDF" not in content
    with app.app_context():
        evidence = db.session.scalar(select(Evidence).where(Evidence.report_id == report_id))
        assert evidence.content_type == "application/pdf" and evidence.size == len(secret)
        assert b"payslip" not in evidence.name_sealed
    page = client.get(f"/testimony/reports/{report_id}").get_data(as_text=True)
    assert "application/pdf" in page and "payslip-march" not in page


def test_too_large_is_refused_before_the_body_is_read(
    app, client_for, api_client, monitor_with_keys, small_limit
):
    report_id = make_report(app, monitor_with_keys)
    client = client_for(monitor_with_keys)
    before = (_evidence_count(app), len(_files(app)))
    big = str(small_limit * 10)
    for url, send in (
        (f"/testimony/reports/{report_id}/evidence", client.post),
        (f"/api/v1/worker-reports/{report_id}/evidence?filename=big.pdf", api_client(monitor_with_keys).post),
    ):
        response = send(
            url,
            environ_overrides={"wsgi.input": Untouchable(), "CONTENT_LENGTH": big},
            headers={"Content-Type": "application/octet-stream"},
        )
        assert response.status_code == 413, url
        assert "The file is too large. Files may be at most 0.1 MB." in response.get_data(as_text=True)
    assert Untouchable.reads == 0
    assert (_evidence_count(app), len(_files(app))) == before


def test_too_large_without_a_declared_length_is_refused_while_reading(
    app, api_client, monitor_with_keys, small_limit
):
    report_id = make_report(app, monitor_with_keys)
    before = len(_files(app))
    body = io.BytesIO(PDF + b"\0" * (small_limit * 2))
    response = api_client(monitor_with_keys).post(
        f"/api/v1/worker-reports/{report_id}/evidence?filename=big.pdf",
        environ_overrides={"wsgi.input": body, "CONTENT_LENGTH": "", "wsgi.input_terminated": True},
        headers={"Content-Type": "application/octet-stream"},
    )
    assert response.status_code == 422
    assert response.get_json()["error"]["errors"] == {"file": ["The file is too large."]}
    assert _evidence_count(app) == 0 and len(_files(app)) == before
    # Exactly at the limit is fine.
    exact = PDF + b"\0" * (small_limit - len(PDF))
    response = api_client(monitor_with_keys).post(
        f"/api/v1/worker-reports/{report_id}/evidence?filename=exact.pdf",
        environ_overrides={
            "wsgi.input": io.BytesIO(exact),
            "CONTENT_LENGTH": "",
            "wsgi.input_terminated": True,
        },
        headers={"Content-Type": "application/octet-stream"},
    )
    assert response.status_code == 201 and response.get_json()["size"] == small_limit


def test_the_type_is_checked_against_the_content(app, client_for, api_client, monitor_with_keys):
    report_id = make_report(app, monitor_with_keys)
    client = client_for(monitor_with_keys)
    before = len(_files(app))
    for content, name in (
        (b"<html><script>alert(1)</script>", "photo.jpg"),
        (b"MZ\x90\x00binary", "doc.pdf"),
    ):
        response = _upload(client, report_id, content, name)
        assert response.status_code == 302
        assert "This type of file is not accepted" in client.get(response.headers["Location"]).get_data(
            as_text=True
        )
    response = api_client(monitor_with_keys).post(
        f"/api/v1/worker-reports/{report_id}/evidence?filename=x.png", data=b"GIF89a not allowed"
    )
    assert response.status_code == 422 and "file" in response.get_json()["error"]["errors"]
    assert _evidence_count(app) == 0 and len(_files(app)) == before
    # A PNG named .pdf is stored as the PNG it is.
    assert _upload(client, report_id, PNG, "scan.pdf").status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Evidence.content_type)) == "image/png"


def test_upload_needs_a_csrf_token(app, client_for, monitor_with_keys):
    report_id = make_report(app, monitor_with_keys)
    response = client_for(monitor_with_keys).post(
        f"/testimony/reports/{report_id}/evidence",
        data={"file": (io.BytesIO(PDF), "a.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert _evidence_count(app) == 0


def test_download_is_an_attachment_that_is_never_rendered(app, client_for, monitor_with_keys):
    report_id = make_report(app, monitor_with_keys)
    content = PDF + b"body"
    evidence_id = add_file(app, report_id, content, name='../../etc/"evil"\r\nX-Injected: 1.html')
    client = client_for(monitor_with_keys)
    url = f"/testimony/reports/{report_id}"
    page = client.post(
        f"{url}/open",
        data={"csrf_token": page_csrf(client.get(url).get_data(as_text=True)), "reason": "investigation"},
    ).get_data(as_text=True)
    assert f"/evidence/{evidence_id}/download" in page
    since = last_audit_id(app)
    response = client.post(
        f"{url}/evidence/{evidence_id}/download",
        data={"csrf_token": page_csrf(page), "reason": "investigation", "reason_text": ""},
    )
    assert response.status_code == 200
    assert response.data == content
    headers = response.headers
    assert headers["Content-Type"] == "application/pdf"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Content-Security-Policy"] == "sandbox"
    assert headers["Cache-Control"] == "no-store"
    disposition = headers["Content-Disposition"]
    assert disposition.startswith("attachment; ")
    assert "X-Injected" not in headers and "\r" not in disposition and "\n" not in disposition
    assert "../" not in disposition and 'filename="evilX-Injected_1.html.pdf"' in disposition
    assert disposition.endswith(".pdf")
    response.close()
    (entry,) = [e for e in audit_since(app, since) if e.action.startswith("report.")]
    assert entry.action == "report.evidence_open" and entry.data_dict["evidence_id"] == evidence_id


def test_download_needs_a_reason_and_the_organisations_key(
    app, client_for, api_client, create_user, monitor_with_keys
):
    report_id = make_report(app, monitor_with_keys)
    evidence_id = add_file(app, report_id)
    url = f"/api/v1/worker-reports/{report_id}/evidence/{evidence_id}/download"
    script = api_client(monitor_with_keys, unlocked=True)
    assert script.post(url, json={}).status_code == 422
    assert script.post(url, json={"reason": "other"}).status_code == 422
    response = script.post(url, json={"reason": "other", "reason_text": "court order"})
    assert response.status_code == 200 and response.data == PDF
    assert response.headers["Content-Disposition"].startswith('attachment; filename="payslip.pdf"')
    response.close()
    locked = api_client(monitor_with_keys).post(url, json={"reason": "investigation"})
    assert locked.status_code == 403
    page_client = client_for(monitor_with_keys)
    page = page_client.get(f"/testimony/reports/{report_id}").get_data(as_text=True)
    response = page_client.post(
        f"/testimony/reports/{report_id}/evidence/{evidence_id}/download",
        data={"csrf_token": page_csrf(page)},
    )
    assert response.status_code == 302
    assert "Choose why you open the file." in page_client.get(response.headers["Location"]).get_data(
        as_text=True
    )
