"""Erasure of a worker report by crypto-shredding: nothing of it opens afterwards with any key,
not even with a copy of the database and the file store taken before; the worker asks for it
with the receipt; staff pages and the API say "erased" and refuse to open it."""

# ruff: noqa: F811  (the tests take the imported ``case_world`` fixture as an argument)

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import LargeBinary, select

from monitoring.accounts import keys
from monitoring.accounts.models import OrganisationKey, User
from monitoring.core import crypto
from monitoring.core.audit import AuditEntry
from monitoring.core.db import Base, db
from monitoring.testimony import operations_erasure, receipts, sealing
from monitoring.testimony.models import (
    ErasureReason,
    Evidence,
    ReportGrant,
    ReportMessage,
    WorkerReport,
)
from monitoring.testimony.sealing_base import _data_key_context, _grant_context
from monitoring.testimony.sealing_files import _body_aad, _message_key_context, _receipt_key_context
from tests.cases.conftest import case_world  # noqa: F401  (the cases tests' world, as a fixture here)
from tests.cases.helpers import CaseWorld
from tests.cases.worker_helpers import follow_up_page, priority_case, receipt_report
from tests.conftest import unlocked_as
from tests.testimony.monitor_helpers import PDF, audit_since, last_audit_id, open_form
from tests.testimony.test_public import assert_worker_page, translated

SECRET = "They keep our passports in the office."
_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def _token(page: str) -> str:
    match = _CSRF.search(page)
    assert match
    return match.group(1) or match.group(2)


def _full_report(w: CaseWorld) -> tuple[int, str]:
    """A receipt report with a message each way, a file and a grant to a coordinator."""
    report_id, receipt = receipt_report(w, text=SECRET)
    with unlocked_as(w.app, w.users["monitor"]) as monitor:
        report = db.session.get(WorkerReport, report_id)
        sealing.add_message(report, body="Are you safe?", author=monitor)
        sealing.add_message(report, body="They took my phone too.", author=None)
        sealing.add_evidence(report, stream=io.BytesIO(PDF), filename="payslip.pdf", uploaded_by=None)
        sealing.grant_report(monitor, report, db.session.get(User, w.users["coordinator"].id))
        db.session.commit()
    return report_id, receipt


def _snapshot() -> dict[str, list[dict[str, Any]]]:
    """Every row of every table, as the bytes and values a copy of the database would hold."""
    tables: dict[str, list[dict[str, Any]]] = {}
    for table in Base.metadata.sorted_tables:
        tables[table.name] = [dict(row._mapping) for row in db.session.execute(select(table))]
    return tables


