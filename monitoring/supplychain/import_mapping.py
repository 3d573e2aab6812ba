"""The column-mapping step of a facility import: the file's columns matched to the fields it fills.

An uploaded facility list waits (a held job) until a coordinator confirms which column holds which
field. The proposal comes from the organisation's saved mapping whose columns are all in the file,
or else from the columns' names, other names and sample values
(:func:`monitoring.core.column_mapping.propose`). Columns no field takes are listed before anything
is imported; a required field without a column stops the import from being queued. The confirmed
mapping goes with the job, and the worker reads each field from its column
(:func:`read_mapped_header`) instead of from the header's own names.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l
from marshmallow import fields as ma_fields
from marshmallow import validate

from monitoring.accounts.models import User
from monitoring.core import audit, jobs
from monitoring.core import column_mapping as cm
from monitoring.core.column_mapping import TargetField
from monitoring.core.jobs import Job, JobState
from monitoring.core.operations import OperationError
from monitoring.core.schemas import BaseSchema, Integer
from monitoring.supplychain.import_reading import ErrorLog, Header, Progress, RowError
from monitoring.supplychain.import_workbook import open_table
from monitoring.supplychain.matching import OS_ID_PATTERN, country_from_text, workers_from_text
from monitoring.supplychain.permissions import can_import_facilities

logger = logging.getLogger(__name__)

FACILITY_MAPPING = "facilities"
# How many rows of the file give the sample values shown and matched.
PREVIEW_ROWS = 20
SAMPLES_SHOWN = 2


def _is_country(value: str) -> bool:
    return country_from_text(value) is not None


def _is_worker_range(value: str) -> bool:
    """A range or bound such as 1001-5000 or "Less than 1000" (a bare number could be anything)."""
    if value.strip().isdigit():
        return False
    try:
        return workers_from_text(value) is not None
    except ValueError:
        return False


def _is_os_id(value: str) -> bool:
    return bool(OS_ID_PATTERN.match(value.strip().upper()))


FACILITY_FIELDS: tuple[TargetField, ...] = (
    TargetField(
        "name",
        _l("Name"),
        required=True,
        synonyms=("facility_name", "name_of_facility", "supplier_name", "factory_name", "facility"),
    ),
    TargetField(
        "address",
        _l("Address"),
        required=True,
        synonyms=("facility_address", "full_address", "street_address"),
    ),
    TargetField(
        "country_code",
        _l("Country"),
        required=True,
        synonyms=("country", "country_name", "iso_country_code", "country_iso"),
        looks_like=_is_country,
    ),
    TargetField("os_id", _l("Open Supply Hub ID"), synonyms=("os_hub_id", "oar_id"), looks_like=_is_os_id),
    TargetField("city", _l("City"), synonyms=("town",)),
    TargetField("alternative_names", _l("Other names"), synonyms=("other_names",)),
    TargetField("lat", _l("Latitude"), synonyms=("latitude",)),
    TargetField("lng", _l("Longitude"), synonyms=("longitude", "lon", "long")),
    TargetField(
        "number_of_workers",
        _l("Number of workers"),
        synonyms=("workers", "number_workers", "worker_count", "employees"),
        looks_like=_is_worker_range,
    ),
    TargetField("facility_type", _l("Facility type"), synonyms=("type_of_facility",)),
    TargetField("processing_type", _l("Processing type"), synonyms=("type_of_processing",)),
    TargetField("processing_type_facility_type_raw", _l("Processing or facility type as given")),
    TargetField("is_closed", _l("Closed"), synonyms=("closed",)),
    TargetField("contribution_date", _l("Contribution date")),
)


class MappingRefused(Exception):
    """The mapping cannot be used: ``errors`` are (field key or None, message) pairs."""

    def __init__(self, errors: list[tuple[str | None, Any]]) -> None:
        super().__init__(f"{len(errors)} problems with the mapping")
        self.errors = errors

    @property
    def messages(self) -> list[str]:
        return [str(message) for _key, message in self.errors]


# --- the file's columns and samples --------------------------------------------------------


@dataclass
class FilePreview:
    """The header and the first rows' values of an uploaded file."""

    columns: list[str]
    samples: dict[str, list[str]]
    problems: list[RowError] = field(default_factory=list)
    # Columns without a name in the header that hold values (1-based): they cannot be imported.
    nameless: list[int] = field(default_factory=list)


