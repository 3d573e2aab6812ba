"""Input and output schemas of the findings, cases, corrective-actions and dialogue API.

Output is chosen per role: the API wraps each object in a :class:`Shown` built by the
``show_*`` functions below for the user asking, which leave out what the user may not read
(marshmallow skips a field whose attribute is missing) and replace what is shown differently
(workers affected below 5 for buyers and suppliers). marshmallow 4 has no schema context, so
the user is passed explicitly to those functions, never to the schemas.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError, fields, post_load, validate, validates_schema
from werkzeug.datastructures import FileStorage

from monitoring.accounts.models import User
from monitoring.accounts.schemas import OrganisationRefSchema
from monitoring.cases import deadlines, permissions
from monitoring.cases.files import MAX_FILES
from monitoring.cases.models import (
    MONETARY_REMEDIES,
    ActionState,
    Case,
    CaseClosure,
    CaseOutcome,
    CaseState,
    CorrectiveAction,
    EventKind,
    EvidenceType,
    Finding,
    RemedyKind,
    Severity,
    Visibility,
)
from monitoring.cases.operations import MAX_REMEDY_TEXT, MAX_SUMMARY, MAX_TEXT
from monitoring.cases.standards import STANDARDS, Standard, get_standard, groups
from monitoring.cases.timeline import TimelineItem
from monitoring.core.schemas import BaseSchema, PageArgs
from monitoring.supplychain.schemas import SiteRefSchema

MAX_REASON_LENGTH = 2000
MAX_IDS = 100

# --- what a user is shown ---------------------------------------------------------------------


class Shown:
    """An object as one user may see it.

    Attributes read through to the object, except ``hidden`` ones (missing, so the field is left
    out of the answer) and ``extra`` ones (added or replaced, e.g. a suppressed count).
    """

    __slots__ = ("_extra", "_hidden", "_obj")

    def __init__(self, obj: Any, hidden: Iterable[str] = (), **extra: Any) -> None:
        object.__setattr__(self, "_obj", obj)
        object.__setattr__(self, "_hidden", frozenset(hidden))
        object.__setattr__(self, "_extra", extra)

    def __getattr__(self, name: str) -> Any:
        if name in self._hidden:
            raise AttributeError(name)
        if name in self._extra:
            return self._extra[name]
        return getattr(self._obj, name)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("a shown object is read-only")


def _workers(user: User, count: int | None) -> dict[str, Any]:
    shown = permissions.shown_workers(user, count)
    return {"shown": shown, "suppressed": count is not None and shown is None}


def show_finding(user: User, finding: Finding) -> Shown:
    """A finding for ``user``: report links only for monitors of its organisation, no summary for
    suppliers, and workers affected below 5 suppressed for buyers and suppliers."""
    hidden = set()
    extra: dict[str, Any] = {}
    if permissions.can_see_report_links(user, finding):
        extra["report_ids"] = sorted(link.report_id for link in finding.report_links)
    else:
        hidden.add("report_ids")
    if not permissions.can_see_finding_summary(user, finding):
        hidden.add("summary")
    if permissions.is_supplier(user):
        hidden |= {"organisation", "evidence_type", "found_date", "created_dt"}
    workers = _workers(user, finding.workers_affected)
    extra["workers_affected"] = workers["shown"]
    extra["workers_affected_suppressed"] = workers["suppressed"]
    return Shown(finding, hidden, **extra)


def show_case(
    user: User, case: Case, next_due_date: date | None, today: date, hidden: Iterable[str] = (), **extra: Any
) -> Shown:
    """A case for ``user``: suppliers see its site, reference and state only."""
    hidden = set(hidden)
    if permissions.is_supplier(user):
        hidden |= {
            "monitor_organisation",
            "lead_coordinator",
            "severity",
            "outcome",
            "next_due_date",
            "overdue",
        }
    return Shown(
        case,
        hidden,
        next_due_date=next_due_date,
        overdue=next_due_date is not None and next_due_date < today,
        **extra,
    )


def show_action(user: User, action: CorrectiveAction, today: date, **extra: Any) -> Shown:
    """A corrective action for ``user``: its deadline now, the finding as the user may see it."""
    hidden: set[str] = set()
    if not permissions.reads_whole_case(user, action.case):
        hidden |= {"escalated_dt"}
    return Shown(
        action,
        hidden,
        case_reference=action.case.reference,
        finding=show_finding(user, action.finding),
        due_date=deadlines.due_date(action),
        phase=deadlines.due_phase(action),
        overdue=deadlines.is_overdue(action, today),
        **extra,
    )


def show_closure(user: User, closure: CaseClosure) -> Shown:
    """A closing of a case with its remedies (workers covered suppressed below 5 for buyers); its
    note only for those who read closing notes."""
    remedies = []
    for remedy in closure.remedies:
        workers = _workers(user, remedy.workers_covered)
        remedies.append(
            Shown(remedy, workers_covered=workers["shown"], workers_covered_suppressed=workers["suppressed"])
        )
    hidden = () if permissions.can_read_closure_note(user, closure.case) else ("note",)
    return Shown(
        closure, hidden, workers_consulted=closure.workers_consulted_dt is not None, remedies=remedies
    )


def show_standard(standard: Standard) -> Shown:
    """A standard with the titles of its RBA sections, in the user's language."""
    sections = [
        {"code": code, "title": title} for code, title in zip(standard.rba, standard.rba_titles, strict=True)
    ]
    return Shown(standard, title=str(standard.title), ilo=list(standard.ilo), rba=sections)


