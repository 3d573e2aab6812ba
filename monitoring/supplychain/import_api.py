"""JSON API for imports and likely duplicate sites.

The import routes take a file: they are declared with ``raw_body=True`` and read a
``multipart/form-data`` body (form fields and files) with :func:`parse_upload`, through an
``<Action>Args`` schema with a :class:`FileUpload` field that the OpenAPI document describes.
A refused file answers 422 with one entry per problem in ``error.errors``, keyed
``"<line>.<column>"`` (``"<line>"`` when the problem is about the whole line).
"""

from __future__ import annotations

import logging
from typing import Any

from flask import request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import Schema
from werkzeug.datastructures import FileStorage

from monitoring.accounts.models import User
from monitoring.core.api import paginate, parse_args, route
from monitoring.core.auth import authenticated, roles
from monitoring.core.column_mapping import SavedMapping
from monitoring.core.db import db
from monitoring.core.errors import ApiError
from monitoring.core.jobs import Job, JobState
from monitoring.core.pagination import Page
from monitoring.core.roles import UserRole
from monitoring.supplychain import duplicates, import_mapping, imports, mapping_admin, services
from monitoring.supplychain.import_jobs import FACILITY_IMPORT, queue_facility_import
from monitoring.supplychain.models import Site, SiteDuplicate
from monitoring.supplychain.permissions import (
    DISCLOSURE_IMPORT_ROLES,
    READER_ROLES,
    can_import_facilities,
    can_review_duplicates,
    reviewable_sites,
    visible_duplicates,
    visible_jobs,
    visible_saved_mappings,
)
from monitoring.supplychain.schemas import (
    MULTIPART,
    DisclosureImportResultSchema,
    FacilityImportResultSchema,
    ImportDisclosuresArgs,
    ImportFacilitiesArgs,
    JobSchema,
    ListSiteDuplicatesArgs,
    MergeSiteDuplicateArgs,
    ProposeSiteDuplicateArgs,
    ReviewSiteDuplicatesArgs,
    SiteDuplicateReviewSchema,
    SiteDuplicateSchema,
)

logger = logging.getLogger(__name__)


def parse_upload(schema: type[Schema]) -> dict[str, Any]:
    """Load a ``multipart/form-data`` body (form fields and files) through ``schema``."""
    if request.mimetype != MULTIPART:
        message = _("Send the file as multipart/form-data.")
        raise ApiError(400, message, {"file": [message]})
    return parse_args(schema, {**request.form.to_dict(flat=True), **request.files.to_dict(flat=True)})


def refusal(exc: imports.ImportRefused) -> ApiError:
    """A refused file as a 422: the problems keyed by line and column, in the user's language."""
    errors: dict[str, list[str]] = {}
    for error in exc.errors:
        key = f"{error.line}.{error.column}" if error.column else str(error.line)
        errors.setdefault(key, []).append(str(error.message))
    return ApiError(422, exc.message, errors)


def _unprocessable(field: str, message: str) -> ApiError:
    return ApiError(422, message, {field: [message]})


# --- imports ------------------------------------------------------------------------------------


@route(
    "/imports/facilities",
    method="POST",
    summary=_l("Import a facility list"),
    description=_l(
        "Adds and updates sites from a CSV file in Open Supply Hub's layout, whole or not at all. "
        "Sites are matched by Open Supply Hub id, then by name, address and country; likely "
        "duplicates are proposed to coordinators, never merged. A refused file answers 422 with "
        "the problems keyed by line and column; nothing is saved."
    ),
    args=ImportFacilitiesArgs,
    response=FacilityImportResultSchema,
    raw_body=True,
)
@roles(UserRole.coordinator)
def import_facilities() -> imports.FacilityImportResult:
    upload: FileStorage = parse_upload(ImportFacilitiesArgs)["file"]
    actor = services.current()
    services.require(can_import_facilities(actor))
    try:
        return imports.import_facilities(actor, upload.stream, filename=upload.filename or "")
    except imports.ImportRefused as exc:
        raise refusal(exc) from exc


