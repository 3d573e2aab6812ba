"""JSON API of the crosswalk, audit imports and a site's audits view: the same services as the pages."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import FileStorage

from monitoring.cases.audits import operations, services
from monitoring.cases.audits.permissions import (
    CROSSWALK_EDITOR_ROLES,
    CROSSWALK_READER_ROLES,
    IMPORTER_ROLES,
    VIEWER_ROLES,
)
from monitoring.cases.audits.schemas import (
    AuditImportResultSchema,
    CrosswalkEntryArgs,
    CrosswalkEntrySchema,
    CrosswalkSchema,
    ImportAuditsArgs,
    SiteAuditsArgs,
    SiteAuditsSchema,
)
from monitoring.core.api import parse_args, route
from monitoring.core.auth import roles
from monitoring.core.errors import ApiError
from monitoring.supplychain.import_reading import ImportRefused
from monitoring.supplychain.schemas import MULTIPART
from monitoring.supplychain.services import current


@route(
    "/crosswalk",
    summary=_l("The crosswalk: RBA Code sections, our standards and the worker issue checklist"),
    response=CrosswalkSchema,
)
@roles(*CROSSWALK_READER_ROLES)
def crosswalk() -> Any:
    return {"entries": services.crosswalk_entries()}


@route(
    "/crosswalk",
    method="POST",
    summary=_l("Add a link to the crosswalk"),
    description=_l("For coordinators; every site's audits view is re-mapped at once."),
    args=CrosswalkEntryArgs,
    response=CrosswalkEntrySchema,
    status=201,
)
@roles(*CROSSWALK_EDITOR_ROLES)
def add_crosswalk_entry(args: dict[str, Any]) -> Any:
    return operations.add_entry(current(), operations.EntryData(**args)), 201


@route(
    "/crosswalk/<int:entry_id>",
    method="PUT",
    summary=_l("Change a link of the crosswalk"),
    description=_l("For coordinators; every site's audits view is re-mapped at once."),
    args=CrosswalkEntryArgs,
    response=CrosswalkEntrySchema,
)
@roles(*CROSSWALK_EDITOR_ROLES)
def edit_crosswalk_entry(entry_id: int, args: dict[str, Any]) -> Any:
    user = current()
    entry = services.load_entry(user, entry_id)
    return operations.edit_entry(user, entry, operations.EntryData(**args))


@route(
    "/crosswalk/<int:entry_id>",
    method="DELETE",
    summary=_l("Remove a link of the crosswalk"),
    description=_l("For coordinators; answers the crosswalk as it now stands."),
    response=CrosswalkSchema,
)
@roles(*CROSSWALK_EDITOR_ROLES)
def delete_crosswalk_entry(entry_id: int) -> Any:
    user = current()
    operations.delete_entry(user, services.load_entry(user, entry_id))
    return {"entries": services.crosswalk_entries()}


def _refusal(exc: ImportRefused) -> ApiError:
    errors: dict[str, list[str]] = {}
    for error in exc.errors:
        key = f"{error.line}.{error.column}" if error.column else str(error.line)
        errors.setdefault(key, []).append(str(error.message))
    return ApiError(422, exc.message, errors)


@route(
    "/audits/imports",
    method="POST",
    summary=_l("Import third-party audit results"),
    description=_l(
        "For coordinators and monitors. A CSV file in the layout of docs/audits.md, modelled on RBA "
        "VAP reports, imported whole or not at all: a refused file answers 422 with the problems "
        "keyed by line and column, and nothing is saved."
    ),
    args=ImportAuditsArgs,
    response=AuditImportResultSchema,
    status=201,
    raw_body=True,
)
@roles(*IMPORTER_ROLES)
def import_audits() -> Any:
    if request.mimetype != MULTIPART:
        message = _("Send the file as multipart/form-data.")
        raise ApiError(400, message, {"file": [message]})
    body = {**request.form.to_dict(flat=True), **request.files.to_dict(flat=True)}
    upload: FileStorage = parse_args(ImportAuditsArgs, body)["file"]
    try:
        result = operations.import_audits(current(), upload.stream, upload.filename or "")
    except ImportRefused as exc:
        raise _refusal(exc) from exc
    return result, 201


@route(
    "/sites/<int:site_id>/audits",
    summary=_l("A site's audits and worker voice, per standard"),
    description=_l(
        "Per top-level standard, through the crosswalk: the audit findings of the year, the monitors' "
        "findings and the worker reports linked to them, the worker reports about the site whose issue "
        "categories map to the standard, and a contradiction flag where an audit of the year had no "
        "open finding on the standard's sections while findings or worker reports name it. Affiliates "
        "(sites of their supply chains) get counts only; counts under 5 are suppressed."
    ),
    args=SiteAuditsArgs,
    response=SiteAuditsSchema,
)
@roles(*VIEWER_ROLES)
def site_audits(site_id: int, args: dict[str, Any]) -> Any:
    user = current()
    site = services.load_site(user, site_id)
    year = args.get("year") or date.today().year
    return services.site_audits_view(services.site_audits(user, site, year))