def show_timeline_item(item: TimelineItem) -> Shown:
    """A timeline line; a deadline carries its action, phase, date and whether it passed."""
    deadline = None
    if item.kind == "deadline" and item.action is not None:
        deadline = {
            "action_id": item.action.id,
            "phase": item.phase,
            "due_date": item.due_date,
            "overdue": item.overdue,
        }
    return Shown(item, deadline=deadline)


# --- output -------------------------------------------------------------------------------------


class PersonSchema(BaseSchema):
    """A user in brief, as shown to everyone taking part in a case."""

    id = fields.Integer(dump_only=True)
    name = fields.String(dump_only=True)


class AuthorSchema(PersonSchema):
    organisation = fields.Nested(OrganisationRefSchema, dump_only=True)


class RbaSectionSchema(BaseSchema):
    """A section of the RBA Code of Conduct."""

    code = fields.String(dump_only=True)
    title = fields.String(dump_only=True)


class StandardSchema(BaseSchema):
    """A standard of the code of labour standards, its title in the user's language."""

    code = fields.String(dump_only=True, metadata={"description": _l("e.g. FL (a group) or FL-1.")})
    title = fields.String(dump_only=True)
    group = fields.String(
        dump_only=True, metadata={"description": _l("The code of its top-level standard (itself for one).")}
    )
    is_group = fields.Boolean(dump_only=True)
    ilo = fields.List(
        fields.String(),
        dump_only=True,
        metadata={"description": _l("ILO conventions and protocols it rests on, e.g. C029.")},
    )
    rba = fields.List(
        fields.Nested(RbaSectionSchema),
        dump_only=True,
        metadata={"description": _l("The matching sections of the RBA Code of Conduct.")},
    )


def _standard_title(finding: Finding) -> str:
    standard = get_standard(finding.standard)
    return str(standard.title) if standard else finding.standard


def _category(finding: Finding) -> str:
    standard = get_standard(finding.standard)
    return standard.group if standard else finding.standard


class FindingRefSchema(BaseSchema):
    """A finding in brief: what every reader of its corrective actions may know."""

    id = fields.Integer(dump_only=True)
    standard = fields.String(
        dump_only=True, metadata={"description": _l("The code of the standard breached.")}
    )
    standard_title = fields.Function(_standard_title, dump_only=True, metadata={"type": "string"})
    severity = fields.Enum(Severity, by_value=True, dump_only=True)


