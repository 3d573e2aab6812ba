"""Helpers for the background-job tests: upload, run the worker, read the job."""

from __future__ import annotations

import io
from typing import Any

from flask import Flask

from monitoring.core.db import db
from monitoring.core.jobs import Job
from tests.conftest import post_form


def upload_facilities(client: Any, data: bytes, filename: str = "facilities.csv") -> Any:
    """Upload a facility list and confirm the columns proposed: the answer sends to the job."""
    from tests.supplychain.test_import_mapping import confirm

    url = "/imports/facilities"
    uploaded = post_form(
        client,
        url,
        {"file": (io.BytesIO(data), filename)},
        form_page=url,
        content_type="multipart/form-data",
    )
    if uploaded.status_code != 302:
        return uploaded
    return confirm(client, uploaded.headers["Location"])


def run_worker(app: Flask) -> str:
    """``flask jobs worker --once``; return its output."""
    result = app.test_cli_runner().invoke(args=["jobs", "worker", "--once"])
    assert result.exit_code == 0, result.output
    return result.output


def job_of(app: Flask, job_id: int) -> Job:
    with app.app_context():
        job = db.session.get(Job, job_id)
        assert job is not None
        db.session.expunge(job)
        return job


def job_id_from(response: Any) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])