@route(
    "/imports/facilities/jobs",
    method="POST",
    summary=_l("Upload a facility list for the column-mapping step"),
    description=_l(
        "Stores a facility list (CSV or XLSX) as an import job that waits for its columns to be "
        "confirmed, and answers the proposed mapping: the file's columns with sample values, the field "
        "each is matched to, the columns no field takes and the required fields without a column. "
        "Confirm it with POST /jobs/{job_id}/columns; nothing is imported before."
    ),
    args=ImportFacilitiesArgs,
    response=import_mapping.FacilityColumnMappingSchema,
    status=201,
    raw_body=True,
)
@roles(UserRole.coordinator)
def upload_facilities() -> dict[str, Any]:
    upload: FileStorage = parse_upload(ImportFacilitiesArgs)["file"]
    actor = services.current()
    services.require(can_import_facilities(actor))
    job = queue_facility_import(actor, upload.stream, upload.filename or "", hold=True)
    return _proposal(actor, job, None)


def _proposal(actor: User, job: Job, saved_id: int | None) -> dict[str, Any]:
    proposal = import_mapping.propose_mapping(actor, job, saved_id=saved_id)
    return {"job_id": job.id, "state": job.state.value, **proposal.as_dict()}


def _held_facility_job(job_id: int) -> tuple[User, Job]:
    actor = services.current()
    job = services.load(visible_jobs(actor), Job.id == job_id, Job.kind == FACILITY_IMPORT)
    services.require(can_import_facilities(actor))
    if job.state != JobState.waiting:
        message = _("This import is no longer waiting for its columns to be confirmed.")
        raise ApiError(422, message, {"_schema": [message]})
    return actor, job


@route(
    "/jobs/<int:job_id>/columns",
    summary=_l("The proposed column mapping of a facility import"),
    description=_l(
        "The file's columns against the fields of a facility list, as proposed (from the best fitting "
        "saved mapping, or by names, other names and sample values), for a job waiting for its columns."
    ),
    args=import_mapping.FacilityColumnsArgs,
    response=import_mapping.FacilityColumnMappingSchema,
)
@roles(UserRole.coordinator)
def show_job_columns(job_id: int, args: dict[str, Any]) -> dict[str, Any]:
    actor, job = _held_facility_job(job_id)
    return _proposal(actor, job, args.get("saved_mapping_id"))


@route(
    "/jobs/<int:job_id>/columns",
    method="POST",
    summary=_l("Confirm the column mapping of a facility import"),
    description=_l(
        "Queues the import with each field read from the column given (null: not in the file), "
        "optionally saving the mapping under a name. A mapping without a required field, or naming a "
        "column the file does not have, answers 422 with the messages; nothing is queued."
    ),
    args=import_mapping.ConfirmFacilityColumnsArgs,
    response=JobSchema,
    status=202,
)
@roles(UserRole.coordinator)
def confirm_job_columns(job_id: int, args: dict[str, Any]) -> dict[str, Any]:
    actor, job = _held_facility_job(job_id)
    try:
        import_mapping.confirm_mapping(actor, job, args["mapping"], args.get("save_as"))
    except import_mapping.MappingRefused as exc:
        errors: dict[str, list[str]] = {}
        for key, message in exc.errors:
            errors.setdefault(f"mapping.{key}" if key else "mapping", []).append(str(message))
        raise ApiError(422, _("The columns cannot be imported this way."), errors) from exc
    return services.job_status(job)


@route(
    "/jobs/<int:job_id>/cancel",
    method="POST",
    summary=_l("Cancel a facility import waiting for its columns"),
    response=JobSchema,
)
@roles(UserRole.coordinator)
def cancel_job(job_id: int) -> dict[str, Any]:
    actor, job = _held_facility_job(job_id)
    import_mapping.cancel_import(actor, job)
    return services.job_status(job)