class FindingSchema(BaseSchema):
    """A finding. ``summary`` is left out for suppliers, ``report_ids`` for everyone but the
    monitors of the finding's organisation."""

    id = fields.Integer(dump_only=True)
    site = fields.Nested(SiteRefSchema, dump_only=True)
    organisation = fields.Nested(
        OrganisationRefSchema, dump_only=True, metadata={"description": _l("The monitoring organisation.")}
    )
    case_id = fields.Integer(dump_only=True, allow_none=True)
    standard = fields.String(
        dump_only=True, metadata={"description": _l("The code of the standard breached.")}
    )
    standard_title = fields.Function(_standard_title, dump_only=True, metadata={"type": "string"})
    category = fields.Function(
        _category,
        dump_only=True,
        metadata={"type": "string", "description": _l("The top-level standard (group) of the standard.")},
    )
    severity = fields.Enum(Severity, by_value=True, dump_only=True)
    workers_affected = fields.Integer(
        dump_only=True,
        allow_none=True,
        metadata={"description": _l("Null when unknown, or suppressed (below 5) for buyers and suppliers.")},
    )
    workers_affected_suppressed = fields.Boolean(
        dump_only=True, metadata={"description": _l("True when fewer than 5 workers are affected.")}
    )
    evidence_type = fields.Enum(EvidenceType, by_value=True, dump_only=True)
    found_date = fields.Date(dump_only=True)
    summary = fields.String(dump_only=True, metadata={"description": _l("The shareable summary.")})
    report_ids = fields.List(
        fields.Integer(),
        dump_only=True,
        metadata={"description": _l("The supporting worker reports; only for monitors of the organisation.")},
    )
    created_dt = fields.AwareDateTime(dump_only=True)


class CaseSchema(BaseSchema):
    """A case in a list. Suppliers see its site, reference and state."""

    id = fields.Integer(dump_only=True)
    reference = fields.String(dump_only=True, metadata={"description": _l("e.g. C-2026-0007.")})
    site = fields.Nested(SiteRefSchema, dump_only=True)
    monitor_organisation = fields.Nested(OrganisationRefSchema, dump_only=True)
    lead_coordinator = fields.Nested(PersonSchema, dump_only=True, allow_none=True)
    state = fields.Enum(CaseState, by_value=True, dump_only=True)
    severity = fields.Enum(
        Severity, by_value=True, dump_only=True, metadata={"description": _l("The highest of its findings.")}
    )
    outcome = fields.Enum(CaseOutcome, by_value=True, dump_only=True, allow_none=True)
    opened_dt = fields.AwareDateTime(dump_only=True)
    state_changed_dt = fields.AwareDateTime(dump_only=True)
    closed_dt = fields.AwareDateTime(dump_only=True, allow_none=True)
    next_due_date = fields.Date(
        dump_only=True,
        allow_none=True,
        metadata={"description": _l("The earliest deadline of its open corrective actions.")},
    )
    overdue = fields.Boolean(dump_only=True)


class ConcernedOrganisationsSchema(BaseSchema):
    organisations = fields.List(fields.Nested(OrganisationRefSchema), dump_only=True)
    others = fields.Integer(
        dump_only=True,
        allow_none=True,
        metadata={"description": _l("For an affiliate: how many other affiliates the case concerns.")},
    )


class ActionSummarySchema(BaseSchema):
    """A corrective action in brief."""

    id = fields.Integer(dump_only=True)
    case_id = fields.Integer(dump_only=True)
    case_reference = fields.String(dump_only=True)
    finding = fields.Nested(FindingRefSchema, dump_only=True)
    supplier = fields.Nested(OrganisationRefSchema, dump_only=True)
    state = fields.Enum(ActionState, by_value=True, dump_only=True)
    severity = fields.Enum(Severity, by_value=True, dump_only=True)
    plan_due_date = fields.Date(dump_only=True)
    closure_due_date = fields.Date(dump_only=True)
    due_date = fields.Date(
        dump_only=True, allow_none=True, metadata={"description": _l("What is due next, and when.")}
    )
    phase = fields.String(
        dump_only=True,
        allow_none=True,
        validate=validate.OneOf(["plan", "closure"]),
        metadata={"description": _l("plan: a plan is due; closure: the action is due to be done.")},
    )
    overdue = fields.Boolean(dump_only=True)
    requested_dt = fields.AwareDateTime(dump_only=True)
    state_changed_dt = fields.AwareDateTime(dump_only=True)
    escalated_dt = fields.AwareDateTime(
        dump_only=True,
        allow_none=True,
        metadata={"description": _l("When the overdue action was escalated (coordinators and monitors).")},
    )
    closed_dt = fields.AwareDateTime(dump_only=True, allow_none=True)


