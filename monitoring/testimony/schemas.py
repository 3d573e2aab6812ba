"""Input and output schemas of the sealed-testimony API.

Output schemas hold metadata only, except :class:`OpenedWorkerReportSchema`, which is the answer to
an explicit, audited opening. Nothing else here ever carries identity or testimony.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError, fields, validate, validates_schema

from monitoring.accounts.models import KeyAlgorithm
from monitoring.accounts.schemas import OrganisationRefSchema, UserRefSchema
from monitoring.core.schemas import BaseSchema, Integer, PageArgs
from monitoring.testimony.models import (
    CoverageChangeState,
    ErasureReason,
    IssueCategory,
    ReportChannel,
    ReportStatus,
    RetaliationRisk,
    WorkerReport,
)
from monitoring.testimony.operations import (
    INTAKE_CHANNELS,
    MAX_IDENTITY_FIELD_LENGTH,
    MAX_MESSAGE_LENGTH,
    MAX_REASON_LENGTH,
    MAX_TESTIMONY_LENGTH,
    MAX_WORKPLACE_LENGTH,
    WORKER_LANGUAGES,
    AgeBand,
    Gender,
    OpenReason,
)


@dataclass(frozen=True)
class ReportView:
    """A report with its overdue flags, as computed in SQL for the moment of the request."""

    report: WorkerReport
    acknowledge_overdue: bool
    feedback_overdue: bool
    # The conversation holds worker messages the reader has not seen (monitors only).
    unread_messages: bool = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.report, name)


@dataclass(frozen=True)
class ReportDetailView(ReportView):
    """A report with what its monitors see besides: files and grants (empty for coordinators)."""

    evidence: list[Any] = field(default_factory=list)
    grants: list[Any] = field(default_factory=list)


@dataclass(frozen=True)
class CoverageView:
    coverage: Any
    can_receive: bool

    def __getattr__(self, name: str) -> Any:
        return getattr(self.coverage, name)


# --- output -------------------------------------------------------------------------------------


class ReportSiteSchema(BaseSchema):
    id = Integer(dump_only=True)
    name = fields.String(dump_only=True)
    city = fields.String(dump_only=True)
    country = fields.String(dump_only=True)


class WorkerReportSchema(BaseSchema):
    """A report's metadata: never identity or testimony."""

    id = Integer(dump_only=True)
    organisation = fields.Nested(OrganisationRefSchema, dump_only=True)
    site = fields.Nested(ReportSiteSchema, dump_only=True, allow_none=True)
    country = fields.String(dump_only=True, allow_none=True)
    channel = fields.Enum(ReportChannel, by_value=True, dump_only=True)
    status = fields.Enum(ReportStatus, by_value=True, dump_only=True)
    collected_date = fields.Date(dump_only=True)
    language = fields.String(dump_only=True)
    categories = fields.Function(
        lambda r: sorted(c.category.value for c in r.categories),
        dump_only=True,
        metadata={"type": "array", "items": {"type": "string", "enum": [c.value for c in IssueCategory]}},
    )
    consent_share_buyers = fields.Boolean(dump_only=True)
    consent_share_supplier = fields.Boolean(dump_only=True)
    consent_contact = fields.Boolean(dump_only=True)
    retaliation_risk = fields.Enum(RetaliationRisk, by_value=True, dump_only=True, allow_none=True)
    anonymous = fields.Function(
        lambda r: r.receipt_lookup is not None,
        dump_only=True,
        metadata={"type": "boolean", "description": _l("Filed by the worker with a receipt code.")},
    )
    created_dt = fields.AwareDateTime(dump_only=True)
    erased_dt = fields.AwareDateTime(
        dump_only=True,
        allow_none=True,
        metadata={"description": _l("This report was erased: what the worker wrote no longer exists.")},
    )
    erasure_reason = fields.Enum(ErasureReason, by_value=True, dump_only=True, allow_none=True)
    acknowledge_due_dt = fields.AwareDateTime(dump_only=True, allow_none=True)
    acknowledged_dt = fields.AwareDateTime(dump_only=True, allow_none=True)
    feedback_due_dt = fields.AwareDateTime(dump_only=True, allow_none=True)
    feedback_dt = fields.AwareDateTime(dump_only=True, allow_none=True)
    acknowledge_overdue = fields.Boolean(dump_only=True)
    feedback_overdue = fields.Boolean(dump_only=True)
    unread_messages = fields.Boolean(
        dump_only=True,
        metadata={
            "description": _l(
                "The worker wrote messages you have not read yet (opening the report reads them)."
            )
        },
    )


