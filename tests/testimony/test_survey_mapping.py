# ruff: noqa: F811  (setup, a fixture imported from test_survey, is every test's argument)
"""The column-mapping step of a survey upload: a Kobo export with renamed questions is held
until the monitor confirms its columns; unmapped columns are listed before anything is imported."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from monitoring.accounts.models import UserRole
from monitoring.core.column_mapping import SavedMapping
from monitoring.core.db import db
from monitoring.core.jobs import Job, JobState
from monitoring.testimony.models import WorkerReport
from tests.conftest import csrf_token
from tests.testimony.test_survey import OS_ID, _upload, counts, kobo_csv, run_worker, setup  # noqa: F401

RENAMED = ["interview/site_os_id", "interview/story", "consent/consent_buyers", "interview/enumerator_note"]


def renamed_file() -> bytes:
    return kobo_csv(
        [
            {
                "interview/site_os_id": OS_ID,
                "interview/story": "The agency kept our passports.",
                "consent/consent_buyers": "yes",
                "interview/enumerator_note": "met at the canteen",
            },
            {"interview/site_os_id": OS_ID, "interview/story": "No day off.", "consent/consent_buyers": "no"},
        ],
        questions=RENAMED,
    )


def columns_url_of(response) -> str:
    assert response.status_code == 302, response.get_data(as_text=True)
    location = response.headers["Location"]
    assert location.endswith("/columns")
    return location


def _job_id(url: str) -> int:
    return int(url.rsplit("/", 2)[1])


def _select(page: str, key: str) -> str:
    found = re.search(rf'<select id="map_{key}".*?</select>', page, re.S)
    assert found is not None, key
    return found.group(0)


def _confirm(client, url: str, **fields):
    token = csrf_token(client, url)
    mapping = {
        "map_testimony": "interview/story",
        "map_site_os_id": "interview/site_os_id",
        "map_consent_share_buyers": "consent/consent_buyers",
        "map_today": "today",
        "map__uuid": "_uuid",
    }
    return client.post(url, data={"csrf_token": token, "action": "confirm", **mapping, **fields})


def test_renamed_questions_go_through_the_mapping_step(app, setup, client_for):
    client = client_for(setup.monitor)
    url = columns_url_of(_upload(client, renamed_file()))
    job_id = _job_id(url)
    page = client.get(url).get_data(as_text=True)
    # Proposed by synonym and by the question's name after its group path.
    assert 'value="interview/story" selected' in _select(page, "testimony")
    assert 'value="consent/consent_buyers" selected' in _select(page, "consent_share_buyers")
    assert 'value="interview/site_os_id" selected' in _select(page, "site_os_id")
    # Listed before anything is imported, and no answer is shown.
    unmapped = re.search(r'<ul class="unmapped-columns">(.*?)</ul>', page, re.S)
    assert unmapped is not None and "<code>interview/enumerator_note</code>" in unmapped.group(1)
    assert "passports" not in page and "canteen" not in page
    assert run_worker(app) == []  # held: no worker takes it
    assert counts(app) == (0, 0)

    response = _confirm(client, url, save_as="Kobo form v2")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/jobs/{job_id}")
    assert [o.state for o in run_worker(app)] == [JobState.done]
    assert counts(app) == (2, 1)
    with app.app_context():
        reports = db.session.scalars(select(WorkerReport).order_by(WorkerReport.id)).all()
        assert [r.consent_share_buyers for r in reports] == [True, False]
        [saved] = db.session.scalars(select(SavedMapping)).all()
        assert (saved.name, saved.kind, saved.organisation_id) == (
            "Kobo form v2",
            "survey",
            setup.organisation_id,
        )
        assert saved.fields["testimony"] == "interview/story"

    # The next export of the same form gets the saved mapping proposed.
    url = columns_url_of(_upload(client, renamed_file()))
    assert "Proposed from the saved mapping “Kobo form v2”" in client.get(url).get_data(as_text=True)


def test_a_required_question_without_a_column_queues_nothing(app, setup, client_for):
    client = client_for(setup.monitor)
    url = columns_url_of(_upload(client, renamed_file()))
    response = _confirm(client, url, map_testimony="")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Nothing was queued" in page and '<a href="#map_testimony"><code>testimony</code></a>' in page
    with app.app_context():
        assert db.session.get(Job, _job_id(url)).state == JobState.waiting


def test_the_upload_can_be_cancelled_and_its_file_is_erased(app, setup, client_for):
    client = client_for(setup.monitor)
    url = columns_url_of(_upload(client, renamed_file()))
    token = csrf_token(client, url)
    response = client.post(url, data={"csrf_token": token, "action": "cancel"})
    assert response.status_code == 302
    with app.app_context():
        job = db.session.get(Job, _job_id(url))
        assert (job.state, job.storage_key, job.file_key_ct) == (JobState.failed, None, None)
    page = client.get(f"/testimony/survey-imports/jobs/{_job_id(url)}").get_data(as_text=True)
    assert "The import was cancelled. Nothing was saved." in page


@pytest.mark.parametrize("role", [UserRole.monitor, UserRole.admin, UserRole.coordinator, UserRole.supplier])
def test_others_get_404_for_the_mapping_step(app, setup, client_for, create_user, role):
    url = columns_url_of(_upload(client_for(setup.monitor), renamed_file()))
    other = client_for(create_user(role))
    assert other.get(url).status_code == 404
    assert other.post(url, data={"action": "cancel"}).status_code in (400, 404)
    with app.app_context():
        assert db.session.get(Job, _job_id(url)).state == JobState.waiting
