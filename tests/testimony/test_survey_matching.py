"""Fuzzy workplace matching: a misspelt workplace gets a proposed site, which a monitor confirms."""

from __future__ import annotations

import io
import json

import pytest
from sqlalchemy import select

from monitoring.accounts.models import UserRole
from monitoring.core import jobs
from monitoring.core.audit import AuditEntry
from monitoring.core.db import db
from monitoring.supplychain import operations as supplychain
from monitoring.supplychain.models import SiteKind
from monitoring.testimony.models import SurveyImport, WorkerReport
from monitoring.testimony.survey_matching import MIN_SIMILARITY, SiteProposer, similarity
from tests.conftest import csrf_token
from tests.testimony.test_survey import kobo_csv, setup  # noqa: F401  (a fixture)

API = "/api/v1/testimony/survey-imports"
QUESTIONS = ["site_name", "country", "testimony"]


@pytest.mark.parametrize(
    ("written", "registered", "alike"),
    [
        ("Lana Electronic", "Lanna Electronics Co., Ltd.", True),  # spelling
        ("LANNA ELECTRONICS LTD", "Lanna Electronics Co., Ltd.", True),  # case, legal form
        ("Board Works Penang", "Penang Board Works", True),  # word order
        ("Lanna Foods", "Lanna Electronics Co., Ltd.", False),
        ("Siam Plastics", "Lanna Electronics Co., Ltd.", False),
    ],
)
def test_similarity(written, registered, alike):
    assert (similarity(written, registered) >= MIN_SIMILARITY) is alike


def test_the_proposal_is_the_best_site_of_the_country_and_none_when_tied(app, setup):  # noqa: F811
    with app.app_context():
        for name, country in (("Lanna Electric Motors", "TH"), ("Lanna Electronics", "MY")):
            supplychain.create_site(
                None, supplychain.SiteData(name=name, country=country, kind=SiteKind.component)
            )
        for name in ("Siam Cable One", "Siam Cable Two"):
            supplychain.create_site(
                None, supplychain.SiteData(name=name, country="VN", kind=SiteKind.component)
            )
        db.session.flush()
        proposer = SiteProposer()
        assert proposer.propose_id("Lana Electronic", "TH") == setup.site_id
        assert proposer.propose_id("Penang Bord Works", "MY") == setup.other_site_id
        assert proposer.propose_id("Totally different", "TH") is None
        assert proposer.propose_id("Siam Cable", "VN") is None  # two equally good: no proposal
        assert proposer.propose_id("Lana Electronic", "DE") is None
        db.session.rollback()


def survey_file() -> bytes:
    return kobo_csv(
        [
            {"site_name": "Lana Electronic", "country": "th", "testimony": "No day off for weeks."},
            {"site_name": "Lanna Electronics Co Ltd", "country": "TH", "testimony": "Exact match."},
            {"site_name": "Unknown Sweatshop", "country": "TH", "testimony": "Nothing alike."},
        ],
        questions=QUESTIONS,
    )


def import_file(api) -> tuple[int, list[WorkerReport]]:
    """Upload the file and run the worker (in the caller's app context)."""
    response = api.post(
        API, data={"file": (io.BytesIO(survey_file()), "export.csv")}, content_type="multipart/form-data"
    )
    assert response.status_code == 202, response.get_json()
    jobs.work_once()
    import_id = api.get(f"{API}/jobs/{response.get_json()['id']}").get_json()["result"]["survey_import_id"]
    return import_id, list(
        db.session.scalars(
            select(WorkerReport).where(WorkerReport.survey_import_id == import_id).order_by(WorkerReport.id)
        )
    )


def test_a_misspelt_workplace_is_proposed_and_confirmed_by_api(app, setup, api_client):  # noqa: F811
    api = api_client(setup.monitor)
    with app.app_context():
        import_id, (fuzzy, exact, unknown) = import_file(api)
        assert (fuzzy.site_id, fuzzy.proposed_site_id, fuzzy.country) == (None, setup.site_id, "TH")
        assert (exact.site_id, exact.proposed_site_id) == (setup.site_id, None)
        assert (unknown.site_id, unknown.proposed_site_id) == (None, None)
    proposals = api.get(f"{API}/{import_id}/site-proposals").get_json()
    assert proposals == [
        {"id": fuzzy.id, "site_id": None, "proposed_site_id": setup.site_id, "country": "TH"}
    ]
    response = api.post(f"/api/v1/worker-reports/{fuzzy.id}/site", json={"site_id": setup.site_id})
    assert response.get_json()["site_id"] == setup.site_id
    assert response.get_json()["proposed_site_id"] is None
    assert api.get(f"{API}/{import_id}/site-proposals").get_json() == []
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "report.site_corrected"))
        assert json.loads(entry.data)["proposed_site_id"] == setup.site_id
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "survey.import"))
        assert json.loads(entry.data)["proposed_sites"] == 1


def test_monitor_confirms_a_proposal_on_the_import_page(app, setup, api_client, client_for):  # noqa: F811
    with app.app_context():
        import_id, (fuzzy, _exact, _unknown) = import_file(api_client(setup.monitor))
    client = client_for(setup.monitor)
    url = f"/testimony/survey-imports/{import_id}"
    page = client.get(url).get_data(as_text=True)
    assert f'data-report-id="{fuzzy.id}" data-proposed-site-id="{setup.site_id}"' in page
    assert "Lanna Electronics Co., Ltd. (TH)" in page
    token = csrf_token(client, url)
    response = client.post(
        f"/testimony/survey-imports/reports/{fuzzy.id}/confirm-site", data={"csrf_token": token}
    )
    assert response.status_code == 302 and response.headers["Location"].endswith(url)
    page = client.get(url).get_data(as_text=True)
    assert "The proposed workplace was confirmed" in page and "data-proposed-site-id" not in page
    with app.app_context():
        report = db.session.get(WorkerReport, fuzzy.id)
        assert (report.site_id, report.proposed_site_id) == (setup.site_id, None)
    # Nothing to confirm any more.
    client.post(f"/testimony/survey-imports/reports/{fuzzy.id}/confirm-site", data={"csrf_token": token})
    assert "No site is proposed for this report" in client.get(url).get_data(as_text=True)


@pytest.mark.parametrize(
    "role", [UserRole.monitor, UserRole.admin, UserRole.coordinator, UserRole.affiliate, UserRole.supplier]
)
def test_others_get_404(app, setup, api_client, client_for, create_user, role):  # noqa: F811
    with app.app_context():
        import_id, (fuzzy, _exact, _unknown) = import_file(api_client(setup.monitor))
    other = create_user(role)  # a monitor of another organisation, or another role
    assert api_client(other).get(f"{API}/{import_id}/site-proposals").status_code == 404
    client = client_for(other)
    response = client.post(
        f"/testimony/survey-imports/reports/{fuzzy.id}/confirm-site",
        data={"csrf_token": csrf_token(client, "/")},
    )
    assert response.status_code == 404
    with app.app_context():
        assert db.session.get(WorkerReport, fuzzy.id).proposed_site_id == setup.site_id
        assert db.session.scalar(select(SurveyImport.id)) == import_id