def _column_names(cells: list[str]) -> list[str]:
    return [cell.replace("\ufeff", "").strip() for cell in cells]


def preview(job: Job, rows: int = PREVIEW_ROWS) -> FilePreview:
    """Read the job's file as far as its header and first ``rows`` rows."""
    errors = ErrorLog()
    with jobs.open_upload(job) as stream:
        records: Iterator[tuple[int, list[str]]] = open_table(stream, errors, Progress()).records()
        try:
            first = next(records, None)
            cells = _column_names(first[1]) if first else []
            body = [record for _index, (_line, record) in zip(range(rows), records, strict=False)]
        finally:
            close = getattr(records, "close", None)
            if close is not None:
                close()
    if first is None and not errors.total:
        errors.add(1, None, _l("The file is empty."))
    columns = [cell for cell in dict.fromkeys(cells) if cell]
    index = {column: cells.index(column) for column in columns}
    samples = cm.sample_values(
        columns, ([r[index[c]] if index[c] < len(r) else "" for c in columns] for r in body)
    )
    nameless = [
        i + 1 for i, cell in enumerate(cells) if not cell and any(i < len(r) and r[i].strip() for r in body)
    ]
    return FilePreview(columns, samples, errors.errors if errors.total else [], nameless)


# --- the proposal ------------------------------------------------------------------------


@dataclass
class MappingProposal:
    """What the mapping page and the API show: the file's columns against the fields."""

    fields: tuple[TargetField, ...]
    columns: list[str]
    samples: dict[str, list[str]]
    mapping: dict[str, str | None]
    unmapped: list[str]
    missing: list[TargetField]
    exact: bool
    saved: list[cm.SavedMapping]
    used: cm.SavedMapping | None
    problems: list[RowError]
    nameless: list[int]

    def shown_samples(self, column: str | None) -> list[str]:
        return self.samples.get(column or "", [])[:SAMPLES_SHOWN]

    def as_dict(self) -> dict[str, Any]:
        """The proposal as the API answers it."""
        return {
            "targets": [
                {
                    "key": f.key,
                    "label": str(f.label),
                    "required": f.required,
                    "column": self.mapping.get(f.key),
                }
                for f in self.fields
            ],
            "columns": [{"name": c, "samples": self.shown_samples(c)} for c in self.columns],
            "mapping": self.mapping,
            "unmapped_columns": self.unmapped,
            "missing_fields": [f.key for f in self.missing],
            "exact": self.exact,
            "saved_mappings": [{"id": s.id, "name": s.name} for s in self.saved],
            "saved_mapping_id": self.used.id if self.used else None,
            "problems": [e.as_dict() for e in self.problems],
            "nameless_columns": self.nameless,
        }


def propose_mapping(
    user: User, job: Job, *, mapping: Mapping[str, Any] | None = None, saved_id: int | None = None
) -> MappingProposal:
    """The proposal for a held facility import: ``mapping`` as the user left it, or the saved
    mapping chosen, or the best saved one that fits, or one matched by names and values."""
    found = preview(job)
    columns = found.columns
    saved = cm.saved_mappings(user.organisation_id, FACILITY_MAPPING)
    used: cm.SavedMapping | None = None
    if mapping is not None:
        proposed = cm.clean_mapping(FACILITY_FIELDS, columns, mapping)
    else:
        if saved_id is not None:
            used = next((s for s in saved if s.id == saved_id), None)
        used = used or cm.best_saved(user.organisation_id, FACILITY_MAPPING, columns)
        if used is not None:
            proposed = cm.clean_mapping(FACILITY_FIELDS, columns, used.for_columns(columns))
        else:
            proposed = cm.propose(FACILITY_FIELDS, columns, found.samples)
    return MappingProposal(
        fields=FACILITY_FIELDS,
        columns=columns,
        samples=found.samples,
        mapping=proposed,
        unmapped=cm.unmapped_columns(columns, proposed),
        missing=cm.missing_required(FACILITY_FIELDS, proposed),
        exact=used is None and mapping is None and cm.is_exact(FACILITY_FIELDS, columns, proposed),
        saved=saved,
        used=used,
        problems=found.problems,
        nameless=found.nameless,
    )


