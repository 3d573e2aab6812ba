"""Facility lists imported by a background job (:mod:`monitoring.core.jobs`).

The upload is stored as it is (a facility list is public data) and queued. The worker checks
the file in batches of ``IMPORT_BATCH_ROWS`` rows (1,000 by default), staging each checked row
in ``job_row`` (a transaction per batch, with the job's progress); then it copies the staged
rows into the import's temporary table and applies them exactly as a direct import does, in one
transaction: the whole file or, if any row has a problem, nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict
from typing import IO, Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import insert

from monitoring.accounts.models import User
from monitoring.core import jobs
from monitoring.core.db import db
from monitoring.core.operations import OperationError
from monitoring.supplychain.import_facilities import (
    FACILITY_REQUIRED,
    _stage_facility,
    apply_checked,
    audit_import,
)
from monitoring.supplychain.import_mapping import read_mapped_header
from monitoring.supplychain.import_reading import (
    ErrorLog,
    FacilityImportResult,
    Header,
    ImportRefused,
    Progress,
    RowReader,
    _check_width,
    read_header,
)
from monitoring.supplychain.import_staging import facility_stage, staging_table
from monitoring.supplychain.import_workbook import open_table
from monitoring.supplychain.permissions import can_import_facilities

FACILITY_IMPORT = "facility_import"


class _BytesRead(Progress):
    def __init__(self) -> None:
        self.bytes = 0

    def read(self, nbytes: int) -> None:
        self.bytes += nbytes


def batch_rows() -> int:
    """Rows per batch, checked and applied: the ``IMPORT_BATCH_ROWS`` setting (at least 1)."""
    return max(int(current_app.config["IMPORT_BATCH_ROWS"]), 1)


def queue_facility_import(user: User, stream: IO[bytes], filename: str, *, hold: bool = False) -> jobs.Job:
    """Store the file and queue its import; flush.

    ``hold``: the job waits until its columns are confirmed (:mod:`~.import_mapping`).
    """
    if not can_import_facilities(user):
        raise OperationError(_l("Only coordinators can import facility lists."))
    return jobs.enqueue(FACILITY_IMPORT, user.id, user.organisation_id, stream, filename=filename, hold=hold)


def _refused(exc: ImportRefused) -> jobs.JobRefused:
    return jobs.JobRefused([jobs.stored_problem(e.line, e.column, e.message) for e in exc.errors], exc.total)


class FacilityImportRun:
    """One run of a facility import job."""

    def __init__(self, job: jobs.Job) -> None:
        self.job = job
        self.errors = ErrorLog()
        self.header: Header | None = None
        self.stopped = False
        self.staged = 0

    @property
    def problems(self) -> int:
        return self.errors.total

    def _stage(self, rows: list[tuple[int, dict[str, Any]]]) -> None:
        jobs.add_rows(self.job, rows)
        self.staged += len(rows)

    def stage(self, stream: IO[bytes]) -> Iterator[int]:
        progress = _BytesRead()
        source = open_table(stream, self.errors, progress, size=self.job.size)
        records = source.records()
        mapping = self.job.arguments.get("mapping")
        if mapping is not None:
            self.header = header = read_mapped_header(records, self.errors, mapping)
        else:
            self.header = header = read_header(records, self.errors, FACILITY_REQUIRED)
        if header is None:
            return
        size = batch_rows()
        pending: list[tuple[int, dict[str, Any]]] = []
        for line, record in records:
            if not _check_width(header, line, record, self.errors):
                continue
            pending.append((line, _stage_facility(RowReader(header, line, record, self.errors))))
            if len(pending) >= size:
                self._stage(pending)
                pending = []
                yield progress.bytes
        self._stage(pending)
        self.stopped = source.stopped
        if not self.errors.total and not self.staged and not source.stopped:
            self.errors.add(1, None, _l("The file has a header but no rows."))
        yield progress.bytes

    def apply(self) -> dict[str, Any]:
        owner = db.session.get(User, self.job.owner_id)
        if owner is None or not can_import_facilities(owner):
            raise OperationError(_l("Only coordinators can import facility lists."))
        if self.header is None:
            raise _refused(self.errors.refuse())
        result = FacilityImportResult()
        columns = [c.name for c in facility_stage.columns if not c.name.startswith("repeats")]
        try:
            with staging_table(facility_stage) as connection:
                for batch in jobs.staged_rows(self.job, batch_rows()):
                    connection.execute(
                        insert(facility_stage),
                        [{name: values.get(name) for name in columns} for _, values in batch],
                    )
                apply_checked(connection, self.staged, self.errors, Progress(), result, stopped=self.stopped)
        except ImportRefused as exc:
            raise _refused(exc) from None
        audit_import(owner, self.job.filename, result)
        return asdict(result)


jobs.register(FACILITY_IMPORT, FacilityImportRun)