class KeylessRouteSchema(BaseSchema):
    """A route whose organisation cannot seal reports: workers there cannot report yet."""

    id = Integer(dump_only=True)
    country = fields.String(
        dump_only=True,
        allow_none=True,
        metadata={
            "description": _l("The country; none for the route of every country without one of its own.")
        },
    )
    is_fallback = fields.Boolean(dump_only=True)
    organisation = fields.Nested(OrganisationRefSchema, dump_only=True)
    organisation_active = fields.Function(
        lambda route: route.organisation.is_active, dump_only=True, metadata={"type": "boolean"}
    )
    alerted_dt = fields.AwareDateTime(
        dump_only=True,
        allow_none=True,
        metadata={"description": _l("When the coordinators and administrators were told.")},
    )


class ReportEvidenceSchema(BaseSchema):
    """A file's metadata; its name is sealed like its content."""

    id = Integer(dump_only=True)
    content_type = fields.String(dump_only=True)
    size = Integer(dump_only=True)
    uploaded_dt = fields.AwareDateTime(dump_only=True)


class WorkerReportGrantSchema(BaseSchema):
    id = Integer(dump_only=True)
    user = fields.Nested(UserRefSchema, dump_only=True)
    created_dt = fields.AwareDateTime(dump_only=True)


class WorkerReportDetailSchema(WorkerReportSchema):
    """A report's metadata with its files and the coordinators it is shared with (for its monitors)."""

    evidence = fields.List(fields.Nested(ReportEvidenceSchema), dump_only=True)
    grants = fields.List(fields.Nested(WorkerReportGrantSchema), dump_only=True)


class WorkerIdentitySchema(BaseSchema):
    name = fields.String(dump_only=True)
    contact = fields.String(dump_only=True)
    employee_number = fields.String(dump_only=True)
    employer = fields.String(dump_only=True)
    nationality = fields.String(dump_only=True)
    gender = fields.String(dump_only=True)
    age_band = fields.String(dump_only=True)


class ReportMessageSchema(BaseSchema):
    """A message of the conversation with the worker (metadata)."""

    id = Integer(dump_only=True)
    from_worker = fields.Boolean(dump_only=True)
    author = fields.Nested(UserRefSchema, dump_only=True, allow_none=True)
    created_dt = fields.AwareDateTime(dump_only=True)


class OpenedReportMessageSchema(BaseSchema):
    id = Integer(attribute="message.id", dump_only=True)
    from_worker = fields.Boolean(attribute="message.from_worker", dump_only=True)
    author = fields.Nested(UserRefSchema, attribute="message.author", dump_only=True, allow_none=True)
    created_dt = fields.AwareDateTime(attribute="message.created_dt", dump_only=True)
    body = fields.String(dump_only=True)


class OpenedWorkerReportSchema(BaseSchema):
    """The decrypted content of a report: the answer to one audited opening."""

    report = fields.Nested(WorkerReportSchema, dump_only=True)
    identity = fields.Nested(
        WorkerIdentitySchema, attribute="content.identity", dump_only=True, allow_none=True
    )
    testimony = fields.String(attribute="content.testimony", dump_only=True)
    workplace = fields.String(attribute="content.workplace", dump_only=True)
    messages = fields.List(
        fields.Nested(OpenedReportMessageSchema),
        dump_only=True,
        allow_none=True,
        metadata={"description": _l("The conversation with the worker; null for coordinators.")},
    )


