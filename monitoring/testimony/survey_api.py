"""JSON API of survey imports (monitors, for their own organisation).

``POST /testimony/survey-imports`` takes ``multipart/form-data`` (the CSV as ``file``): the
route leaves the body unread (``raw_body``) until its size is checked and its files are kept
in memory. The file layout is documented in :mod:`monitoring.testimony.survey`.
"""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from marshmallow import fields, validate

from monitoring.accounts.models import User, UserRole
from monitoring.core import uploads
from monitoring.core.api import paginate, parse_args, route
from monitoring.core.auth import roles
from monitoring.core.db import db
from monitoring.core.errors import MESSAGES, ApiError
from monitoring.core.pagination import Page
from monitoring.core.schemas import BaseSchema, PageArgs
from monitoring.supplychain.models import Site
from monitoring.testimony import survey
from monitoring.testimony.models import SurveyImport
from monitoring.testimony.operations import WORKER_LANGUAGES

TAG = "testimony"
RULE = "/testimony/survey-imports"


class SurveyImportSchema(BaseSchema):
    """One imported survey export: how many reports it made, when and by whom."""

    id = fields.Integer(dump_only=True)
    organisation_id = fields.Integer(dump_only=True)
    rows = fields.Integer(dump_only=True, metadata={"description": _l("Reports created from the file.")})
    skipped = fields.Integer(
        dump_only=True,
        metadata={"description": _l("Answers skipped because an earlier import holds them (same _uuid).")},
    )
    imported_dt = fields.AwareDateTime(dump_only=True)
    imported_by_id = fields.Integer(dump_only=True, allow_none=True)
    site_id = fields.Integer(
        dump_only=True, allow_none=True, metadata={"description": _l("The workplace given for every row.")}
    )


class CreateSurveyImportArgs(BaseSchema):
    """The form fields of an import; the body is ``multipart/form-data``."""

    content_type = "multipart/form-data"

    file = fields.Raw(
        required=True,
        metadata={
            "type": "string",
            "format": "binary",
            "description": _l(
                "The CSV exported from KoboToolbox with “XML values and headers” (UTF-8, ; or , separated)."
            ),
        },
    )
    site_id = fields.Integer(
        validate=validate.Range(min=1),
        metadata={"description": _l("The workplace of rows that do not name one (a site id).")},
    )
    language = fields.String(
        validate=validate.OneOf(WORKER_LANGUAGES),
        load_default="en",
        metadata={"description": _l("Language of rows without a `language` answer.")},
    )


class ListSurveyImportsArgs(PageArgs):
    """A page of the organisation's survey imports, newest first."""


def _me() -> User:
    return current_user._get_current_object()  # type: ignore[attr-defined,no-any-return]


@route(
    RULE,
    summary=_l("List the survey imports of my organisation"),
    args=ListSurveyImportsArgs,
    response=SurveyImportSchema,
    paginated=True,
    tag=TAG,
)
@roles(UserRole.monitor)
def list_survey_imports(args: dict[str, Any]) -> Page:
    query = survey.visible_survey_imports(_me())
    return paginate(
        query, [SurveyImport.imported_dt.desc(), SurveyImport.id.desc()], args.get("after"), args.get("limit")
    )


@route(f"{RULE}/<int:import_id>", summary=_l("Get a survey import"), response=SurveyImportSchema, tag=TAG)
@roles(UserRole.monitor)
def get_survey_import(import_id: int) -> SurveyImport:
    found = db.session.scalar(survey.visible_survey_imports(_me()).where(SurveyImport.id == import_id))
    if found is None:
        abort(404)
    return found


def _refusal(exc: survey.SurveyRefused) -> ApiError:
    lines = []
    for error in exc.errors:
        where = _("line %(line)s", line=error.line) if error.line is not None else ""
        if error.column:
            where = f"{where}, {error.column}" if where else error.column
        lines.append(f"{where}: {error.message}" if where else error.message)
    if exc.more:
        lines.append(_("… and %(num)d more problems.", num=exc.more))
    return ApiError(422, _("The file was refused; nothing was imported."), {"file": lines})


@route(
    RULE,
    method="POST",
    summary=_l("Import a survey export"),
    description=_l(
        "Each row of a KoboToolbox CSV export becomes a worker report (channel survey) sealed to "
        "your organisation's key, all in one transaction. A file with any problem is refused "
        "whole (422) with one message per problem and its line number."
    ),
    args=CreateSurveyImportArgs,
    response=SurveyImportSchema,
    status=201,
    tag=TAG,
    raw_body=True,
)
@roles(UserRole.monitor)
def create_survey_import() -> SurveyImport:
    """Check a survey export and seal every row as a report of my organisation, in one transaction."""
    user = _me()
    if not uploads.accept_body(current_app.config["MAX_CONTENT_LENGTH"]):
        raise ApiError(413, str(MESSAGES[413]))
    if request.mimetype != "multipart/form-data":
        raise ApiError(
            422,
            _("Send the file as multipart/form-data, in the field “file”."),
            {"file": [str(_l("This field is required."))]},
        )
    raw = request.form.to_dict(flat=True)
    upload = request.files.get("file")
    if upload is not None and upload.filename is not None:
        raw["file"] = upload
    args = parse_args(CreateSurveyImportArgs, raw)
    site = None
    if "site_id" in args:
        site = db.session.get(Site, args["site_id"])
        if site is None:
            message = _("No site with this id.")
            raise ApiError(422, message, {"site_id": [message]})
    try:
        result = survey.import_survey(
            user, user.organisation, args["file"].read(), site=site, default_language=args["language"]
        )
    except survey.SurveyRefused as exc:
        raise _refusal(exc) from exc
    db.session.commit()
    return result