class RemedySchema(BaseSchema):
    kind = fields.Enum(RemedyKind, by_value=True, dump_only=True)
    amount = fields.Decimal(places=2, as_string=True, dump_only=True, allow_none=True)
    currency = fields.String(dump_only=True, allow_none=True)
    workers_covered = fields.Integer(dump_only=True, allow_none=True)
    workers_covered_suppressed = fields.Boolean(dump_only=True)
    description = fields.String(dump_only=True, allow_none=True)


class CaseClosureSchema(BaseSchema):
    """A closing of a case; ``note`` is left out for everyone but coordinators and the case's
    monitors."""

    id = fields.Integer(dump_only=True)
    outcome = fields.Enum(CaseOutcome, by_value=True, dump_only=True)
    note = fields.String(
        dump_only=True,
        allow_none=True,
        metadata={"description": _l("The closing note: for coordinators and the case's monitors.")},
    )
    closed_dt = fields.AwareDateTime(dump_only=True)
    workers_consulted = fields.Boolean(
        dump_only=True,
        metadata={"description": _l("A monitor confirmed the affected workers were consulted.")},
    )
    remedies = fields.List(fields.Nested(RemedySchema), dump_only=True)
    reopened_dt = fields.AwareDateTime(dump_only=True, allow_none=True)
    reopen_reason = fields.String(dump_only=True, allow_none=True)


class CaseDetailSchema(CaseSchema):
    """A case with what its page shows, as the user may see it."""

    affiliates = fields.Nested(
        ConcernedOrganisationsSchema,
        dump_only=True,
        metadata={
            "description": _l(
                "The affiliates whose contracts reach the site today: every one for coordinators and "
                "monitors; an affiliate sees itself and the number of others."
            )
        },
    )
    suppliers = fields.List(
        fields.Nested(OrganisationRefSchema),
        dump_only=True,
        metadata={"description": _l("The suppliers concerned (coordinators and monitors).")},
    )
    findings = fields.List(fields.Nested(FindingSchema), dump_only=True)
    actions = fields.List(fields.Nested(ActionSummarySchema), dump_only=True)
    closures = fields.List(fields.Nested(CaseClosureSchema), dump_only=True)
    transitions = fields.List(
        fields.String(),
        dump_only=True,
        metadata={
            "description": _l("The state changes you may make now (see /transitions, /closure, /reopen).")
        },
    )


class CaseFileSchema(BaseSchema):
    """An encrypted file's metadata and name."""

    id = fields.Integer(dump_only=True)
    name = fields.String(dump_only=True)
    content_type = fields.String(dump_only=True)
    size = fields.Integer(dump_only=True)
    uploaded_dt = fields.AwareDateTime(dump_only=True)


class SupplierResponseSchema(BaseSchema):
    """A supplier's plan; a rejected one carries the reason."""

    id = fields.Integer(dump_only=True)
    root_cause = fields.String(dump_only=True)
    corrective = fields.String(dump_only=True)
    preventive = fields.String(dump_only=True)
    target_date = fields.Date(dump_only=True)
    submitted_dt = fields.AwareDateTime(dump_only=True)
    accepted = fields.Boolean(
        dump_only=True, allow_none=True, metadata={"description": _l("Null: undecided.")}
    )
    decided_dt = fields.AwareDateTime(dump_only=True, allow_none=True)
    rejection_reason = fields.String(dump_only=True, allow_none=True)


class ActionSchema(ActionSummarySchema):
    """A corrective action with the request, the plans, the implementation and the verification."""

    finding = fields.Nested(FindingSchema, dump_only=True)
    request = fields.String(dump_only=True)
    responses = fields.List(fields.Nested(SupplierResponseSchema), dump_only=True)
    implementation = fields.String(dump_only=True, allow_none=True)
    implemented_dt = fields.AwareDateTime(dump_only=True, allow_none=True)
    files = fields.List(
        fields.Nested(CaseFileSchema),
        dump_only=True,
        metadata={"description": _l("Evidence of the implementation, at /actions/{id}/files/{file_id}.")},
    )
    verification = fields.String(dump_only=True, allow_none=True)
    verified_dt = fields.AwareDateTime(dump_only=True, allow_none=True)
    transitions = fields.List(
        fields.String(), dump_only=True, metadata={"description": _l("The steps you may take now.")}
    )