@route(
    "/imports/disclosures",
    method="POST",
    summary=_l("Import disclosures"),
    description=_l(
        "Records which site makes which part of which product, from a CSV file, whole or not at "
        "all. Every product must be covered by a contract of the supplier. Unknown sites are "
        "added. A refused file answers 422 with the problems keyed by line and column."
    ),
    args=ImportDisclosuresArgs,
    response=DisclosureImportResultSchema,
    raw_body=True,
)
@roles(*DISCLOSURE_IMPORT_ROLES)
def import_disclosures() -> imports.DisclosureImportResult:
    args = parse_upload(ImportDisclosuresArgs)
    actor = services.current()
    supplier = services.import_supplier(actor, args.get("supplier_id"))
    upload: FileStorage = args["file"]
    try:
        return imports.import_disclosures(actor, supplier, upload.stream, filename=upload.filename or "")
    except imports.ImportRefused as exc:
        raise refusal(exc) from exc


# --- saved column mappings ---------------------------------------------------------------------


@route(
    "/imports/mappings",
    summary=_l("List the saved column mappings"),
    description=_l(
        "The column mappings your organisation saved on an import's column-mapping step (facility lists, "
        "surveys), by kind and name, each with its fields and columns and who saved it when."
    ),
    args=mapping_admin.ListSavedMappingsArgs,
    response=mapping_admin.SavedMappingSchema,
    paginated=True,
)
@roles(*READER_ROLES)
def list_saved_mappings(args: dict[str, Any]) -> Page:
    query = visible_saved_mappings(services.current())
    page = paginate(query, mapping_admin.MAPPING_ORDER, args.get("after"), args.get("limit"))
    return mapping_admin.describe_page(page)


def _saved_mapping(mapping_id: int) -> tuple[User, SavedMapping]:
    actor = services.current()
    return actor, services.load(visible_saved_mappings(actor), SavedMapping.id == mapping_id)


@route(
    "/imports/mappings/<int:mapping_id>",
    summary=_l("A saved column mapping"),
    response=mapping_admin.SavedMappingSchema,
)
@roles(*READER_ROLES)
def get_saved_mapping(mapping_id: int) -> mapping_admin.SavedMappingView:
    return mapping_admin.describe_one(_saved_mapping(mapping_id)[1])


@route(
    "/imports/mappings/<int:mapping_id>",
    method="PATCH",
    summary=_l("Rename a saved column mapping"),
    description=_l("A name another mapping of the same kind already has answers 422."),
    args=mapping_admin.RenameSavedMappingArgs,
    response=mapping_admin.SavedMappingSchema,
)
@roles(*READER_ROLES)
def rename_saved_mapping(mapping_id: int, args: dict[str, Any]) -> mapping_admin.SavedMappingView:
    actor, saved = _saved_mapping(mapping_id)
    return mapping_admin.describe_one(mapping_admin.rename_mapping(actor, saved, args["name"]))


@route(
    "/imports/mappings/<int:mapping_id>",
    method="DELETE",
    summary=_l("Delete a saved column mapping"),
    description=_l("Imports already confirmed with it are not changed."),
    status=204,
)
@roles(*READER_ROLES)
def delete_saved_mapping(mapping_id: int) -> tuple[None, int]:
    mapping_admin.delete_mapping(*_saved_mapping(mapping_id))
    return None, 204


# --- likely duplicates --------------------------------------------------------------------------


def _reviewer() -> User:
    actor = services.current()
    services.require(can_review_duplicates(actor))
    return actor


def _site(actor: User, site_id: int, field: str) -> Site:
    site = db.session.scalar(reviewable_sites(actor).where(Site.id == site_id))
    if site is None:
        raise _unprocessable(field, _("There is no site with this id."))
    return site


