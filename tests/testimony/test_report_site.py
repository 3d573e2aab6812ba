"""A monitor of the report's organisation corrects the site it names; audited; others 404."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from monitoring.accounts.models import UserRole
from monitoring.core.audit import AuditEntry
from monitoring.core.db import db
from monitoring.testimony.models import WorkerReport
from tests.conftest import csrf_token
from tests.testimony.test_survey import setup  # noqa: F401  (a fixture)
from tests.testimony.test_survey_undo import api_import, reports_of


def site_of(app, report_id: int) -> tuple[int | None, str | None]:
    with app.app_context():
        report = db.session.get(WorkerReport, report_id)
        return report.site_id, report.country


def audits(app) -> list[dict]:
    with app.app_context():
        return [
            {key: value for key, value in json.loads(entry.data).items() if key != "endpoint"}
            for entry in db.session.scalars(
                select(AuditEntry).where(AuditEntry.action == "report.site_corrected").order_by(AuditEntry.id)
            )
        ]


def test_monitor_corrects_the_site_by_api(app, setup, api_client):  # noqa: F811
    api = api_client(setup.monitor)
    report = reports_of(app, api_import(app, api))[0]
    assert report.site_id == setup.site_id
    url = f"/api/v1/worker-reports/{report.id}/site"
    response = api.post(url, json={"site_id": setup.other_site_id})
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {
        "id": report.id,
        "site_id": setup.other_site_id,
        "proposed_site_id": None,
        "country": "MY",
    }
    assert site_of(app, report.id) == (setup.other_site_id, "MY")
    assert audits(app) == [
        {"old_site_id": setup.site_id, "new_site_id": setup.other_site_id, "proposed_site_id": None}
    ]
    # The same site again changes nothing and records nothing.
    assert api.post(url, json={"site_id": setup.other_site_id}).status_code == 200
    assert len(audits(app)) == 1
    # Unlinked, then a missing site refused.
    assert api.post(url, json={"site_id": None}).get_json()["site_id"] is None
    response = api.post(url, json={"site_id": 999999})
    assert response.status_code == 422 and "site_id" in response.get_json()["error"]["errors"]
    assert api.post(url, json={}).status_code == 422
    assert [a["new_site_id"] for a in audits(app)] == [setup.other_site_id, None]


def test_monitor_corrects_the_site_on_the_report_page(app, setup, api_client, client_for):  # noqa: F811
    report = reports_of(app, api_import(app, api_client(setup.monitor)))[0]
    client = client_for(setup.monitor)
    page_url = f"/testimony/reports/{report.id}"
    assert 'id="site-correction"' in client.get(page_url).get_data(as_text=True)
    token = csrf_token(client, page_url)
    url = f"/testimony/survey-imports/reports/{report.id}/site"
    response = client.post(url, data={"csrf_token": token, "site": str(setup.other_site_id)})
    assert response.status_code == 302 and response.headers["Location"].endswith(page_url)
    assert site_of(app, report.id)[0] == setup.other_site_id
    page = client.get(page_url).get_data(as_text=True)
    assert "workplace was corrected" in page
    client.post(url, data={"csrf_token": token, "site": "XX0000000000000"})
    page = client.get(page_url).get_data(as_text=True)
    assert "No site with this Open Supply Hub id or number" in page
    assert site_of(app, report.id)[0] == setup.other_site_id


@pytest.mark.parametrize(
    "role", [UserRole.monitor, UserRole.admin, UserRole.coordinator, UserRole.affiliate, UserRole.supplier]
)
def test_others_get_404(app, setup, api_client, client_for, create_user, role):  # noqa: F811
    report = reports_of(app, api_import(app, api_client(setup.monitor)))[0]
    other = create_user(role)  # a monitor of another organisation, or another role
    response = api_client(other).post(
        f"/api/v1/worker-reports/{report.id}/site", json={"site_id": setup.other_site_id}
    )
    assert response.status_code == 404
    client = client_for(other)
    response = client.post(
        f"/testimony/survey-imports/reports/{report.id}/site",
        data={"csrf_token": csrf_token(client, "/"), "site": str(setup.other_site_id)},
    )
    assert response.status_code == 404
    assert site_of(app, report.id)[0] == setup.site_id
    assert audits(app) == []
