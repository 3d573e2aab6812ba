"""The service layer of findings, cases and corrective actions, shared by the pages and the API.

Loading an object the user may see (else 404), reading a page's query string or form with the
action's ``Args`` schema (:mod:`monitoring.cases.schemas`, the one the API uses), and turning
those arguments into the operation's input. Lists are in :mod:`.services_lists`, what each
role is shown in :mod:`.services_shown`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any, TypeVar

from flask import Response, abort
from flask_wtf import FlaskForm
from marshmallow import Schema, ValidationError
from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload

from monitoring.accounts.models import User
from monitoring.cases import files, operations, permissions
from monitoring.cases.models import Case, CaseFile, CaseMessage, CorrectiveAction, Finding, Visibility
from monitoring.core.db import db
from monitoring.core.downloads import attachment
from monitoring.core.forms import field_at, show_messages
from monitoring.core.types import utcnow

T = TypeVar("T")


def today() -> date:
    return utcnow().date()


def require(allowed: bool) -> None:
    """Refuse like a missing page, so a refusal tells nothing."""
    if not allowed:
        abort(404)


def _one(query: Select[T]) -> T:
    obj = db.session.scalar(query)
    if obj is None:
        abort(404)
    return obj


def load_case(user: User, case_id: int) -> Case:
    query = permissions.visible_cases(user, today()).options(joinedload(Case.lead_coordinator))
    return _one(query.where(Case.id == case_id))


def load_finding(user: User, finding_id: int) -> Finding:
    return _one(
        permissions.visible_findings(user).options(joinedload(Finding.case)).where(Finding.id == finding_id)
    )


def load_action(user: User, action_id: int) -> CorrectiveAction:
    query = permissions.visible_actions(user).options(joinedload(CorrectiveAction.case))
    return _one(query.where(CorrectiveAction.id == action_id))


def download(
    user: User, file_id: int, *, case: Case | None = None, action: CorrectiveAction | None = None
) -> Response:
    """Stream a decrypted file of the case (or the action) that the user may read, else 404.

    The file goes as an attachment no browser renders or sniffs; its reading is audited.
    """
    query = select(CaseFile).where(CaseFile.id == file_id)
    if case is not None:
        query = query.where(CaseFile.case_id == case.id)
    if action is not None:
        query = query.where(CaseFile.action_id == action.id)
    stored = db.session.scalar(query)
    if stored is None or not permissions.can_read_file(user, stored):
        abort(404)
    name, content_type, chunks = files.open_case_file(user, stored)
    fallback = f"file-{stored.id}" if case is not None else f"evidence-{stored.id}"
    return attachment(chunks, name=name, fallback=fallback, content_type=content_type, size=stored.size)


# --- input ----------------------------------------------------------------------------------------


def filter_args(
    schema: type[Schema],
    data: Mapping[str, str],
    form: FlaskForm | None = None,
    rename: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A list page's query string through the list's ``Args`` schema (the API's).

    A filter that does not parse is left out (and its message shown on the filter form), so a
    stale link still lists something.
    """
    to_args = {page: name for name, page in (rename or {}).items()}
    raw = {to_args.get(k, k): v for k, v in data.items() if v and k not in ("after", "limit")}
    try:
        return dict(schema().load(raw))
    except ValidationError as exc:
        messages = exc.normalized_messages()
        if form is not None and isinstance(messages, dict):
            shown = {
                k: v for k, v in messages.items() if field_at(form, (rename or {}).get(k, k)) is not None
            }
            show_messages(form, shown, rename)
        return dict(schema().load({k: v for k, v in raw.items() if k not in messages}))


def load_args(
    schema: type[Schema],
    form: FlaskForm,
    data: Mapping[str, Any],
    rename: Mapping[str, str] | None = None,
    *,
    validated: bool = False,
) -> dict[str, Any] | None:
    """Validate a posted form (CSRF, choices) unless ``validated``, then the values taken from it
    (empty ones left out, None only where the field allows it) with the action's ``Args``."""
    if not validated and not form.validate_on_submit():
        return None
    loader = schema()
    nullable = {name for name, field in loader.fields.items() if field.allow_none}
    given = {k: v for k, v in data.items() if v not in ("", []) and (v is not None or k in nullable)}
    try:
        return dict(loader.load(given))
    except ValidationError as exc:
        show_messages(form, exc.normalized_messages(), rename)
        return None


