"""Survey imports run by a background job (:mod:`monitoring.core.jobs`).

The request checks the header row only and stores the upload *protected* (encrypted under a
key of its own that the keyring protects: testimony never lies on disk in clear), then queues a
``survey_import`` job. The worker checks the rows in batches of ``IMPORT_BATCH_ROWS`` (each a
transaction recording the progress); it stages nothing of a row but its line number (the
checked rows stay in the worker's memory), and then seals every row as a report in one
transaction (:func:`survey.import_rows`, which seals and inserts in bulk: a few seconds for
5,000 rows): the whole file or, if any row has a problem, nothing.
A worker that dies leaves no report; the next one checks the file again from the start.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any, cast

from flask import current_app
from sqlalchemy import Select, select

from monitoring.accounts.models import Organisation, User
from monitoring.core import jobs
from monitoring.core.db import db
from monitoring.core.operations import OperationError
from monitoring.supplychain.models import Site
from monitoring.testimony import survey, survey_mapping
from monitoring.testimony.survey_format import SurveyRefused
from monitoring.testimony.survey_reader import (
    SurveyCheck,
    check_header,
    default_language_of,
    header_columns,
)

SURVEY_IMPORT = "survey_import"
# The start of the upload read in the request to check its header row.
HEAD_BYTES = 64 * 1024


class _Prepended:
    """The bytes already read, then the rest of the stream."""

    def __init__(self, head: bytes, rest: IO[bytes]) -> None:
        self.head, self.rest = head, rest

    def read(self, size: int = -1) -> bytes:
        if not self.head:
            return self.rest.read(size)
        if size < 0:
            data, self.head = self.head + self.rest.read(), b""
            return data
        data, self.head = self.head[:size], self.head[size:]
        return data


def queue_survey_import(
    actor: User,
    organisation: Organisation,
    stream: IO[bytes],
    filename: str,
    *,
    site: Site | None = None,
    default_language: str = "en",
    confirm_columns: bool = False,
) -> jobs.Job:
    """Check the header row, store the file protected and queue its import; flush.

    With ``confirm_columns`` a file whose columns are not all read by name (a renamed question,
    a column nothing reads) is held instead, for the monitor to confirm its columns
    (:mod:`.survey_mapping`). Raises :class:`SurveyRefused` for a bad header or language,
    ``OperationError`` when the actor may not import for the organisation or it has no key.
    """
    survey.check_can_import(actor, organisation)
    language = default_language_of(default_language)
    head = stream.read(HEAD_BYTES)
    params: dict[str, Any] = {"site_id": site.id if site is not None else None, "language": language}
    hold = False
    if confirm_columns:
        columns = header_columns(head)
        mapping, saved = survey_mapping.proposal(organisation.id, columns)
        hold = survey_mapping.needs_confirmation(columns, mapping)
        if hold:
            params.update(columns=columns, proposed=mapping, saved=saved)
    if not hold:
        check_header(head)
    return jobs.enqueue(
        SURVEY_IMPORT,
        actor.id,
        organisation.id,
        cast(IO[bytes], _Prepended(head, stream)),
        filename=filename,
        params=params,
        protect=True,
        hold=hold,
    )


def visible_survey_jobs(user: User) -> Select[jobs.Job]:
    """The survey import jobs the user may follow: their own, for their organisation."""
    return select(jobs.Job).where(
        jobs.Job.kind == SURVEY_IMPORT,
        jobs.Job.owner_id == user.id,
        jobs.Job.organisation_id == user.organisation_id,
    )


def refused(exc: SurveyRefused) -> jobs.JobRefused:
    problems = [jobs.stored_problem(e.line or 0, e.column or None, e.source or e.message) for e in exc.errors]
    return jobs.JobRefused(problems, len(exc.errors) + exc.more)


def _batch_rows() -> int:
    return max(int(current_app.config.get("IMPORT_BATCH_ROWS") or 1000), 1)


class SurveyImportRun:
    """One run of a survey import job: rows checked in batches, sealed in one transaction."""

    def __init__(self, job: jobs.Job) -> None:
        self.job = job
        self.checked: SurveyCheck | None = None

    @property
    def problems(self) -> int:
        return self.checked.problem_count if self.checked is not None else 0

    def _site(self) -> Site | None:
        site_id = self.job.arguments.get("site_id")
        return db.session.get(Site, site_id) if site_id is not None else None

    def stage(self, stream: IO[bytes]) -> Iterator[int]:
        data = stream.read()
        try:
            self.checked = checked = SurveyCheck(
                data,
                site=self._site(),
                default_language=self.job.arguments.get("language", "en"),
                mapping=self.job.arguments.get("mapping"),
            )
            for rows in checked.check(_batch_rows()):
                # Only line numbers are staged: the answers stay in this worker's memory.
                jobs.add_rows(self.job, [(row.line, {}) for row in rows])
                yield len(data) * checked.checked // max(checked.total, 1)
        except SurveyRefused as exc:
            raise refused(exc) from None
        yield len(data)

    def apply(self) -> dict[str, Any]:
        owner = db.session.get(User, self.job.owner_id)
        organisation = db.session.get(Organisation, self.job.organisation_id)
        if owner is None or organisation is None or self.checked is None:
            raise jobs.JobRefused([jobs.stored_problem(0, None, survey.CANNOT_IMPORT)], 1)
        try:
            imported = survey.import_rows(owner, organisation, self.checked.rows, site=self._site())
        except OperationError as exc:
            raise jobs.JobRefused([jobs.stored_problem(0, None, exc.message)], 1) from None
        return {"survey_import_id": imported.id, "rows": imported.rows, "skipped": imported.skipped}


jobs.register(SURVEY_IMPORT, SurveyImportRun)