# --- confirming --------------------------------------------------------------------------


def _held(user: User, job: Job) -> None:
    if not can_import_facilities(user):
        raise OperationError(_l("Only coordinators can import facility lists."))
    if job.state != JobState.waiting:
        raise OperationError(_l("This import is no longer waiting for its columns to be confirmed."))


def check_mapping(columns: list[str], mapping: Mapping[str, Any]) -> dict[str, str | None]:
    """The mapping of every field to a column of the file; raise :class:`MappingRefused`."""
    errors: list[tuple[str | None, Any]] = []
    known = {f.key for f in FACILITY_FIELDS}
    for key in mapping:
        if key not in known:
            errors.append((None, _l("%(field)s is not a field of a facility list.", field=str(key)[:60])))
    result: dict[str, str | None] = {}
    chosen: dict[str, str] = {}
    for target in FACILITY_FIELDS:
        column = mapping.get(target.key) or None
        if column is not None and column not in columns:
            errors.append(
                (target.key, _l("%(column)s is not a column of the file.", column=str(column)[:80]))
            )
            column = None
        elif column is not None and column in chosen:
            errors.append(
                (
                    target.key,
                    _l(
                        "The column %(column)s is already chosen for %(field)s.",
                        column=column,
                        field=chosen[column],
                    ),
                )
            )
        elif column is not None:
            chosen[column] = str(target.label)
        result[target.key] = column
    for target in cm.missing_required(FACILITY_FIELDS, result):
        if not any(key == target.key for key, _message in errors):
            errors.append(
                (
                    target.key,
                    _l("Choose the column that holds %(field)s: it is required.", field=target.label),
                )
            )
    if errors:
        raise MappingRefused(errors)
    return result


def confirm_mapping(user: User, job: Job, mapping: Mapping[str, Any], save_as: str | None = None) -> Job:
    """Queue a held facility import with its columns confirmed, saving the mapping if named;
    flush and audit. Raises :class:`MappingRefused` (nothing is queued) or ``OperationError``."""
    _held(user, job)
    found = preview(job)
    if found.problems:
        raise MappingRefused([(None, e.message) for e in found.problems])
    confirmed = check_mapping(found.columns, mapping)
    unmapped = cm.unmapped_columns(found.columns, confirmed)
    name = " ".join((save_as or "").split())
    if name:
        saved = cm.save_mapping(user.id, user.organisation_id, FACILITY_MAPPING, name, confirmed)
        audit.record(
            "import.mapping_saved",
            f"Saved the column mapping {name!r} for facility lists",
            actor=user,
            object_type="saved_mapping",
            object_id=saved.id,
            data={"mapping": saved.fields},
        )
    jobs.release(job, {"mapping": confirmed})
    audit.record(
        "import.columns_confirmed",
        f"Confirmed the columns of the facility list {job.filename!r} ({len(unmapped)} columns not imported)",
        actor=user,
        object_type="job",
        object_id=job.id,
        data={"mapping": {k: v for k, v in confirmed.items() if v}, "unmapped": unmapped},
    )
    logger.info("job %s: columns confirmed by user %s", job.id, user.id)
    return job


def cancel_import(user: User, job: Job) -> None:
    """Drop a held facility import and its upload; flush and audit."""
    _held(user, job)
    jobs.cancel(job)
    audit.record(
        "import.cancelled",
        f"Cancelled the import of the facility list {job.filename!r} before it was queued",
        actor=user,
        object_type="job",
        object_id=job.id,
    )


