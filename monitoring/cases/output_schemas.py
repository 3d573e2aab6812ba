"""Output schemas of the findings, cases, corrective-actions and dialogue API.

Output is chosen per role: the API dumps the objects :mod:`monitoring.cases.services_shown`
wraps for the user asking, which leave out what the user may not read (marshmallow skips a
field whose attribute is missing) and replace what is shown differently (workers affected below
5 for buyers and suppliers). The input ``Args`` are in :mod:`monitoring.cases.schemas`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from marshmallow import fields, validate

from monitoring.accounts.schemas import OrganisationRefSchema
from monitoring.cases.models import (
    ActionState,
    CaseOutcome,
    CaseState,
    EventKind,
    EvidenceType,
    Finding,
    RemedyKind,
    Severity,
    Visibility,
)
from monitoring.cases.standards import get_standard
from monitoring.core.schemas import BaseSchema, DecimalString, Integer
from monitoring.supplychain.schemas import SiteRefSchema


class PersonSchema(BaseSchema):
    """A user in brief, as shown to everyone taking part in a case."""

    id = Integer(dump_only=True)
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

    id = Integer(dump_only=True)
    standard = fields.String(
        dump_only=True, metadata={"description": _l("The code of the standard breached.")}
    )
    standard_title = fields.Function(_standard_title, dump_only=True, metadata={"type": "string"})
    severity = fields.Enum(Severity, by_value=True, dump_only=True)


class FindingSchema(BaseSchema):
    """A finding. ``summary`` is left out for suppliers, ``report_ids`` for everyone but the
    monitors of the finding's organisation."""

    id = Integer(dump_only=True)
    site = fields.Nested(SiteRefSchema, dump_only=True)
    organisation = fields.Nested(
        OrganisationRefSchema, dump_only=True, metadata={"description": _l("The monitoring organisation.")}
    )
    case_id = Integer(dump_only=True, allow_none=True)
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
    workers_affected = Integer(
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
        Integer(),
        dump_only=True,
        metadata={"description": _l("The supporting worker reports; only for monitors of the organisation.")},
    )
    created_dt = fields.AwareDateTime(dump_only=True)


class CaseSchema(BaseSchema):
    """A case in a list. Suppliers see its site, reference and state."""

    id = Integer(dump_only=True)
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


def _iso(value: Any) -> Any:
    return None if value is None else value.isoformat()


def _value(member: Any) -> Any:
    return None if member is None else member.value


def case_list_items(rows: Iterable[Sequence[Any]], today: date, *, people: bool) -> list[dict[str, Any]]:
    """The rows of ``services_lists.case_brief_page`` dumped as :class:`CaseSchema` dumps
    ``services_lists.case_briefs`` of them: the same JSON, read straight from the 19 columns.

    An API list of 50 cases through the schema (four objects a case, a field at a time) cost as
    much as its query. ``people`` is ``permissions.sees_people``: without it (suppliers) only the
    site, reference, state and dates, as ``case_briefs`` leaves the rest out.
    ``tests/cases/test_case_list_items.py`` compares both, for every role and every state.
    """
    items = []
    for row in rows:
        (case_id, reference, state, severity, outcome, opened, changed, closed) = row[:8]
        site_id, site_name, city, country, site_kind, org_id, org_name, org_kind, lead_id, lead, due = row[8:]
        item: dict[str, Any] = {
            "id": case_id,
            "reference": reference,
            "state": _value(state),
            "opened_dt": _iso(opened),
            "state_changed_dt": _iso(changed),
            "closed_dt": _iso(closed),
            "site": {
                "id": site_id,
                "name": site_name,
                "city": city,
                "country": country,
                "kind": _value(site_kind),
            },
        }
        if people:
            item["monitor_organisation"] = {"id": org_id, "name": org_name, "kind": _value(org_kind)}
            item["lead_coordinator"] = None if lead_id is None else {"id": lead_id, "name": lead}
            item["severity"] = _value(severity)
            item["outcome"] = _value(outcome)
            item["next_due_date"] = _iso(due)
            item["overdue"] = due is not None and due < today
        items.append(item)
    return items


class ConcernedOrganisationsSchema(BaseSchema):
    organisations = fields.List(fields.Nested(OrganisationRefSchema), dump_only=True)
    others = Integer(
        dump_only=True,
        allow_none=True,
        metadata={"description": _l("For an affiliate: how many other affiliates the case concerns.")},
    )


class ActionSummarySchema(BaseSchema):
    """A corrective action in brief."""

    id = Integer(dump_only=True)
    case_id = Integer(dump_only=True)
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
    amount = DecimalString(places=2, dump_only=True, allow_none=True)
    currency = fields.String(dump_only=True, allow_none=True)
    workers_covered = Integer(dump_only=True, allow_none=True)
    workers_covered_suppressed = fields.Boolean(dump_only=True)
    description = fields.String(dump_only=True, allow_none=True)


class CaseClosureSchema(BaseSchema):
    """A closing of a case; ``note`` is left out for everyone but coordinators and the case's
    monitors."""

    id = Integer(dump_only=True)
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
    validation_answers = Integer(
        dump_only=True,
        allow_none=True,
        metadata={
            "description": _l(
                "Priority cases: how many workers' validation answers the case had when it closed "
                "(null: not a priority case, or suppressed below 5 for buyers)."
            )
        },
    )
    validation_answers_suppressed = fields.Boolean(dump_only=True)
    no_validation_reason = fields.String(
        dump_only=True,
        allow_none=True,
        metadata={
            "description": _l(
                "Why the workers could not be asked to confirm the remedy: for coordinators and the "
                "case's monitors."
            )
        },
    )
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

    id = Integer(dump_only=True)
    name = fields.String(dump_only=True)
    content_type = fields.String(dump_only=True)
    size = Integer(dump_only=True)
    uploaded_dt = fields.AwareDateTime(dump_only=True)


class SupplierResponseSchema(BaseSchema):
    """A supplier's plan; a rejected one carries the reason."""

    id = Integer(dump_only=True)
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
    id = Integer(dump_only=True)
    case_id = Integer(dump_only=True)
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

    id = Integer(dump_only=True)
    kind = fields.Enum(EventKind, by_value=True, dump_only=True)
    title = fields.Function(lambda e: e.kind.title, dump_only=True, metadata={"type": "string"})
    action_id = Integer(dump_only=True, allow_none=True)
    finding_id = Integer(dump_only=True, allow_none=True)
    from_state = fields.String(dump_only=True, allow_none=True)
    to_state = fields.String(dump_only=True, allow_none=True)
    visibility = fields.Enum(Visibility, by_value=True, dump_only=True)
    actor = fields.Nested(PersonSchema, dump_only=True, allow_none=True)
    note = fields.String(dump_only=True, allow_none=True, metadata={"description": _l("A reason or a note.")})
    due_date = fields.Date(dump_only=True, allow_none=True, metadata={"description": _l("A new deadline.")})
    created_dt = fields.AwareDateTime(dump_only=True)


class DeadlineSchema(BaseSchema):
    action_id = Integer(dump_only=True)
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
