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

from flask import abort, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from marshmallow import Schema, fields, validate
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from monitoring.accounts.models import Organisation, OrganisationKind, User, UserRole
from monitoring.accounts.schemas import UserRefSchema
from monitoring.core.api import paginate, parse_args, route
from monitoring.core.auth import roles
from monitoring.core.db import db
from monitoring.core.errors import ApiError
from monitoring.core.pagination import Page
from monitoring.core.schemas import BaseSchema, PageArgs
from monitoring.supplychain import duplicates, imports
from monitoring.supplychain.models import DuplicateState, Site, SiteDuplicate
from monitoring.supplychain.schemas import SiteSchema

logger = logging.getLogger(__name__)

MULTIPART = "multipart/form-data"


# --- file uploads -------------------------------------------------------------------------------


class FileUpload(fields.String):
    """A file sent in a ``multipart/form-data`` body (a string of bytes in OpenAPI)."""

    default_error_messages = {"invalid": _l("Send a file in this field.")}

    def __init__(self, **kwargs: Any) -> None:
        metadata = {"format": "binary", **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> FileStorage:
        if not isinstance(value, FileStorage) or not value.filename:
            raise self.make_error("invalid")
        return value


class UploadArgs(BaseSchema):
    """Input sent as ``multipart/form-data``; the OpenAPI document says so."""

    content_type = MULTIPART


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


# --- schemas ------------------------------------------------------------------------------------


class ImportFacilitiesArgs(UploadArgs):
    file = FileUpload(
        required=True,
        metadata={
            "description": _l(
                "A CSV file (UTF-8) in Open Supply Hub's download layout: at least the columns "
                "name, address and country_code, in any order."
            )
        },
    )


class ImportDisclosuresArgs(UploadArgs):
    file = FileUpload(
        required=True,
        metadata={
            "description": _l(
                "A CSV file (UTF-8) with the columns brand, model, part, valid_from and either os_id "
                "or name, address and country_code; optional: city, kind, valid_to, source."
            )
        },
    )
    supplier_id = fields.Integer(
        metadata={
            "description": _l(
                "The supplier organisation the disclosures are made for. Coordinators must give it; "
                "suppliers disclose for their own organisation."
            )
        }
    )


class FacilityImportResultSchema(BaseSchema):
    rows = fields.Integer(dump_only=True, metadata={"description": _l("Rows read from the file.")})
    created = fields.Integer(dump_only=True, metadata={"description": _l("New sites.")})
    updated = fields.Integer(dump_only=True, metadata={"description": _l("Existing sites that changed.")})
    unchanged = fields.Integer(
        dump_only=True, metadata={"description": _l("Existing sites already up to date.")}
    )
    skipped_closed = fields.Integer(
        dump_only=True, metadata={"description": _l("Closed facilities not in the registry, not added.")}
    )
    duplicates_proposed = fields.Integer(
        dump_only=True, metadata={"description": _l("Likely duplicate sites proposed to coordinators.")}
    )


class DisclosureImportResultSchema(BaseSchema):
    rows = fields.Integer(dump_only=True, metadata={"description": _l("Rows read from the file.")})
    created = fields.Integer(dump_only=True, metadata={"description": _l("New disclosures.")})
    unchanged = fields.Integer(
        dump_only=True, metadata={"description": _l("Rows that repeat a disclosure already made.")}
    )
    sites_created = fields.Integer(dump_only=True, metadata={"description": _l("New sites.")})
    duplicates_proposed = fields.Integer(
        dump_only=True, metadata={"description": _l("Likely duplicate sites proposed to coordinators.")}
    )


class SiteDuplicateSchema(BaseSchema):
    id = fields.Integer(dump_only=True)
    site = fields.Nested(SiteSchema, dump_only=True, metadata={"description": _l("The site that stays.")})
    candidate = fields.Nested(
        SiteSchema, dump_only=True, metadata={"description": _l("The site to merge into the other.")}
    )
    reason = fields.String(
        dump_only=True,
        metadata={"description": _l("Why the pair was proposed: a code, or a coordinator's words.")},
    )
    reason_text = fields.Function(
        lambda d: duplicates.reason_title(d.reason),
        dump_only=True,
        metadata={"description": _l("The reason in the user's language.")},
    )
    state = fields.Enum(DuplicateState, by_value=True, dump_only=True)
    created_dt = fields.AwareDateTime(dump_only=True)
    decided_dt = fields.AwareDateTime(dump_only=True, allow_none=True)
    decided_by = fields.Nested(UserRefSchema, dump_only=True, allow_none=True)


class ListSiteDuplicatesArgs(PageArgs):
    state = fields.Enum(
        DuplicateState,
        by_value=True,
        load_default=DuplicateState.proposed,
        metadata={"description": _l("Which pairs: awaiting a decision (the default), merged or dismissed.")},
    )


class ProposeSiteDuplicateArgs(BaseSchema):
    site_id = fields.Integer(required=True, strict=True, metadata={"description": _l("The site that stays.")})
    candidate_id = fields.Integer(
        required=True, strict=True, metadata={"description": _l("The site to merge into it.")}
    )
    reason = fields.String(
        load_default="", validate=validate.Length(max=200, error=_l("At most %(max)d characters."))
    )


class MergeSiteDuplicateArgs(BaseSchema):
    keep = fields.String(
        load_default="site",
        validate=validate.OneOf(["site", "candidate"], error=_l("Choose site or candidate.")),
        metadata={"description": _l("Which site of the pair stays: site (the default) or candidate.")},
    )


# --- imports ------------------------------------------------------------------------------------


def _actor() -> User:
    return current_user._get_current_object()  # type: ignore[attr-defined]


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
    args = parse_upload(ImportFacilitiesArgs)
    actor = _actor()
    if not imports.can_import_facilities(actor):
        abort(404)
    upload: FileStorage = args["file"]
    try:
        result = imports.import_facilities(actor, upload.stream, filename=upload.filename or "")
    except imports.ImportRefused as exc:
        raise refusal(exc) from exc
    db.session.commit()
    return result


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
@roles(UserRole.supplier, UserRole.coordinator)
def import_disclosures() -> imports.DisclosureImportResult:
    args = parse_upload(ImportDisclosuresArgs)
    actor = _actor()
    supplier_id = args.get("supplier_id")
    if actor.role is UserRole.supplier:
        if supplier_id not in (None, actor.organisation_id):
            abort(404)
        supplier = actor.organisation
    else:
        if supplier_id is None:
            message = _("Choose the supplier the disclosures are made for.")
            raise ApiError(422, message, {"supplier_id": [message]})
        supplier = db.session.scalar(
            select(Organisation).where(
                Organisation.id == supplier_id,
                Organisation.kind == OrganisationKind.supplier,
                Organisation.is_active.is_(True),
            )
        )
        if supplier is None:
            message = _("There is no active supplier organisation with this id.")
            raise ApiError(422, message, {"supplier_id": [message]})
    if not imports.can_import_disclosures(actor, supplier):
        abort(404)
    upload: FileStorage = args["file"]
    try:
        result = imports.import_disclosures(actor, supplier, upload.stream, filename=upload.filename or "")
    except imports.ImportRefused as exc:
        raise refusal(exc) from exc
    db.session.commit()
    return result


# --- likely duplicates --------------------------------------------------------------------------


def _reviewer() -> User:
    actor = _actor()
    if not duplicates.can_review_duplicates(actor):
        abort(404)
    return actor


def _load_duplicate(actor: User, duplicate_id: int) -> SiteDuplicate:
    duplicate = db.session.scalar(
        duplicates.visible_duplicates(actor).where(SiteDuplicate.id == duplicate_id)
    )
    if duplicate is None:
        abort(404)
    return duplicate


def _load_site(actor: User, site_id: int, field: str) -> Site:
    site = db.session.scalar(duplicates.reviewable_sites(actor).where(Site.id == site_id))
    if site is None:
        message = _("There is no site with this id.")
        raise ApiError(422, message, {field: [message]})
    return site


@route(
    "/sites/duplicates",
    summary=_l("List likely duplicate sites"),
    args=ListSiteDuplicatesArgs,
    response=SiteDuplicateSchema,
    paginated=True,
)
@roles(UserRole.coordinator)
def list_site_duplicates(args: dict[str, Any]) -> Page:
    query = duplicates.visible_duplicates(_reviewer()).where(SiteDuplicate.state == args["state"])
    return paginate(query, [SiteDuplicate.id.desc()], args.get("after"), args.get("limit"))


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
    site = _load_site(actor, args["site_id"], "site_id")
    candidate = _load_site(actor, args["candidate_id"], "candidate_id")
    duplicate = duplicates.propose_duplicate(actor, site, candidate, args["reason"])
    db.session.commit()
    return duplicate


@route(
    "/sites/duplicates/<int:duplicate_id>",
    summary=_l("A likely duplicate pair"),
    response=SiteDuplicateSchema,
)
@roles(UserRole.coordinator)
def get_site_duplicate(duplicate_id: int) -> SiteDuplicate:
    return _load_duplicate(_reviewer(), duplicate_id)


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
    duplicate = _load_duplicate(actor, duplicate_id)
    duplicates.merge_duplicate(actor, duplicate, keep_candidate=args["keep"] == "candidate")
    db.session.commit()
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
    duplicate = _load_duplicate(actor, duplicate_id)
    duplicates.dismiss_duplicate(actor, duplicate)
    db.session.commit()
    return duplicate