def finding_data(args: Mapping[str, Any], finding: Finding | None = None) -> operations.FindingData:
    """A finding's input: all of it (a new finding, the page's form), or a change of ``finding``
    where what ``args`` leaves out keeps its value (the API's PATCH)."""
    current: dict[str, Any] = {}
    if finding is not None:
        names = (
            "site_id",
            "standard",
            "severity",
            "workers_affected",
            "evidence_type",
            "found_date",
            "summary",
        )
        current = {name: getattr(finding, name) for name in names}
        current["report_ids"] = sorted(link.report_id for link in finding.report_links)
    values = {**current, **args}
    return operations.FindingData(
        site_id=values["site_id"],
        standard=values["standard"],
        severity=values["severity"],
        workers_affected=values.get("workers_affected"),
        evidence_type=values["evidence_type"],
        found_date=values.get("found_date"),
        summary=values["summary"],
        report_ids=list(values.get("report_ids", [])),
    )


def closure_data(args: Mapping[str, Any]) -> operations.ClosureData:
    remedies = [
        operations.RemedyData(
            kind=r["kind"],
            amount=r.get("amount"),
            currency=r.get("currency"),
            workers_covered=r.get("workers_covered"),
            description=r.get("description"),
        )
        for r in args["remedies"]
    ]
    return operations.ClosureData(
        outcome=args["outcome"],
        note=args.get("note"),
        remedies=remedies,
        workers_consulted=args["workers_consulted"],
        no_validation_reason=args.get("no_validation_reason"),
    )


def request_data(args: Mapping[str, Any]) -> operations.RequestData:
    return operations.RequestData(
        finding_id=args["finding_id"],
        supplier_id=args["supplier_id"],
        request=args["request"],
        plan_due_date=args.get("plan_due_date"),
        closure_due_date=args.get("closure_due_date"),
    )


def plan_data(args: Mapping[str, Any]) -> operations.PlanData:
    return operations.PlanData(
        root_cause=args["root_cause"],
        corrective=args["corrective"],
        preventive=args["preventive"],
        target_date=args["target_date"],
    )


def plan_prefill(action: CorrectiveAction) -> dict[str, Any] | None:
    """A new plan after a rejection starts from the rejected one."""
    rejected = [r for r in action.responses if r.accepted is False]
    if not rejected:
        return None
    last = rejected[-1]
    return {
        "root_cause": last.root_cause,
        "corrective": last.corrective,
        "preventive": last.preventive,
        "target_date": last.target_date,
    }


# --- operations with more than one argument's worth of glue --------------------------------------


def post_message(
    user: User, case: Case, args: Mapping[str, Any], uploads: Sequence[files.Upload] = ()
) -> CaseMessage:
    """Post a message; a ``parties`` message goes to the only supplier when none is named."""
    supplier_id = args.get("supplier_id")
    if supplier_id is None and args["visibility"] is Visibility.parties:
        choices = permissions.message_supplier_choices(user, case)
        supplier_id = choices[0] if len(choices) == 1 else None
    return operations.post_message(
        user, case, args["visibility"], args["body"], supplier_id=supplier_id, files=uploads
    )


def decide_on_plan(user: User, action: CorrectiveAction, args: Mapping[str, Any]) -> None:
    if args["accept"]:
        operations.accept_plan(user, action)
    else:
        operations.reject_plan(user, action, args["reason"])


def change_deadlines(user: User, action: CorrectiveAction, args: Mapping[str, Any]) -> None:
    operations.change_deadlines(user, action, args["plan_due_date"], args["closure_due_date"], args["reason"])


def open_case(user: User, args: Mapping[str, Any]) -> Case:
    return operations.open_case(
        user,
        args["site_id"],
        args["finding_ids"],
        monitor_organisation_id=args.get("monitor_organisation_id"),
        lead_coordinator_id=args.get("lead_coordinator_id"),
    )
