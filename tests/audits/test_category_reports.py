"""Worker reports at a site counted per standard through their issue categories and the crosswalk,
and the contradiction flag they raise on their own."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from flask.testing import FlaskClient

from monitoring.accounts.models import User
from monitoring.core.db import db
from monitoring.testimony.models import ErasureReason, IssueCategory, WorkerReport
from monitoring.testimony.operations_erasure import erase_report
from tests.audits.conftest import audit_csv, passed_audit, upload
from tests.cases.helpers import CaseWorld

Clients = Callable[[User], FlaskClient]
HOURS = [IssueCategory.working_hours]


def _view(api_client: Any, user: User, site: int, year: int = 2026) -> Any:
    response = api_client(user).get(f"/api/v1/sites/{site}/audits?year={year}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _row(view: Any, code: str) -> Any:
    return next(row for row in view["standards"] if row["code"] == code)


def _count(n: int | None) -> dict[str, Any]:
    return {"count": n, "suppressed": n is None}


def test_worker_reports_alone_raise_the_flag(
    case_world: CaseWorld, api_client: Any, client_for: Clients
) -> None:
    w = case_world
    passed_audit(api_client, w)
    w.report(categories=HOURS)
    w.report(categories=[IssueCategory.working_hours, IssueCategory.wages])
    # Not counted: another site, another year.
    w.report(categories=HOURS, site_id=w.other_site)
    w.report(categories=HOURS, collected_date=date(2025, 12, 31))

    view = _view(api_client, w.coordinator, w.site)
    hours = _row(view, "WH")
    assert hours["category_reports"] == _count(2)
    assert hours["findings"] == _count(0) and hours["worker_reports"] == _count(0)
    assert hours["passed_by_audit"] and hours["contradiction"]
    assert "working_hours" in [c["value"] for c in hours["issue_categories"]]
    wages = _row(view, "WB")
    assert wages["category_reports"] == _count(1) and wages["contradiction"]
    # Passed, but no report names forced labour.
    forced = _row(view, "FL")
    assert forced["passed_by_audit"] and forced["category_reports"] == _count(0)
    assert not forced["contradiction"]
    assert [row["code"] for row in view["standards"] if row["contradiction"]] == ["WB", "WH"]

    # Every organisation's reports raise the flag, but a monitor counts only its own organisation's
    # (it reads no other's reports), as the site's risk view counts them.
    theirs = _row(_view(api_client, w.other_monitor, w.site), "WH")
    assert theirs["category_reports"] == _count(0) and theirs["contradiction"]
    assert _row(_view(api_client, w.monitor, w.site), "WH")["category_reports"] == _count(2)

    page = client_for(w.monitor).get(f"/sites/{w.site}/audits?year=2026").get_data(as_text=True)
    assert "The audit says compliant, the workers say otherwise" in page
    assert page.count("Audit passed, workers say otherwise") == 2
    assert "Working hours and overtime" in page
    # The page never opens a report.
    assert "We work every Sunday" not in page

    # The report of 2025 counts in 2025, where no audit passed anything.
    earlier = _row(_view(api_client, w.coordinator, w.site, 2025), "WH")
    assert earlier["category_reports"] == _count(1) and not earlier["contradiction"]


def test_a_report_counts_once_per_standard(case_world: CaseWorld, api_client: Any) -> None:
    w = case_world
    # Both categories map to sub-standards of FL (FL-1, FL-2) and one maps to FL itself.
    w.report(
        categories=[
            IssueCategory.recruitment_fees,
            IssueCategory.retained_documents,
            IssueCategory.forced_labour,
        ]
    )
    forced = _row(_view(api_client, w.coordinator, w.site), "FL")
    assert forced["category_reports"] == _count(1)
    assert {"recruitment_fees", "retained_documents", "forced_labour"} <= {
        c["value"] for c in forced["issue_categories"]
    }


def test_no_flag_when_the_audit_found_the_breach(case_world: CaseWorld, api_client: Any) -> None:
    w = case_world
    data = audit_csv(f"{w.site},2026-06-15,Verité Audits,A3,Excessive overtime in peak season,major,open")
    assert upload(api_client, w.coordinator, data).status_code == 201
    w.report(categories=HOURS)

    hours = _row(_view(api_client, w.monitor, w.site), "WH")
    assert hours["category_reports"] == _count(1)
    assert not hours["passed_by_audit"] and not hours["contradiction"]


def test_erased_reports_are_left_out(case_world: CaseWorld, api_client: Any) -> None:
    w = case_world
    passed_audit(api_client, w)
    report_id = w.report(categories=HOURS)
    assert _row(_view(api_client, w.coordinator, w.site), "WH")["contradiction"]

    with w.session():
        report = db.session.get(WorkerReport, report_id)
        erase_report(report, ErasureReason.worker_request)
    hours = _row(_view(api_client, w.coordinator, w.site), "WH")
    assert hours["category_reports"] == _count(0) and not hours["contradiction"]


def test_a_crosswalk_edit_re_maps_the_counts(case_world: CaseWorld, api_client: Any) -> None:
    w = case_world
    passed_audit(api_client, w)
    w.report(categories=[IssueCategory.other])
    before = _view(api_client, w.coordinator, w.site)
    assert not any(row["category_reports"]["count"] for row in before["standards"])
    assert not any(row["contradiction"] for row in before["standards"])

    coordinator = api_client(w.coordinator)
    added = coordinator.post("/api/v1/crosswalk", json={"standard": "DI-3", "issue_category": "other"})
    assert added.status_code == 201, added.get_json()
    discrimination = _row(_view(api_client, w.coordinator, w.site), "DI")
    assert discrimination["category_reports"] == _count(1) and discrimination["contradiction"]

    entry = added.get_json()["id"]
    moved = coordinator.put(f"/api/v1/crosswalk/{entry}", json={"standard": "AG", "issue_category": "other"})
    assert moved.status_code == 200, moved.get_json()
    after = _view(api_client, w.coordinator, w.site)
    assert _row(after, "DI")["category_reports"] == _count(0) and not _row(after, "DI")["contradiction"]
    assert _row(after, "AG")["category_reports"] == _count(1) and _row(after, "AG")["contradiction"]

    assert coordinator.delete(f"/api/v1/crosswalk/{entry}").status_code == 200
    assert _row(_view(api_client, w.coordinator, w.site), "AG")["category_reports"] == _count(0)


def test_buyers_see_small_counts_suppressed(
    case_world: CaseWorld, api_client: Any, client_for: Clients
) -> None:
    w = case_world
    passed_audit(api_client, w)
    for _ in range(4):
        w.report(categories=HOURS)
    for _ in range(5):
        w.report(categories=[IssueCategory.wages])

    view = _view(api_client, w.affiliate, w.site)
    hours, wages = _row(view, "WH"), _row(view, "WB")
    assert hours["category_reports"] == _count(None) and hours["contradiction"]
    assert wages["category_reports"] == _count(5) and wages["contradiction"]
    assert _row(view, "FL")["category_reports"] == _count(0)
    # Staff see the exact count.
    assert _row(_view(api_client, w.monitor, w.site), "WH")["category_reports"] == _count(4)

    page = client_for(w.affiliate).get(f"/sites/{w.site}/audits?year=2026").get_data(as_text=True)
    assert "fewer than 5" in page
    assert "We work every Sunday" not in page
