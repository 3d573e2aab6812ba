"""JSON API of circularity reports: the same services as the pages."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import FileStorage

from monitoring.core.api import parse_args, route
from monitoring.core.auth import roles
from monitoring.core.errors import ApiError
from monitoring.supplychain.circularity import operations, services
from monitoring.supplychain.circularity.permissions import (
    FILER_ROLES,
    LOOP_ROLES,
    READER_ROLES,
    REVIEWER_ROLES,
)
from monitoring.supplychain.circularity.schemas import (
    CircularityImportResultSchema,
    CircularityLoopArgs,
    CircularityLoopSchema,
    CircularityReportListSchema,
    CircularityReportSchema,
    FileCircularityArgs,
    ImportCircularityArgs,
    QueryCircularityArgs,
)
from monitoring.supplychain.import_reading import ImportRefused
from monitoring.supplychain.schemas import MULTIPART
from monitoring.supplychain.services import current


@route(
    "/contracts/<int:contract_id>/circularity",
    summary=_l("A contract's circularity reports"),
    description=_l("For the contract's buyer, its supplier and coordinators; the latest year first."),
    response=CircularityReportListSchema,
)
@roles(*READER_ROLES)
def contract_reports(contract_id: int) -> Any:
    contract = services.load_contract(current(), contract_id)
    return {"contract_id": contract.id, "reports": services.contract_reports(contract)}


@route(
    "/contracts/<int:contract_id>/circularity",
    method="POST",
    summary=_l("File a circularity report for a product and year"),
    description=_l(
        "For the contract's supplier. Filing again for the same product and year corrects the report, "
        "which then awaits the buyer again; a confirmed report can no longer change."
    ),
    args=FileCircularityArgs,
    response=CircularityReportSchema,
    status=201,
)
@roles(*FILER_ROLES)
def file_report(contract_id: int, args: dict[str, Any]) -> Any:
    user = current()
    contract = services.load_contract(user, contract_id, to_file=True)
    return operations.file_report(user, contract, services.report_data(args)), 201


@route(
    "/contracts/<int:contract_id>/circularity/import",
    method="POST",
    summary=_l("Upload circularity reports as CSV"),
    description=_l(
        "One report a line, in the layout of docs/circularity.md, whole or not at all. A refused file "
        "answers 422 with the problems keyed by line and column."
    ),
    args=ImportCircularityArgs,
    response=CircularityImportResultSchema,
    raw_body=True,
)
@roles(*FILER_ROLES)
def import_reports(contract_id: int) -> Any:
    user = current()
    contract = services.load_contract(user, contract_id, to_file=True)
    if request.mimetype != MULTIPART:
        message = _("Send the file as multipart/form-data.")
        raise ApiError(400, message, {"file": [message]})
    upload: FileStorage = parse_args(ImportCircularityArgs, request.files.to_dict(flat=True))["file"]
    try:
        return services.import_reports(user, contract, upload.stream)
    except ImportRefused as exc:
        errors: dict[str, list[str]] = {}
        for error in exc.errors:
            key = f"{error.line}.{error.column}" if error.column else str(error.line)
            errors.setdefault(key, []).append(str(error.message))
        raise ApiError(422, exc.message, errors) from exc


@route(
    "/circularity/<int:circularity_id>",
    summary=_l("A circularity report"),
    description=_l("For the contract's buyer, its supplier and coordinators."),
    response=CircularityReportSchema,
)
@roles(*READER_ROLES)
def report(circularity_id: int) -> Any:
    return services.load_report(current(), circularity_id)


@route(
    "/circularity/<int:circularity_id>/confirm",
    method="POST",
    summary=_l("Confirm a circularity report"),
    description=_l("For the contract's buyer and coordinators; a confirmed report is final."),
    response=CircularityReportSchema,
)
@roles(*REVIEWER_ROLES)
def confirm_report(circularity_id: int) -> Any:
    user = current()
    return operations.confirm_report(user, services.load_report(user, circularity_id, need="review"))


@route(
    "/circularity/<int:circularity_id>/query",
    method="POST",
    summary=_l("Query a circularity report, with a reason"),
    description=_l("For the contract's buyer and coordinators; the supplier corrects and files it again."),
    args=QueryCircularityArgs,
    response=CircularityReportSchema,
)
@roles(*REVIEWER_ROLES)
def query_report(circularity_id: int, args: dict[str, Any]) -> Any:
    user = current()
    return operations.query_report(
        user, services.load_report(user, circularity_id, need="review"), args["reason"]
    )


@route(
    "/circularity/loop",
    summary=_l("The feedback loop of your contracts' devices, per product"),
    description=_l(
        "Reports up to the year (queried ones left out): delivered, in use, taken back, second life, "
        "recycled and at which sites, with the collected share against the ambition of 100 %."
    ),
    args=CircularityLoopArgs,
    response=CircularityLoopSchema,
)
@roles(*LOOP_ROLES)
def loop(args: dict[str, Any]) -> Any:
    return services.buyer_loop(current(), args.get("year") or date.today().year)