class MonitorCoverageSchema(BaseSchema):
    id = Integer(dump_only=True)
    country = fields.String(dump_only=True, allow_none=True)
    is_fallback = fields.Boolean(dump_only=True)
    organisation = fields.Nested(OrganisationRefSchema, dump_only=True)
    can_receive = fields.Boolean(
        dump_only=True,
        metadata={"description": _l("Whether the organisation has a key, so reports can be sealed to it.")},
    )


class ReportKeyVersionSchema(BaseSchema):
    version = Integer(attribute="key.version", dump_only=True)
    algorithm = fields.Enum(
        KeyAlgorithm,
        by_value=True,
        attribute="key.algorithm",
        dump_only=True,
        metadata={
            "description": _l("The HPKE suite: the post-quantum hybrid, or X25519 for older versions.")
        },
    )
    created_dt = fields.AwareDateTime(attribute="key.created_dt", dump_only=True)
    retired_dt = fields.AwareDateTime(attribute="key.retired_dt", dump_only=True, allow_none=True)
    reports = Integer(dump_only=True)
    messages = Integer(dump_only=True)
    files = Integer(dump_only=True)


class ReportKeyVersionsSchema(BaseSchema):
    current_version = Integer(dump_only=True, allow_none=True)
    current_algorithm = fields.Enum(KeyAlgorithm, by_value=True, dump_only=True, allow_none=True)
    to_rewrap = Integer(
        dump_only=True,
        metadata={
            "description": _l("Keys still sealed to an older version, or not yet bound to their report.")
        },
    )
    to_reencrypt = Integer(
        dump_only=True,
        metadata={
            "description": _l(
                "Reports whose data key is older than the newest version (someone left since): "
                "re-encrypt them so that an older version's key opens nothing."
            )
        },
    )
    recovery_post_quantum = fields.Boolean(
        dump_only=True,
        metadata={
            "description": _l("Whether every version in use is sealed to a post-quantum recovery key.")
        },
    )
    versions = fields.List(fields.Nested(ReportKeyVersionSchema), dump_only=True)


class _KeyVersionsResultSchema(BaseSchema):
    """The state after the run (the fields of ReportKeyVersionsSchema), read from ``state``."""

    current_version = Integer(attribute="state.current_version", dump_only=True, allow_none=True)
    current_algorithm = fields.Enum(
        KeyAlgorithm, by_value=True, attribute="state.current_algorithm", dump_only=True, allow_none=True
    )
    to_rewrap = Integer(attribute="state.to_rewrap", dump_only=True)
    to_reencrypt = Integer(attribute="state.to_reencrypt", dump_only=True)
    recovery_post_quantum = fields.Boolean(attribute="state.recovery_post_quantum", dump_only=True)
    versions = fields.List(fields.Nested(ReportKeyVersionSchema), attribute="state.versions", dump_only=True)


class RewrapReportKeysResultSchema(_KeyVersionsResultSchema):
    rewrapped = Integer(dump_only=True)
    retired_versions = fields.List(Integer(), dump_only=True)


class ReencryptReportsResultSchema(_KeyVersionsResultSchema):
    reencrypted = Integer(dump_only=True, metadata={"description": _l("Reports re-encrypted now.")})
    messages = Integer(dump_only=True)
    files = Integer(dump_only=True)
    retired_versions = fields.List(Integer(), dump_only=True)


class RecoveryKeyUpgradeResultSchema(_KeyVersionsResultSchema):
    upgraded_versions = fields.List(Integer(), dump_only=True)


# --- input --------------------------------------------------------------------------------------

_identity_length = validate.Length(
    max=MAX_IDENTITY_FIELD_LENGTH, error=_l("At most %(num)d characters.", num=MAX_IDENTITY_FIELD_LENGTH)
)


class WorkerIdentityArgs(BaseSchema):
    """Who the worker is; every field is optional and sealed."""

    name = fields.String(load_default="", validate=_identity_length)
    contact = fields.String(load_default="", validate=_identity_length)
    employee_number = fields.String(load_default="", validate=_identity_length)
    employer = fields.String(
        load_default="", validate=_identity_length, metadata={"description": _l("Employer or agency.")}
    )
    nationality = fields.String(
        load_default="",
        validate=validate.Length(max=2),
        metadata={"description": _l("ISO 3166-1 alpha-2 code.")},
    )
    gender = fields.String(load_default="", validate=validate.OneOf(["", *(g.value for g in Gender)]))
    age_band = fields.String(load_default="", validate=validate.OneOf(["", *(a.value for a in AgeBand)]))