def _store_copy(root: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _binary_values() -> list[bytes]:
    """Every value of every LargeBinary column of every table in the database as it is now."""
    found: list[bytes] = []
    for table in Base.metadata.sorted_tables:
        columns = [
            c for c in table.columns if isinstance(c.type, LargeBinary) or "Bytes" in type(c.type).__name__
        ]
        for column in columns:
            found.extend(v for v in db.session.scalars(select(column)) if v)
    return found


def _opens(private: bytes, blob: bytes, contexts: list[tuple[object, ...]]) -> bytes | None:
    for context in contexts:
        with contextlib.suppress(Exception):  # any failure means: it does not open
            return crypto.unseal(private, blob, context=context)
    return None


def test_after_erasure_nothing_opens_with_any_key_even_with_a_copy_taken_before(app, case_world):
    w = case_world
    report_id, receipt = _full_report(w)
    store_root = Path(app.config["FILE_STORE_PATH"])
    with unlocked_as(app, w.users["monitor"]) as monitor:
        report = db.session.get(WorkerReport, report_id)
        org_key = db.session.get(OrganisationKey, report.organisation_key_id)
        org_private = keys.organisation_private_key(monitor, org_key)
        messages = list(db.session.scalars(select(ReportMessage).where(ReportMessage.report_id == report_id)))
        evidence = db.session.scalar(select(Evidence).where(Evidence.report_id == report_id))
        grant = db.session.scalar(select(ReportGrant).where(ReportGrant.report_id == report_id))
        contexts = [_data_key_context(report, org_key.id), _grant_context(report_id, grant.user_id)]
        contexts += [_message_key_context(m, org_key.id) for m in messages]
        contexts += [_receipt_key_context(m) for m in messages]
        contexts.append(("evidence", report_id, evidence.storage_key, org_key.id))
        aads = {m.id: _body_aad(m) for m in messages}
        old_db = _snapshot()
        old_store = _store_copy(store_root)
        assert evidence.storage_key in old_store
        since = last_audit_id(app)
        operations_erasure.erase_report(report, ErasureReason.worker_request)
        db.session.commit()
    with unlocked_as(app, w.users["coordinator"]) as coordinator:
        coordinator_private = keys.unlocked_private_key(coordinator)
        receipt_private = receipts.receipt_secrets(receipt).private_key

    # The old copy: its wrapped key still opens its own sealed bytes with the member's key.
    old_report = next(r for r in old_db["worker_report"] if r["id"] == report_id)
    old_data_key = crypto.unseal(org_private, old_report["wrapped_key"], context=contexts[0])
    old_testimony = crypto.decrypt_field(
        old_data_key,
        old_report["testimony_sealed"],
        table="worker_report",
        column="testimony_sealed",
        row=report_id,
    )
    assert SECRET in old_testimony.decode()
    old_messages = [r for r in old_db["report_message"] if r["report_id"] == report_id]
    assert len(old_messages) == 2

    # The new database: the report keeps its metadata, and nothing sealed is left of it.
    with app.app_context():
        report = db.session.get(WorkerReport, report_id)
        assert report.erased_dt is not None and report.erasure_reason is ErasureReason.worker_request
        assert report.site_id == w.site and report.status is not None and report.categories
        assert (
            report.wrapped_key is None and report.testimony_sealed is None and report.receipt_lookup is None
        )
        for model in (ReportMessage, Evidence, ReportGrant):
            assert db.session.scalars(select(model).where(model.report_id == report_id)).all() == []
        blobs = _binary_values()
    assert evidence.storage_key not in _store_copy(store_root)

    # No key material in the new database opens the old sealed bytes: no blob unwraps under any
    # key we hold (member, coordinator, receipt) in any of the report's contexts, and no blob
    # is the data key or decrypts the old testimony itself.
    sealed_old = [(old_report["testimony_sealed"], "worker_report", "testimony_sealed", report_id)]
    for blob in blobs:
        for private in (org_private, coordinator_private, receipt_private):
            assert _opens(private, blob, contexts) is None
        assert old_data_key not in blob
        for sealed, table, column, row in sealed_old:
            with pytest.raises(Exception):  # noqa: B017
                crypto.decrypt_field(blob[:32], sealed, table=table, column=column, row=row)
    for old_message in old_messages:
        assert all(old_message["organisation_wrapped_key"] not in blob for blob in blobs)
        assert old_message["id"] in aads

    # The receipt opens nothing: the same answer as an unknown receipt.
    _response, page = follow_up_page(app, receipt)
    assert "No report was found for this receipt number" in page

    entries = [e for e in audit_since(app, since) if e.action == "report.erased"]
    assert len(entries) == 1 and entries[0].data_dict["reason"] == "worker_request"
    assert SECRET not in entries[0].summary and entries[0].actor_id is None


def test_staff_pages_and_api_say_erased_and_refuse_to_open(app, case_world, client_for, api_client):
    w = case_world
    report_id, _receipt = _full_report(w)
    with app.app_context():
        operations_erasure.erase_report(db.session.get(WorkerReport, report_id), ErasureReason.retention)
        db.session.commit()
    client = client_for(w.users["monitor"])
    url = f"/testimony/reports/{report_id}"
    page = client.get(url).get_data(as_text=True)
    assert "This report was erased" in page and 'data-erased="retention"' in page
    token = _token(page)
    response = client.post(f"{url}/open", data={"csrf_token": token, **open_form()})
    assert response.status_code == 403 and "This report was erased" in response.get_data(as_text=True)
    script = api_client(w.users["monitor"], unlocked=True)
    body = script.get(f"/api/v1/worker-reports/{report_id}").get_json()
    assert body["erasure_reason"] == "retention" and body["erased_dt"]
    response = script.post(f"/api/v1/worker-reports/{report_id}/open", json={"reason": "follow_up"})
    assert response.status_code == 403 and "erased" in str(response.get_json())


def test_erasing_twice_is_refused(app, case_world):
    report_id, _receipt = receipt_report(case_world)
    with app.app_context():
        report = db.session.get(WorkerReport, report_id)
        operations_erasure.erase_report(report, ErasureReason.retention)
        with pytest.raises(operations_erasure.OperationError):
            operations_erasure.erase_report(report, ErasureReason.retention)


@pytest.mark.parametrize("lang", ["en", "th"])
def test_the_worker_erases_their_report_with_the_receipt(app, case_world, lang):
    w = case_world
    report_id, receipt = receipt_report(w)
    priority_case(w, [report_id])
    client = app.test_client()
    response, page = follow_up_page(app, receipt, lang=lang, client=client)
    assert translated(app, lang, "Erase my report") in page
    # First step: what erasure means, and a confirmation.
    response = client.post(
        f"/report/follow-up/erase?lang={lang}", data={"receipt": receipt, "csrf_token": _token(page)}
    )
    page = assert_worker_page(response)
    assert translated(app, lang, "Yes, erase my report") in page
    with app.app_context():
        assert db.session.get(WorkerReport, report_id).erased_dt is None
    since = last_audit_id(app)
    response = client.post(
        f"/report/follow-up/erase?lang={lang}",
        data={"receipt": receipt, "confirm": "yes", "csrf_token": _token(page)},
    )
    page = assert_worker_page(response)
    assert (
        translated(app, lang, "Your report was erased. The monitors can no longer read what you wrote.")
        in page
    )
    with app.app_context():
        report = db.session.get(WorkerReport, report_id)
        assert report.erasure_reason is ErasureReason.worker_request
        actions = [e.action for e in db.session.scalars(select(AuditEntry).where(AuditEntry.id > since))]
    assert "report.erased" in actions
    _response, page = follow_up_page(app, receipt, lang=lang)
    assert (
        translated(app, lang, "No report was found for this receipt number. Check the number and try again.")
        in page
    )


def test_a_wrong_receipt_is_refused_like_any(app, case_world):
    report_id, receipt = receipt_report(case_world)
    wrong = str((int(receipt) + 1) % 10**20).zfill(20)
    client = app.test_client()
    _response, page = follow_up_page(app, receipt, client=client)
    response = client.post(
        "/report/follow-up/erase", data={"receipt": wrong, "confirm": "yes", "csrf_token": _token(page)}
    )
    assert "No report was found for this receipt number" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(WorkerReport, report_id).erased_dt is None


def test_an_expired_confirmation_erases_nothing(app, case_world):
    report_id, receipt = receipt_report(case_world)
    response = app.test_client().post(
        "/report/follow-up/erase", data={"receipt": receipt, "confirm": "yes", "csrf_token": "x"}
    )
    assert "Yes, erase my report" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(WorkerReport, report_id).erased_dt is None


@pytest.mark.parametrize("role", ["monitor", "coordinator", "admin", "affiliate", "supplier"])
def test_staff_cannot_erase_through_the_api(app, case_world, api_client, role):
    report_id, _receipt = receipt_report(case_world)
    script = api_client(case_world.users[role])
    for method in ("delete", "post"):
        response = getattr(script, method)(f"/api/v1/worker-reports/{report_id}/erase")
        assert response.status_code in (404, 405)
    assert script.delete(f"/api/v1/worker-reports/{report_id}").status_code in (404, 405)
    with app.app_context():
        assert db.session.get(WorkerReport, report_id).erased_dt is None
