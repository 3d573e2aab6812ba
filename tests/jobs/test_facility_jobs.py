"""Facility lists imported by the background worker: queued by the upload, staged in batches,
applied whole or not at all, resumed after a killed worker, followed by their owner only."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select, update

from monitoring.core import jobs
from monitoring.core.db import db
from monitoring.core.jobs import Job, JobRow, JobState
from monitoring.core.types import utcnow
from monitoring.notifications import render
from monitoring.notifications.models import Notification, NotificationKind
from monitoring.supplychain.models import Site
from tests.conftest import login
from tests.jobs.conftest import job_id_from, job_of, run_worker, upload_facilities
from tests.supplychain.helpers import count_rows
from tests.supplychain.test_import_facilities import facility_csv, facility_row


def many_rows(count: int) -> bytes:
    return facility_csv([facility_row(name=f"Factory {i}", address=f"{i} Road") for i in range(count)])


def test_upload_only_queues_and_the_worker_imports(app, coordinator, client_for):
    client = client_for(coordinator)
    data = many_rows(30)
    response = upload_facilities(client, data)
    job_id = job_id_from(response)
    assert count_rows(app, Site) == 0
    job = job_of(app, job_id)
    assert (job.state, job.owner_id, job.rows_done, job.filename) == (
        JobState.queued,
        coordinator.id,
        0,
        "facilities.csv",
    )
    page = client.get(f"/imports/jobs/{job_id}").get_data(as_text=True)
    assert '<meta http-equiv="refresh" content="2">' in page
    assert "<progress" in page

    assert f"job {job_id}: done" in run_worker(app)
    assert count_rows(app, Site) == 30
    job = job_of(app, job_id)
    assert (job.state, job.rows_done, job.rows_total, job.problems) == (JobState.done, 30, 30, 0)
    assert job.storage_key is None
    page = client.get(f"/imports/jobs/{job_id}").get_data(as_text=True)
    assert "http-equiv" not in page
    assert "The file facilities.csv was imported" in page
    assert re.search(r"Sites added</th><td class=\"number\">30<", page)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(JobRow)) == 0


def test_api_gives_the_same_status(app, coordinator, client_for, api_client):
    job_id = job_id_from(upload_facilities(client_for(coordinator), many_rows(3)))
    status = api_client(coordinator).get(f"/api/v1/jobs/{job_id}")
    assert status.status_code == 200
    assert status.get_json()["state"] == "queued"
    run_worker(app)
    body = api_client(coordinator).get(f"/api/v1/jobs/{job_id}").get_json()
    assert (body["state"], body["rows_done"], body["progress"], body["result"]["created"]) == (
        "done",
        3,
        1.0,
        3,
    )


def _make_stale(job_id: int) -> None:
    stale = utcnow() - timedelta(seconds=jobs.DEFAULT_STALE_SECONDS + 1)
    db.session.execute(update(Job).where(Job.id == job_id).values(heartbeat_dt=stale))
    db.session.commit()


def test_progress_advances_batch_by_batch(app, coordinator, client_for, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_BATCH_ROWS", 10)
    job_id = job_id_from(upload_facilities(client_for(coordinator), many_rows(35)))
    seen = []
    with app.app_context():
        for batches in (1, 3):
            claimed = jobs.claim()
            assert claimed is not None
            jobs.run(*claimed, max_batches=batches)
            job = db.session.get(Job, job_id, populate_existing=True)
            seen.append((job.rows_done, job.bytes_done, job.fraction()))
            _make_stale(job_id)
    assert [rows for rows, _, _ in seen] == [10, 30]
    assert 0 < seen[0][1] < seen[1][1] < job_of(app, job_id).size
    assert 0 < seen[0][2] < seen[1][2] < 1
    assert count_rows(app, Site) == 0  # staged, not applied


def test_a_killed_worker_leaves_nothing_and_the_next_one_finishes(app, coordinator, client_for, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_BATCH_ROWS", 10)
    job_id = job_id_from(upload_facilities(client_for(coordinator), many_rows(45)))
    with app.app_context():
        claimed = jobs.claim()
        assert claimed is not None
        assert jobs.run(*claimed, max_batches=2) is None  # the worker "dies" after two batches
        assert db.session.scalar(select(func.count()).where(JobRow.job_id == job_id)) == 20
    assert count_rows(app, Site) == 0
    # While its heartbeat is fresh, nobody else takes the job.
    assert "job " not in run_worker(app)
    with app.app_context():
        _make_stale(job_id)
    assert f"job {job_id}: done" in run_worker(app)
    assert count_rows(app, Site) == 45
    assert job_of(app, job_id).rows_done == 45
    # The dead worker's claim is gone: if it woke up, it could write nothing more.
    with app.app_context(), pytest.raises(jobs.LostClaim):
        jobs.beat(db.session.get(Job, job_id), claimed[1], rows_done=1)


def test_a_bad_file_rolls_back_entirely_and_says_why(app, coordinator, client_for, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_BATCH_ROWS", 10)
    rows = [facility_row(name=f"F {i}", address=f"{i} Road") for i in range(25)]
    rows[21] = facility_row(name="Bad", country_code="XX")
    client = client_for(coordinator)
    job_id = job_id_from(upload_facilities(client, facility_csv(rows)))
    assert f"job {job_id}: failed" in run_worker(app)
    assert count_rows(app, Site) == 0
    job = job_of(app, job_id)
    assert (job.state, job.problems) == (JobState.failed, 1)
    page = client.get(f"/imports/jobs/{job_id}").get_data(as_text=True)
    assert "The file was not imported" in page
    assert re.search(r'<th scope="row" class="number">23</th>\s*<td><code>country_code</code></td>', page)


def test_an_exact_repeat_is_merged_and_an_os_id_repeat_refuses(app, coordinator, client_for):
    client = client_for(coordinator)
    merged = job_id_from(upload_facilities(client, facility_csv([facility_row()] * 2)))
    run_worker(app)
    assert job_of(app, merged).state == JobState.done
    assert count_rows(app, Site) == 1
    rows = [facility_row(name="Alpha Works", os_id="CN2019123ABCDEF"), facility_row(name="Beta Works")]
    rows[1]["os_id"] = "CN2019123ABCDEF"
    refused = job_id_from(upload_facilities(client, facility_csv(rows)))
    run_worker(app)
    assert job_of(app, refused).state == JobState.failed
    assert count_rows(app, Site) == 1


def test_the_reason_is_given_in_the_owners_language(app, create_user, client_for):
    coordinator = create_user("coordinator", locale="es")
    client = client_for(coordinator)
    job_id = job_id_from(upload_facilities(client, facility_csv([facility_row(country_code="XX")])))
    run_worker(app)
    page = client.get(f"/imports/jobs/{job_id}").get_data(as_text=True)
    assert '<html lang="es">' in page
    assert "The file was not imported" not in page
    assert re.search(r'<th scope="row" class="number">2</th>\s*<td><code>country_code</code></td>', page)


def test_a_login_succeeds_while_a_job_is_half_done(app, coordinator, create_user, client_for, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_BATCH_ROWS", 10)
    job_id = job_id_from(upload_facilities(client_for(coordinator), many_rows(30)))
    with app.app_context():
        claimed = jobs.claim()
        assert claimed is not None
        jobs.run(*claimed, max_batches=1)
    other = create_user("monitor")
    assert login(app.test_client(), other).status_code == 302
    assert job_of(app, job_id).state == JobState.running


@pytest.mark.parametrize("role", ["admin", "coordinator", "monitor", "affiliate", "supplier"])
def test_only_the_owner_sees_a_job(app, coordinator, create_user, client_for, api_client, role):
    job_id = job_id_from(upload_facilities(client_for(coordinator), many_rows(1)))
    other = create_user(role)
    assert client_for(other).get(f"/imports/jobs/{job_id}").status_code == 404
    assert api_client(other).get(f"/api/v1/jobs/{job_id}").status_code == 404
    assert client_for(coordinator).get(f"/imports/jobs/{job_id}").status_code == 200
    assert client_for(coordinator).get("/imports/jobs/999999").status_code == 404


def test_the_owner_is_told_when_the_import_is_over(app, coordinator, client_for):
    client = client_for(coordinator)
    good = job_id_from(upload_facilities(client, many_rows(2), filename="good.csv"))
    bad = job_id_from(upload_facilities(client, facility_csv([facility_row(country_code="XX")]), "bad.csv"))
    run_worker(app)
    with app.app_context():
        notices = db.session.scalars(
            select(Notification).where(Notification.user_id == coordinator.id).order_by(Notification.id)
        ).all()
        assert [n.kind for n in notices] == [NotificationKind.import_finished] * 2
        with force_locale("en"):
            lines = [render.line(n) for n in notices]
        paths = [render.target_path(n) for n in notices]
    assert lines == [
        "The file good.csv was imported",
        "The import of bad.csv failed: nothing was saved.",
    ]
    assert paths == [f"/imports/jobs/{good}", f"/imports/jobs/{bad}"]