class CreateWorkerReportArgs(BaseSchema):
    site_id = Integer(
        allow_none=True, metadata={"description": _l("A workplace of the registry; or give the country.")}
    )
    country = fields.String(
        allow_none=True,
        validate=validate.Length(equal=2, error=_l("Give the country as a two-letter ISO code.")),
        metadata={"description": _l("ISO 3166-1 alpha-2 code, when the workplace is not in the registry.")},
    )
    workplace = fields.String(
        load_default="",
        validate=validate.Length(max=MAX_WORKPLACE_LENGTH),
        metadata={"description": _l("The workplace in the worker's words (sealed).")},
    )
    channel = fields.Enum(
        ReportChannel,
        by_value=True,
        required=True,
        validate=validate.OneOf(INTAKE_CHANNELS, error=_l("Web reports are filed by workers themselves.")),
    )
    collected_date = fields.Date(required=True)
    language = fields.String(
        required=True,
        validate=validate.OneOf(WORKER_LANGUAGES, error=_l("This language is not available.")),
    )
    identity = fields.Nested(WorkerIdentityArgs, load_default=dict)
    testimony = fields.String(
        required=True,
        validate=validate.Length(min=1, max=MAX_TESTIMONY_LENGTH),
        metadata={"description": _l("What the worker said (sealed).")},
    )
    categories = fields.List(fields.Enum(IssueCategory, by_value=True), load_default=list)
    consent_share_buyers = fields.Boolean(load_default=False)
    consent_share_supplier = fields.Boolean(load_default=False)
    consent_contact = fields.Boolean(load_default=False)
    retaliation_risk = fields.Enum(RetaliationRisk, by_value=True, allow_none=True, load_default=None)

    @validates_schema
    def _site_or_country(self, data: dict[str, Any], **kwargs: object) -> None:
        if data.get("site_id") is None and not data.get("country"):
            raise ValidationError(_l("Give the workplace (site_id) or at least its country."), "country")


class ListWorkerReportsArgs(PageArgs):
    status = fields.Enum(ReportStatus, by_value=True)
    channel = fields.Enum(ReportChannel, by_value=True)
    country = fields.String(validate=validate.Length(equal=2))
    site_id = Integer()
    overdue = fields.Boolean(metadata={"description": _l("Only reports whose deadline has passed.")})
    awaiting_acknowledgement = fields.Boolean(
        metadata={"description": _l("Only direct reports (web, hotline) that are not acknowledged yet.")}
    )
    unread = fields.Boolean(
        metadata={"description": _l("Only reports with worker messages you have not read.")}
    )
    retaliation_risk = fields.Enum(RetaliationRisk, by_value=True)


class OpenSealedArgs(BaseSchema):
    reason = fields.Enum(OpenReason, by_value=True, required=True)
    reason_text = fields.String(
        load_default="",
        validate=validate.Length(max=MAX_REASON_LENGTH),
        metadata={"description": _l("Required when the reason is “other”.")},
    )


class SetReportStatusArgs(BaseSchema):
    status = fields.Enum(ReportStatus, by_value=True, required=True)


class ReplyToWorkerArgs(BaseSchema):
    body = fields.String(required=True, validate=validate.Length(min=1, max=MAX_MESSAGE_LENGTH))
    feedback = fields.Boolean(
        load_default=False,
        metadata={"description": _l("This message tells the worker what is being done (stops the clock).")},
    )


class ShareReportArgs(BaseSchema):
    user_id = Integer(required=True, strict=True)


