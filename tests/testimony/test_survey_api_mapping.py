# ruff: noqa: F811  (setup, a fixture imported from test_survey, is every test's argument)
"""The survey upload's column-mapping step through the API: a Kobo export with renamed questions
waits, its unmapped columns listed, until the monitor confirms its columns (or cancels it)."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from monitoring.accounts.models import UserRole
from monitoring.core.db import db
from monitoring.core.jobs import Job, JobState
from monitoring.testimony.models import WorkerReport
from tests.testimony.test_survey import API, counts, run_worker, setup  # noqa: F401
from tests.testimony.test_survey_mapping import renamed_file

MAPPING = {
    "testimony": "interview/story",
    "site_os_id": "interview/site_os_id",
    "consent_share_buyers": "consent/consent_buyers",
    "today": "today",
    "_uuid": "_uuid",
}


def _held(api, data: bytes) -> dict:
    response = api.post(
        API,
        data={"language": "th", "file": (io.BytesIO(data), "export.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 202, response.get_json()
    status = response.get_json()
    assert status["state"] == "waiting"
    return status


def test_a_renamed_export_waits_and_lists_its_unmapped_columns_before_anything_is_imported(
    app, setup, api_client
):
    api = api_client(setup.monitor)
    job_id = _held(api, renamed_file())["id"]
    proposal = api.get(f"{API}/jobs/{job_id}/columns").get_json()
    assert proposal["mapping"]["testimony"] == "interview/story"
    assert proposal["mapping"]["consent_share_buyers"] == "consent/consent_buyers"
    assert "interview/enumerator_note" in proposal["unmapped_columns"]
    assert "passports" not in str(proposal)  # the header only: no answer is read
    assert run_worker(app) == []
    assert counts(app) == (0, 0)

    refused = api.post(f"{API}/jobs/{job_id}/columns", json={"mapping": {**MAPPING, "testimony": None}})
    assert refused.status_code == 422
    assert "testimony" in refused.get_json()["error"]["errors"]
    with app.app_context():
        assert db.session.get(Job, job_id).state == JobState.waiting

    confirmed = api.post(f"{API}/jobs/{job_id}/columns", json={"mapping": MAPPING, "save_as": "Form v2"})
    assert confirmed.status_code == 200, confirmed.get_json()
    assert confirmed.get_json()["state"] == "queued"
    assert [o.state for o in run_worker(app)] == [JobState.done]
    with app.app_context():
        reports = db.session.scalars(select(WorkerReport).order_by(WorkerReport.id)).all()
        assert [r.consent_share_buyers for r in reports] == [True, False]
    # Not waiting any more: the columns cannot be confirmed again.
    assert api.post(f"{API}/jobs/{job_id}/columns", json={"mapping": MAPPING}).status_code == 422
    # The next export of the same form is proposed the saved mapping.
    again = _held(api, renamed_file())["id"]
    assert api.get(f"{API}/jobs/{again}/columns").get_json()["saved_mapping"] == "Form v2"


def test_a_held_upload_can_be_cancelled_through_the_api(app, setup, api_client):
    api = api_client(setup.monitor)
    job_id = _held(api, renamed_file())["id"]
    response = api.post(f"{API}/jobs/{job_id}/cancel")
    assert response.status_code == 200 and response.get_json()["state"] == "failed"
    with app.app_context():
        job = db.session.get(Job, job_id)
        assert (job.storage_key, job.file_key_ct) == (None, None)


@pytest.mark.parametrize("role", [UserRole.monitor, UserRole.admin, UserRole.coordinator, UserRole.supplier])
def test_others_get_404_for_the_held_upload(app, setup, api_client, create_user, role):
    job_id = _held(api_client(setup.monitor), renamed_file())["id"]
    other = api_client(create_user(role))
    assert other.get(f"{API}/jobs/{job_id}/columns").status_code in (403, 404)
    assert other.post(f"{API}/jobs/{job_id}/columns", json={"mapping": MAPPING}).status_code in (403, 404)
    assert other.post(f"{API}/jobs/{job_id}/cancel").status_code in (403, 404)
    with app.app_context():
        assert db.session.get(Job, job_id).state == JobState.waiting
