"""A site's audits and worker voice: the contradiction flag, re-mapping after a crosswalk edit, roles."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from monitoring.accounts.models import User
from monitoring.testimony.models import IssueCategory
from tests.audits.conftest import audit_csv, passed_audit, upload
from tests.cases.helpers import CaseWorld
from tests.conftest import post_form

Clients = Callable[[User], FlaskClient]


def _view(api_client: Any, user: User, site: int, year: int = 2026) -> Any:
    response = api_client(user).get(f"/api/v1/sites/{site}/audits?year={year}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _row(view: Any, code: str) -> Any:
    return next(row for row in view["standards"] if row["code"] == code)


def _hours_finding_with_reports(w: CaseWorld, reports: int = 2) -> int:
    report_ids = [w.report(categories=[IssueCategory.working_hours]) for _ in range(reports)]
    return w.finding(standard="WH-1", report_ids=report_ids, summary="Workers do 72-hour weeks.")


def test_a_passed_audit_and_worker_reports_on_the_same_standard_raise_the_flag(
    case_world: CaseWorld, api_client: Any, client_for: Clients
) -> None:
    w = case_world
    passed_audit(api_client, w)
    finding = _hours_finding_with_reports(w)

    view = _view(api_client, w.coordinator, w.site)
    hours = _row(view, "WH")
    assert hours["passed_by_audit"] and hours["contradiction"]
    assert hours["worker_reports"] == {"count": 2, "suppressed": False}
    assert [f["id"] for f in hours["monitor_findings"]] == [finding]
    assert [s["code"] for s in hours["rba_sections"]] == ["A3"]
    # The audit passed the other standards too, but nothing names them.
    assert _row(view, "FL")["passed_by_audit"] and not _row(view, "FL")["contradiction"]

    page = client_for(w.monitor).get(f"/sites/{w.site}/audits?year=2026")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "The audit says compliant, the workers say otherwise" in text
    assert f"/findings/{finding}" in text

    # Another year: neither the audit nor the finding.
    assert not any(
        row["contradiction"] for row in _view(api_client, w.coordinator, w.site, 2025)["standards"]
    )


def test_no_flag_when_the_audit_found_the_breach(case_world: CaseWorld, api_client: Any) -> None:
    w = case_world
    data = audit_csv(f"{w.site},2026-06-15,Verité Audits,A3,Excessive overtime in peak season,major,open")
    assert upload(api_client, w.coordinator, data).status_code == 201
    _hours_finding_with_reports(w)

    hours = _row(_view(api_client, w.monitor, w.site), "WH")
    assert not hours["passed_by_audit"] and not hours["contradiction"]
    assert hours["open_audit_findings_count"] == 1
    assert hours["audit_findings"][0]["text"] == "Excessive overtime in peak season"


def test_a_closed_audit_finding_still_passes_the_standard(case_world: CaseWorld, api_client: Any) -> None:
    w = case_world
    data = audit_csv(f"{w.site},2026-06-15,Verité Audits,A3,Overtime,minor,closed")
    assert upload(api_client, w.coordinator, data).status_code == 201
    _hours_finding_with_reports(w)
    hours = _row(_view(api_client, w.coordinator, w.site), "WH")
    assert hours["passed_by_audit"] and hours["contradiction"]


def test_after_a_crosswalk_edit_the_site_view_re_maps(
    case_world: CaseWorld, api_client: Any, client_for: Clients
) -> None:
    w = case_world
    # The audit found a breach under A9, which the crosswalk links to nothing yet: it passed WH.
    data = audit_csv(
        f"{w.site},2026-06-15,Verité Audits,A9,Interns on night shifts beyond the limit,major,open"
    )
    assert upload(api_client, w.coordinator, data).status_code == 201
    _hours_finding_with_reports(w)
    before = _row(_view(api_client, w.coordinator, w.site), "WH")
    assert before["contradiction"] and before["audit_findings"] == []

    added = api_client(w.coordinator).post(
        "/api/v1/crosswalk", json={"standard": "WH-3", "rba_section": "A9", "note": "Overtime rules"}
    )
    assert added.status_code == 201, added.get_json()
    after = _row(_view(api_client, w.coordinator, w.site), "WH")
    assert not after["passed_by_audit"] and not after["contradiction"]
    assert [f["rba_section"] for f in after["audit_findings"]] == ["A9"]
    assert [s["code"] for s in after["rba_sections"]] == ["A3", "A9"]

    # Removing the link (on the page) maps the audit finding away again.
    entry_id = added.get_json()["id"]
    client = client_for(w.coordinator)
    removed = post_form(client, f"/crosswalk/{entry_id}/delete", {}, form_page="/crosswalk")
    assert removed.status_code == 302
    assert _row(_view(api_client, w.coordinator, w.site), "WH")["contradiction"]


def test_affiliates_see_counts_only_with_small_counts_suppressed(
    case_world: CaseWorld, api_client: Any, client_for: Clients
) -> None:
    w = case_world
    passed_audit(api_client, w)
    finding = _hours_finding_with_reports(w)
    w.case(findings=[finding])  # affiliates see findings through the cases of their chains

    view = _view(api_client, w.affiliate, w.site)
    hours = _row(view, "WH")
    assert hours["contradiction"]
    assert hours["findings"] == {"count": None, "suppressed": True}
    assert hours["worker_reports"] == {"count": None, "suppressed": True}
    assert "audit_findings" not in hours and "monitor_findings" not in hours and "audits" not in view
    assert view["audits_count"] == 1

    page = client_for(w.affiliate).get(f"/sites/{w.site}/audits?year=2026").get_data(as_text=True)
    assert "fewer than 5" in page and f"/findings/{finding}" not in page
    assert "Workers do 72-hour weeks." not in page


@pytest.mark.parametrize("role", ["supplier", "supplier_y", "affiliate_b", "admin"])
def test_others_get_404(case_world: CaseWorld, api_client: Any, client_for: Clients, role: str) -> None:
    w = case_world
    user = w.users[role]
    assert api_client(user).get(f"/api/v1/sites/{w.site}/audits").status_code == 404
    assert client_for(user).get(f"/sites/{w.site}/audits").status_code == 404


def test_a_missing_site_is_404_and_a_bad_year_is_refused(case_world: CaseWorld, api_client: Any) -> None:
    w = case_world
    assert api_client(w.coordinator).get("/api/v1/sites/999999/audits").status_code == 404
    assert api_client(w.coordinator).get(f"/api/v1/sites/{w.site}/audits?year=1900").status_code == 422


def test_page_and_api_agree(case_world: CaseWorld, api_client: Any, client_for: Clients) -> None:
    w = case_world
    passed_audit(api_client, w)
    _hours_finding_with_reports(w)
    view = _view(api_client, w.coordinator, w.site)
    page = client_for(w.coordinator).get(f"/sites/{w.site}/audits?year=2026").get_data(as_text=True)
    flagged = [row["code"] for row in view["standards"] if row["contradiction"]]
    assert flagged == ["WH"]
    assert page.count("Audit passed, workers say otherwise") == len(flagged)
    assert page.count('class="status status-met"') == sum(
        1 for row in view["standards"] if row["passed_by_audit"] and not row["contradiction"]
    )


def test_the_site_page_links_to_the_view_for_those_who_may_open_it(
    case_world: CaseWorld, client_for: Clients
) -> None:
    w = case_world
    link = f"/sites/{w.site}/audits"
    assert link in client_for(w.monitor).get(f"/sites/{w.site}").get_data(as_text=True)
    assert link in client_for(w.affiliate).get(f"/sites/{w.site}").get_data(as_text=True)
    supplier_page = client_for(w.supplier).get(f"/sites/{w.site}")
    assert link not in supplier_page.get_data(as_text=True)