class MessageSchema(BaseSchema):
    id = fields.Integer(dump_only=True)
    case_id = fields.Integer(dump_only=True)
    author = fields.Nested(AuthorSchema, dump_only=True)
    visibility = fields.Enum(Visibility, by_value=True, dump_only=True)
    supplier = fields.Nested(
        OrganisationRefSchema,
        dump_only=True,
        allow_none=True,
        metadata={"description": _l("The supplier a `parties` message is shared with.")},
    )
    body = fields.String(dump_only=True)
    attachments = fields.List(
        fields.Nested(CaseFileSchema),
        dump_only=True,
        metadata={"description": _l("Files, at /cases/{id}/files/{file_id}.")},
    )
    created_dt = fields.AwareDateTime(dump_only=True)


class EventSchema(BaseSchema):
    """A state change, a request, a deadline change or an escalation."""

    id = fields.Integer(dump_only=True)
    kind = fields.Enum(EventKind, by_value=True, dump_only=True)
    title = fields.Function(lambda e: e.kind.title, dump_only=True, metadata={"type": "string"})
    action_id = fields.Integer(dump_only=True, allow_none=True)
    finding_id = fields.Integer(dump_only=True, allow_none=True)
    from_state = fields.String(dump_only=True, allow_none=True)
    to_state = fields.String(dump_only=True, allow_none=True)
    visibility = fields.Enum(Visibility, by_value=True, dump_only=True)
    actor = fields.Nested(PersonSchema, dump_only=True, allow_none=True)
    note = fields.String(dump_only=True, allow_none=True, metadata={"description": _l("A reason or a note.")})
    due_date = fields.Date(dump_only=True, allow_none=True, metadata={"description": _l("A new deadline.")})
    created_dt = fields.AwareDateTime(dump_only=True)


class DeadlineSchema(BaseSchema):
    action_id = fields.Integer(dump_only=True)
    phase = fields.String(dump_only=True, validate=validate.OneOf(["plan", "closure"]))
    due_date = fields.Date(dump_only=True)
    overdue = fields.Boolean(dump_only=True)


class TimelineItemSchema(BaseSchema):
    """One line of a case's timeline: a message, an event or a deadline ahead (or passed)."""

    id = fields.String(dump_only=True, metadata={"description": _l("Unique within the timeline.")})
    kind = fields.String(dump_only=True, validate=validate.OneOf(["message", "event", "deadline"]))
    dt = fields.AwareDateTime(dump_only=True)
    message = fields.Nested(MessageSchema, dump_only=True, allow_none=True)
    event = fields.Nested(EventSchema, dump_only=True, allow_none=True)
    deadline = fields.Nested(DeadlineSchema, dump_only=True, allow_none=True)


# --- input --------------------------------------------------------------------------------------


def _text(*, required: bool = True, max_length: int = MAX_TEXT, **kwargs: Any) -> fields.String:
    return fields.String(required=required, validate=validate.Length(min=1, max=max_length), **kwargs)


def _ids(**kwargs: Any) -> fields.List:
    return fields.List(
        fields.Integer(strict=True, validate=validate.Range(min=1)),
        validate=validate.Length(min=1, max=MAX_IDS),
        **kwargs,
    )


_GROUPS = [g.code for g in groups()]
_CODES = [s.code for s in STANDARDS]


class ListFindingsArgs(PageArgs):
    site_id = fields.Integer()
    category = fields.String(
        validate=validate.OneOf(_GROUPS), metadata={"description": _l("A top-level standard, e.g. FL.")}
    )
    severity = fields.Enum(Severity, by_value=True)
    in_case = fields.Boolean(metadata={"description": _l("true: only findings in a case; false: none.")})


class FindingArgs(BaseSchema):
    standard = fields.String(
        required=True,
        validate=validate.OneOf(_CODES),
        metadata={"description": _l("A code from /standards.")},
    )
    severity = fields.Enum(Severity, by_value=True, required=True)
    workers_affected = fields.Integer(allow_none=True, strict=True, validate=validate.Range(min=0))
    evidence_type = fields.Enum(EvidenceType, by_value=True, required=True)
    found_date = fields.Date(allow_none=True, metadata={"description": _l("Today when left out.")})
    summary = _text(
        max_length=MAX_SUMMARY,
        metadata={"description": _l("Shareable with buyers and coordinators; no worker identity.")},
    )
    report_ids = fields.List(
        fields.Integer(strict=True, validate=validate.Range(min=1)),
        validate=validate.Length(max=MAX_IDS),
        load_default=list,
        metadata={"description": _l("Worker reports of your organisation that support it.")},
    )