class SetMonitorCoverageArgs(BaseSchema):
    organisation_id = Integer(required=True, strict=True)
    country = fields.String(
        required=True,
        allow_none=True,
        validate=validate.Length(equal=2, error=_l("Give the country as a two-letter ISO code.")),
        metadata={"description": _l("ISO 3166-1 alpha-2 code; null for every country nobody covers.")},
    )


class ListMonitorCoverageArgs(PageArgs):
    """Paging through the routing table, by country (the fallback last)."""


class RewrapReportKeysArgs(BaseSchema):
    batch_size = Integer(load_default=200, validate=validate.Range(min=1, max=1000))
    max_batches = Integer(load_default=10, validate=validate.Range(min=1, max=100))


class ReencryptReportsArgs(BaseSchema):
    batch_size = Integer(
        load_default=20,
        validate=validate.Range(min=1, max=200),
        metadata={"description": _l("Reports per batch (each with all its messages and files).")},
    )
    max_batches = Integer(load_default=5, validate=validate.Range(min=1, max=100))


class UpgradeRecoveryKeyArgs(BaseSchema):
    recovery_code = fields.String(required=True, validate=validate.Length(min=1, max=200))


class UploadEvidenceArgs(BaseSchema):
    """The query string of an upload; the file itself is the request body."""

    filename = fields.String(required=True, validate=validate.Length(min=1, max=255))


# --- survey imports ------------------------------------------------------------------------------


class SurveyImportSchema(BaseSchema):
    """One imported survey export: how many reports it made, when and by whom."""

    id = Integer(dump_only=True)
    organisation_id = Integer(dump_only=True)
    rows = Integer(dump_only=True, metadata={"description": _l("Reports created from the file.")})
    skipped = Integer(
        dump_only=True,
        metadata={"description": _l("Answers skipped because an earlier import holds them (same _uuid).")},
    )
    imported_dt = fields.AwareDateTime(dump_only=True)
    imported_by_id = Integer(dump_only=True, allow_none=True)
    site_id = Integer(
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
    site_id = Integer(
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


# --- routing consent -----------------------------------------------------------------------------


class CoverageChangeSchema(BaseSchema):
    """A change of who receives a country's worker reports (metadata only)."""

    id = Integer(dump_only=True)
    country = fields.String(
        dump_only=True, allow_none=True, metadata={"description": _l("Null: every country without a route.")}
    )
    from_organisation = fields.Nested(
        OrganisationRefSchema,
        dump_only=True,
        allow_none=True,
        metadata={"description": _l("Who receives these reports today (null: nobody).")},
    )
    to_organisation = fields.Nested(
        OrganisationRefSchema,
        dump_only=True,
        allow_none=True,
        metadata={"description": _l("Who is to receive them (null: the country's own route is removed).")},
    )
    state = fields.Enum(CoverageChangeState, by_value=True, dump_only=True)
    requested_by = fields.Nested(UserRefSchema, dump_only=True, allow_none=True)
    requested_dt = fields.AwareDateTime(dump_only=True)
    effective_dt = fields.AwareDateTime(
        dump_only=True,
        metadata={
            "description": _l("When a waiting change takes effect unless confirmed sooner or objected to.")
        },
    )
    decided_by = fields.Nested(UserRefSchema, dump_only=True, allow_none=True)
    decided_dt = fields.AwareDateTime(dump_only=True, allow_none=True)
    applied_dt = fields.AwareDateTime(dump_only=True, allow_none=True)


class ListCoverageChangesArgs(PageArgs):
    """Paging through the changes the user may see, newest first."""


class OurRoutingSchema(BaseSchema):
    organisation = fields.Nested(OrganisationRefSchema, dump_only=True)
    fingerprint = fields.String(
        dump_only=True,
        metadata={
            "description": _l(
                "The short fingerprint of the organisation's current key that workers see on the report "
                "page; print it on posters and cards. Empty while the organisation has no key."
            )
        },
    )
    countries = fields.List(fields.String(), dump_only=True)
    fallback = fields.Boolean(
        dump_only=True,
        metadata={"description": _l("Also receives every country without a route of its own.")},
    )


class ListAuditTrailArgs(PageArgs):
    """Paging through the audit trail of the organisation's reports, newest first."""