# --- the worker's header ------------------------------------------------------------------


def read_mapped_header(
    records: Iterator[tuple[int, list[str]]], errors: ErrorLog, mapping: Mapping[str, str | None]
) -> Header | None:
    """The header record read through a confirmed mapping: each field at its column's place."""
    first = next(records, None)
    if first is None:
        if not errors.total:
            errors.add(1, None, _l("The file is empty."))
        return None
    line, cells = first
    names = _column_names(cells)
    columns: dict[str, int] = {}
    for key, column in mapping.items():
        if not column:
            continue
        if names.count(column) > 1:
            errors.add(line, column, _l("The column %(column)s appears twice.", column=column))
        elif column not in names:
            errors.add(line, key, _l("The column %(column)s is not in the file.", column=column))
        else:
            columns[key] = names.index(column)
    for target in cm.missing_required(FACILITY_FIELDS, mapping):
        errors.add(line, target.key, _l("The required column %(column)s is missing.", column=target.key))
    if errors.total:
        return None
    return Header(columns, len(cells))


# --- input schemas (page and API) ---------------------------------------------------------


class ConfirmFacilityColumnsArgs(BaseSchema):
    mapping = ma_fields.Dict(
        keys=ma_fields.String(validate=validate.Length(max=60)),
        values=ma_fields.String(allow_none=True, validate=validate.Length(max=2000)),
        required=True,
        metadata={"description": _l("Field key -> the file's column that holds it (null: not in the file).")},
    )
    save_as = ma_fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=120),
        metadata={"description": _l("Save the mapping under this name for the next file of the same form.")},
    )


class FacilityColumnsArgs(BaseSchema):
    saved_mapping_id = Integer(
        load_default=None,
        allow_none=True,
        metadata={"description": _l("Propose this saved mapping instead of the best fitting one.")},
    )


class FacilityMappingFieldSchema(BaseSchema):
    key = ma_fields.String(dump_only=True)
    label = ma_fields.String(dump_only=True)
    required = ma_fields.Boolean(dump_only=True)
    column = ma_fields.String(dump_only=True, allow_none=True)


class FacilityFileColumnSchema(BaseSchema):
    name = ma_fields.String(dump_only=True)
    samples = ma_fields.List(ma_fields.String(), dump_only=True)


class FacilitySavedMappingSchema(BaseSchema):
    id = Integer(dump_only=True)
    name = ma_fields.String(dump_only=True)


class FacilityMappingProblemSchema(BaseSchema):
    line = Integer(dump_only=True)
    column = ma_fields.String(dump_only=True, allow_none=True)
    message = ma_fields.String(dump_only=True)


class FacilityColumnMappingSchema(BaseSchema):
    """A held import's file columns against the fields, with the proposed mapping."""

    job_id = Integer(dump_only=True)
    state = ma_fields.String(dump_only=True)
    targets = ma_fields.List(
        ma_fields.Nested(FacilityMappingFieldSchema),
        dump_only=True,
        metadata={"description": _l("The fields of a facility list, each with the column proposed for it.")},
    )
    columns = ma_fields.List(ma_fields.Nested(FacilityFileColumnSchema), dump_only=True)
    mapping = ma_fields.Dict(dump_only=True)
    unmapped_columns = ma_fields.List(ma_fields.String(), dump_only=True)
    missing_fields = ma_fields.List(ma_fields.String(), dump_only=True)
    exact = ma_fields.Boolean(dump_only=True)
    saved_mappings = ma_fields.List(ma_fields.Nested(FacilitySavedMappingSchema), dump_only=True)
    saved_mapping_id = Integer(dump_only=True, allow_none=True)
    problems = ma_fields.List(ma_fields.Nested(FacilityMappingProblemSchema), dump_only=True)
    nameless_columns = ma_fields.List(
        Integer(),
        dump_only=True,
        metadata={"description": _l("Columns (counted from 1) without a name that hold values: not read.")},
    )
