"""The job queue itself: held jobs wait for their release, protected uploads are stored
encrypted and read back decrypted, cancelled and finished jobs shred their upload."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import timedelta
from typing import IO, Any

import pytest
from sqlalchemy import update

from monitoring.core import jobs
from monitoring.core.db import db
from monitoring.core.jobs import Job, JobState
from monitoring.core.storage import file_store
from monitoring.core.types import utcnow

KIND = "test_echo"
SECRET = b"line one: the supervisor hit me\n" * 5000  # several encryption chunks


class EchoRun:
    """Reads the upload whole; its summary says what it read and with which params."""

    seen: bytes = b""

    def __init__(self, job: Job) -> None:
        self.job = job

    def stage(self, stream: IO[bytes]) -> Iterator[int]:
        EchoRun.seen = stream.read()
        yield len(EchoRun.seen)

    def apply(self) -> dict[str, Any]:
        return {"length": len(EchoRun.seen), "params": self.job.arguments}


@pytest.fixture(autouse=True)
def _echo_kind() -> Iterator[None]:
    jobs.register(KIND, EchoRun)
    EchoRun.seen = b""
    yield
    jobs._handlers.pop(KIND, None)


def _raw(key: str) -> bytes:
    with file_store().open(key) as fh:
        return fh.read()


def _enqueue(user: Any, **kwargs: Any) -> Job:
    return jobs.enqueue(KIND, user.id, user.organisation_id, io.BytesIO(SECRET), filename="f.csv", **kwargs)


def test_a_protected_upload_is_ciphertext_and_read_back_in_clear(app, monitor):
    with app.app_context():
        job = _enqueue(monitor, protect=True)
        db.session.commit()
        key = job.storage_key
        assert key and job.file_key_ct is not None and job.size == len(SECRET)
        raw = _raw(key)
        assert b"supervisor" not in raw and len(raw) > len(SECRET)
        with jobs.open_upload(job) as stream:
            assert stream.read() == SECRET
        outcomes = jobs.work_once()
        assert [(o.job_id, o.state) for o in outcomes] == [(job.id, JobState.done)]
        job = db.session.get(Job, job.id, populate_existing=True)
        assert (job.storage_key, job.file_key_ct, job.summary["length"]) == (None, None, len(SECRET))
        assert EchoRun.seen == SECRET
        with pytest.raises(FileNotFoundError):
            _raw(key)


def test_a_plain_upload_is_stored_as_it_is(app, monitor):
    with app.app_context():
        job = _enqueue(monitor)
        assert job.file_key_ct is None and job.storage_key
        assert _raw(job.storage_key) == SECRET
        with jobs.open_upload(job) as stream:
            assert stream.read() == SECRET


def test_a_held_job_waits_until_released_with_its_params(app, monitor):
    with app.app_context():
        job = _enqueue(monitor, hold=True, params={"a": 1})
        db.session.commit()
        assert job.state == JobState.waiting
        assert JobState.waiting.title == "Columns to confirm"
        assert jobs.work_once() == []
        jobs.release(job, {"mapping": {"x": "y"}})
        db.session.commit()
        assert job.state == JobState.queued
        with pytest.raises(ValueError):
            jobs.release(job, {})
        assert [o.state for o in jobs.work_once()] == [JobState.done]
        job = db.session.get(Job, job.id, populate_existing=True)
        assert job.summary["params"] == {"a": 1, "mapping": {"x": "y"}}


@pytest.mark.parametrize("hold", [True, False])
def test_cancel_fails_the_job_and_shreds_its_upload(app, monitor, hold):
    with app.app_context():
        job = _enqueue(monitor, hold=hold, protect=True)
        key = job.storage_key
        jobs.cancel(job)
        db.session.commit()
        assert (job.state, job.storage_key, job.file_key_ct) == (JobState.failed, None, None)
        assert job.failure()["message"] == "The import was cancelled. Nothing was saved."
        with pytest.raises(FileNotFoundError):
            _raw(key or "")
        with pytest.raises(ValueError):
            jobs.cancel(job)
        assert jobs.work_once() == []


def test_a_job_held_too_long_is_cancelled_by_the_worker(app, monitor, monkeypatch):
    monkeypatch.setitem(app.config, "JOB_WAITING_HOURS", 2)
    with app.app_context():
        old = _enqueue(monitor, hold=True, protect=True)
        fresh = _enqueue(monitor, hold=True)
        db.session.execute(
            update(Job).where(Job.id == old.id).values(created_dt=utcnow() - timedelta(hours=3))
        )
        db.session.commit()
        assert jobs.work_once() == []
        old = db.session.get(Job, old.id, populate_existing=True)
        fresh = db.session.get(Job, fresh.id, populate_existing=True)
        assert (old.state, old.storage_key, old.file_key_ct) == (JobState.failed, None, None)
        assert fresh.state == JobState.waiting and fresh.storage_key


def test_a_cancellation_rolled_back_keeps_the_job_waiting_with_its_file(app, monitor):
    with app.app_context():
        job = _enqueue(monitor, hold=True, protect=True)
        db.session.commit()
        job_id, key = job.id, job.storage_key or ""
        jobs.cancel(job)
        assert _raw(key)  # not before the commit
        db.session.rollback()
        job = db.session.get(Job, job_id, populate_existing=True)
        assert (job.state, job.storage_key) == (JobState.waiting, key) and job.file_key_ct is not None
        with jobs.open_upload(job) as stream:
            assert stream.read() == SECRET
        db.session.commit()  # a later commit does not delete it either
        assert _raw(key)


def test_a_cancellation_in_a_savepoint_rolled_back_keeps_the_file_at_the_commit(app, monitor):
    from monitoring.core.operations import OperationError
    from monitoring.core.transactions import attempt

    def cancel_then_refuse(job: Job) -> None:
        jobs.cancel(job)
        raise OperationError("refused after the cancel")

    with app.app_context():
        refused, cancelled = _enqueue(monitor, hold=True), _enqueue(monitor, hold=True)
        db.session.commit()
        cancelled_key = cancelled.storage_key or ""
        with pytest.raises(OperationError):
            attempt(cancel_then_refuse, refused)
        attempt(jobs.cancel, cancelled)
        db.session.commit()
        refused = db.session.get(Job, refused.id, populate_existing=True)
        assert refused.state == JobState.waiting and _raw(refused.storage_key or "") == SECRET
        assert cancelled.state == JobState.failed
        with pytest.raises(FileNotFoundError):
            _raw(cancelled_key)


def test_a_cancelled_upload_is_deleted_only_when_the_request_commits(app, monitor, monkeypatch):
    from monitoring.core import storage
    from monitoring.core.transactions import one_transaction

    deleted: list[str] = []
    real_delete = storage.DirectoryStore.delete
    monkeypatch.setattr(
        storage.DirectoryStore, "delete", lambda self, name: (deleted.append(name), real_delete(self, name))
    )

    @one_transaction
    def cancel_and_answer(job_id: int, status: int) -> tuple[str, int]:
        jobs.cancel(db.session.get(Job, job_id))
        assert deleted == []
        return "", status

    with app.test_request_context("/", method="POST"):
        first, second = _enqueue(monitor), _enqueue(monitor)
        db.session.commit()
        keys = {first.id: first.storage_key, second.id: second.storage_key}
        cancel_and_answer(first.id, 422)
        assert deleted == [] and db.session.get(Job, first.id).state == JobState.queued
        cancel_and_answer(second.id, 200)
        assert deleted == [keys[second.id]] and db.session.get(Job, second.id).state == JobState.failed
        assert _raw(keys[first.id] or "") == SECRET