@route("/jobs/<int:job_id>", summary=_l("Follow an import"), response=JobSchema)
@authenticated
def show_job(job_id: int) -> dict[str, Any]:
    """An import's progress and, when it is over, its counts or problems (only its owner sees it)."""
    job = services.load(visible_jobs(services.current()), Job.id == job_id)
    return services.job_status(job)


@route(
    "/sites/duplicates",
    summary=_l("List likely duplicate sites"),
    args=ListSiteDuplicatesArgs,
    response=SiteDuplicateSchema,
    paginated=True,
)
@roles(UserRole.coordinator)
def list_site_duplicates(args: dict[str, Any]) -> Page:
    query = services.list_duplicates(_reviewer(), args)
    return paginate(query, services.DUPLICATE_ORDER, args.get("after"), args.get("limit"))


@route(
    "/sites/duplicates",
    method="POST",
    summary=_l("Propose two sites as duplicates"),
    args=ProposeSiteDuplicateArgs,
    response=SiteDuplicateSchema,
    status=201,
)
@roles(UserRole.coordinator)
def propose_site_duplicate(args: dict[str, Any]) -> SiteDuplicate:
    actor = _reviewer()
    site, candidate = (
        _site(actor, args["site_id"], "site_id"),
        _site(actor, args["candidate_id"], "candidate_id"),
    )
    return duplicates.propose_duplicate(actor, site, candidate, args["reason"])


@route(
    "/sites/duplicates/<int:duplicate_id>",
    summary=_l("A likely duplicate pair"),
    response=SiteDuplicateSchema,
)
@roles(UserRole.coordinator)
def get_site_duplicate(duplicate_id: int) -> SiteDuplicate:
    return services.load(visible_duplicates(_reviewer()), SiteDuplicate.id == duplicate_id)


@route(
    "/sites/duplicates/<int:duplicate_id>/merge",
    method="POST",
    summary=_l("Merge a duplicate pair"),
    description=_l(
        "The merged site keeps its record as history; its disclosures move to the site that stays, "
        "which also takes its Open Supply Hub id if it has none."
    ),
    args=MergeSiteDuplicateArgs,
    response=SiteDuplicateSchema,
)
@roles(UserRole.coordinator)
def merge_site_duplicate(duplicate_id: int, args: dict[str, Any]) -> SiteDuplicate:
    actor = _reviewer()
    duplicate = services.load(visible_duplicates(actor), SiteDuplicate.id == duplicate_id)
    duplicates.merge_duplicate(actor, duplicate, keep_candidate=args["keep"] == "candidate")
    return duplicate


@route(
    "/sites/duplicates/<int:duplicate_id>/dismiss",
    method="POST",
    summary=_l("Dismiss a duplicate pair"),
    description=_l("Records that the two sites are different places."),
    response=SiteDuplicateSchema,
)
@roles(UserRole.coordinator)
def dismiss_site_duplicate(duplicate_id: int) -> SiteDuplicate:
    actor = _reviewer()
    duplicate = services.load(visible_duplicates(actor), SiteDuplicate.id == duplicate_id)
    duplicates.dismiss_duplicate(actor, duplicate)
    return duplicate


@route(
    "/sites/duplicates/review",
    method="POST",
    summary=_l("Review likely duplicate pairs in bulk"),
    description=_l(
        "Merges every open pair at least accept_from similar (the proposal's site stays) and "
        "dismisses every open pair less than dismiss_below similar, in one transaction; each decision "
        "is audited as a single one is. Pairs in between stay open."
    ),
    args=ReviewSiteDuplicatesArgs,
    response=SiteDuplicateReviewSchema,
)
@roles(UserRole.coordinator)
def review_site_duplicates(args: dict[str, Any]) -> duplicates.BulkReview:
    return duplicates.review_duplicates(
        _reviewer(), accept_from=args["accept_from"], dismiss_below=args["dismiss_below"]
    )