class FileFindingArgs(FindingArgs):
    site_id = fields.Integer(required=True, strict=True)


class UpdateFindingArgs(FindingArgs):
    """Fields left out keep their value."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(partial=True, **kwargs)

    report_ids = fields.List(
        fields.Integer(strict=True, validate=validate.Range(min=1)),
        validate=validate.Length(max=MAX_IDS),
        metadata={"description": _l("Replaces the supporting worker reports.")},
    )


class ListCasesArgs(PageArgs):
    state = fields.Enum(CaseState, by_value=True)
    severity = fields.Enum(Severity, by_value=True)
    overdue = fields.Boolean(
        metadata={"description": _l("true: only cases with an overdue corrective action.")}
    )
    country = fields.String(
        validate=validate.Regexp(r"^[A-Za-z]{2}$"), metadata={"description": _l("ISO 3166-1 alpha-2 code.")}
    )
    category = fields.String(
        validate=validate.OneOf(_GROUPS),
        metadata={"description": _l("Cases with a finding under this top-level standard, e.g. FL.")},
    )
    site_id = fields.Integer()


class OpenCaseArgs(BaseSchema):
    site_id = fields.Integer(required=True, strict=True)
    finding_ids = _ids(required=True, metadata={"description": _l("Findings at the site in no case yet.")})
    monitor_organisation_id = fields.Integer(
        allow_none=True,
        strict=True,
        metadata={"description": _l("The monitoring organisation to work the case (coordinators).")},
    )
    lead_coordinator_id = fields.Integer(allow_none=True, strict=True)


# Case transitions made through /transitions; closing and reopening have their own routes.
CASE_TRANSITION_NAMES = ("start_dialogue", "start_remediation", "start_verification", "resume_remediation")


class TransitionCaseArgs(BaseSchema):
    name = fields.String(required=True, validate=validate.OneOf(CASE_TRANSITION_NAMES))
    reason = _text(
        required=False,
        max_length=MAX_REASON_LENGTH,
        metadata={"description": _l("Needed to resume remediation.")},
    )


class RemedyArgs(BaseSchema):
    kind = fields.Enum(RemedyKind, by_value=True, required=True)
    amount = fields.Decimal(
        places=2,
        allow_none=True,
        metadata={"description": _l("Needed for money: fees repaid, back pay. Not negative.")},
    )
    currency = fields.String(
        allow_none=True,
        validate=validate.Regexp(r"^[A-Za-z]{3}$", error=_l("Give a three-letter ISO 4217 code, e.g. USD.")),
        metadata={"description": _l("ISO 4217 code; with an amount.")},
    )
    workers_covered = fields.Integer(allow_none=True, strict=True, validate=validate.Range(min=0))
    description = _text(required=False, allow_none=True, max_length=MAX_REMEDY_TEXT)

    @validates_schema
    def _money(self, data: dict[str, Any], **kwargs: Any) -> None:
        amount, currency = data.get("amount"), data.get("currency")
        if amount is not None and amount < 0:
            raise ValidationError(_l("The amount cannot be negative."), "amount")
        if data.get("kind") in MONETARY_REMEDIES and amount is None:
            raise ValidationError(_l("Give the amount paid to workers."), "amount")
        if amount is not None and not currency:
            raise ValidationError(_l("Give the currency of the amount."), "currency")
        if currency and amount is None:
            raise ValidationError(_l("Give the amount in this currency."), "amount")

    @post_load
    def _upper(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        if data.get("currency"):
            data["currency"] = data["currency"].upper()
        return data


class CloseCaseArgs(BaseSchema):
    outcome = fields.Enum(CaseOutcome, by_value=True, required=True)
    note = _text(required=False, allow_none=True)
    remedies = fields.List(fields.Nested(RemedyArgs), load_default=list, validate=validate.Length(max=20))
    workers_consulted = fields.Boolean(
        load_default=False,
        metadata={
            "description": _l(
                "You confirm that the affected workers were consulted; needed for priority findings."
            )
        },
    )


class ReasonArgs(BaseSchema):
    reason = _text(max_length=MAX_REASON_LENGTH)


class ReopenCaseArgs(ReasonArgs):
    """Why the case is reopened."""


class SetLeadArgs(BaseSchema):
    coordinator_id = fields.Integer(
        required=True, allow_none=True, strict=True, metadata={"description": _l("Null: no lead.")}
    )


class AddFindingsArgs(BaseSchema):
    finding_ids = _ids(required=True)


class ListMessagesArgs(PageArgs):
    """Newest first."""


class PostMessageArgs(BaseSchema):
    visibility = fields.Enum(
        Visibility,
        by_value=True,
        required=True,
        metadata={
            "description": _l(
                "internal: monitors and coordinators; buyers: + affiliates; parties: + a supplier."
            )
        },
    )
    body = _text()
    supplier_id = fields.Integer(
        allow_none=True,
        metadata={"description": _l("The supplier a `parties` message is for (suppliers: their own).")},
    )


MULTIPART = "multipart/form-data"


class FilePart(fields.Field):
    """A file of a ``multipart/form-data`` body (a string of bytes in OpenAPI)."""

    default_error_messages = {"invalid": _l("Send a file in this field.")}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            metadata={"type": "string", "format": "binary", **kwargs.pop("metadata", {})}, **kwargs
        )

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> FileStorage:
        if not isinstance(value, FileStorage) or not value.filename:
            raise self.make_error("invalid")
        return value


def _files(description: Any) -> fields.List:
    return fields.List(
        FilePart(), validate=validate.Length(max=MAX_FILES), metadata={"description": description}
    )


class PostMessageWithFilesArgs(PostMessageArgs):
    """The fields of a message, and its files, as ``multipart/form-data``."""

    content_type = MULTIPART

    files = _files(_l("Files to attach (PDF, photos, audio, video), each in a part named `files`."))


class ListActionsArgs(PageArgs):
    state = fields.Enum(ActionState, by_value=True)
    overdue = fields.Boolean()
    case_id = fields.Integer()


class RequestActionArgs(BaseSchema):
    finding_id = fields.Integer(required=True, strict=True)
    supplier_id = fields.Integer(
        required=True, strict=True, metadata={"description": _l("A supplier organisation the site concerns.")}
    )
    request = _text(metadata={"description": _l("What the supplier is asked to do.")})
    plan_due_date = fields.Date(
        allow_none=True, metadata={"description": _l("From the severity when left out.")}
    )
    closure_due_date = fields.Date(
        allow_none=True, metadata={"description": _l("From the severity when left out.")}
    )


class SubmitPlanArgs(BaseSchema):
    root_cause = _text()
    corrective = _text(metadata={"description": _l("The corrective action.")})
    preventive = _text(metadata={"description": _l("The preventive action.")})
    target_date = fields.Date(required=True, metadata={"description": _l("When it will be done.")})


class DecideOnPlanArgs(BaseSchema):
    accept = fields.Boolean(required=True)
    reason = _text(
        required=False, max_length=MAX_REASON_LENGTH, metadata={"description": _l("Needed to reject.")}
    )

    @validates_schema
    def _reason(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("accept") is False and not data.get("reason"):
            raise ValidationError(_l("Say why the plan is rejected."), "reason")


class ReportImplementationArgs(BaseSchema):
    """What the supplier did."""

    description = _text()


class ReportImplementationWithFilesArgs(ReportImplementationArgs):
    """What the supplier did, and its evidence, as ``multipart/form-data``."""

    content_type = MULTIPART

    files = _files(_l("Evidence files (PDF, photos, audio, video), each in a part named `files`."))


class VerifyActionArgs(BaseSchema):
    verified = fields.Boolean(required=True)
    note = _text(
        required=False, max_length=MAX_TEXT, metadata={"description": _l("Needed when not verified.")}
    )

    @validates_schema
    def _note(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("verified") is False and not data.get("note"):
            raise ValidationError(_l("Say what was not verified."), "note")


class ChangeDeadlinesArgs(BaseSchema):
    plan_due_date = fields.Date(required=True)
    closure_due_date = fields.Date(required=True)
    reason = _text(max_length=MAX_REASON_LENGTH)
