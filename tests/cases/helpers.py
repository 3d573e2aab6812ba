"""A small world for the remediation tests, built through the operations.

Affiliate A's contract with supplier X covers a laptop that X discloses at ``site`` (CN);
affiliate B's contract with supplier Y covers a phone made at ``other_site`` only. The monitor
organisation ``monitors`` works the cases; ``other_monitor`` belongs to another monitor
organisation. Every builder runs in its own application context, commits (a savepoint of the
test's transaction) and returns ids, so no test holds an app context while using a client.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from monitoring.accounts.models import Organisation, User
from monitoring.cases import operations
from monitoring.cases.models import (
    ActionState,
    Case,
    CaseEvent,
    CaseOutcome,
    CaseState,
    CorrectiveAction,
    EvidenceType,
    Finding,
    RemedyKind,
    Severity,
)
from monitoring.core.audit import AuditEntry
from monitoring.core.db import db
from tests.supplychain.helpers import Registry

_counter = itertools.count(1)

# The path of an action through its states, and who takes each step (a world attribute).
ACTION_PATH: list[tuple[ActionState, str]] = [
    (ActionState.plan_submitted, "supplier"),
    (ActionState.plan_accepted, "coordinator"),
    (ActionState.implemented, "supplier"),
    (ActionState.verified, "monitor"),
    (ActionState.closed, "coordinator"),
]
CASE_PATH: list[tuple[CaseState, str]] = [
    (CaseState.in_dialogue, "start_dialogue"),
    (CaseState.remediation, "start_remediation"),
    (CaseState.verification, "start_verification"),
]


@dataclass
class CaseWorld:
    app: Flask
    registry: Registry
    users: dict[str, User] = field(default_factory=dict)
    orgs: dict[str, int] = field(default_factory=dict)
    site: int = 0
    other_site: int = 0
    products: dict[str, int] = field(default_factory=dict)
    contracts: dict[str, int] = field(default_factory=dict)

    # --- shortcuts ---------------------------------------------------------------------------

    def __getattr__(self, name: str) -> User:
        users = self.__dict__.get("users", {})
        if name in users:
            return users[name]
        raise AttributeError(name)

    @contextmanager
    def session(self) -> Iterator[Any]:
        with self.app.app_context():
            yield db.session
            db.session.commit()

    def user(self, key: str | User) -> User:
        user_id = key.id if isinstance(key, User) else self.users[key].id
        loaded = db.session.get(User, user_id)
        assert loaded is not None
        return loaded

    def get(self, model: Any, ident: int) -> Any:
        with self.app.app_context():
            obj = db.session.get(model, ident)
            if obj is not None:
                db.session.expunge(obj)
            return obj

    # --- builders ------------------------------------------------------------------------------

    def report(self, **overrides: Any) -> int:
        """A worker report of the monitor organisation about the site (id of the site in ``site_id``)."""
        from monitoring.supplychain.models import Site
        from monitoring.testimony import operations as testimony
        from tests.testimony.monitor_helpers import intake_data

        site_id = overrides.pop("site_id", self.site)
        overrides.setdefault("country", "CN")
        with self.session():
            overrides["site"] = db.session.get(Site, site_id)
            return testimony.record_report(self.user("monitor"), intake_data(**overrides)).id

    def finding(self, *, by: str = "monitor", **kw: Any) -> int:
        data = operations.FindingData(
            site_id=kw.pop("site_id", self.site),
            standard=kw.pop("standard", "FL-1"),
            severity=Severity(kw.pop("severity", "major")),
            workers_affected=kw.pop("workers_affected", 12),
            evidence_type=EvidenceType(kw.pop("evidence_type", "offsite_interviews")),
            found_date=kw.pop("found_date", date(2026, 10, 1)),
            summary=kw.pop("summary", f"Workers paid recruitment fees {next(_counter)}."),
            report_ids=kw.pop("report_ids", []),
        )
        assert not kw, f"unknown finding fields {sorted(kw)}"
        with self.session():
            return operations.file_finding(self.user(by), data).id

    def case(self, *, by: str = "coordinator", findings: list[int] | None = None, **kw: Any) -> int:
        """A case for the site with the given findings (a new major finding when none)."""
        finding_ids = (
            findings if findings is not None else [self.finding(severity=kw.pop("severity", "major"))]
        )
        site_id = kw.pop("site_id", self.site)
        with self.session():
            actor = self.user(by)
            lead = kw.pop("lead", None)
            case = operations.open_case(
                actor,
                site_id,
                finding_ids,
                lead_coordinator_id=self.users[lead].id if lead else None,
                **kw,
            )
            return case.id

    def advance_case(self, case_id: int, to: CaseState, *, by: str = "coordinator") -> None:
        """Move a case along open → in_dialogue → remediation → verification → closed.

        Actions are requested and taken as far as each step's guard needs.
        """
        for state, name in CASE_PATH:
            if _order(state) > _order(to):
                return
            if _order(self.get(Case, case_id).state) >= _order(state):
                continue
            if name == "start_remediation" and not self.actions_of(case_id):
                self.action(case_id)
            if name == "start_verification":
                for action_id in self.actions_of(case_id):
                    self.advance_action(action_id, ActionState.implemented)
            with self.session():
                operations.transition_case(self.user(by), db.session.get(Case, case_id), name)
        if to is CaseState.closed and self.get(Case, case_id).state is not CaseState.closed:
            for action_id in self.actions_of(case_id):
                self.advance_action(action_id, ActionState.closed)
            self.close(case_id)

    def close(self, case_id: int, outcome: str = "resolved", **kw: Any) -> None:
        data = operations.ClosureData(
            outcome=CaseOutcome(outcome),
            note=kw.pop("note", "Fees repaid to all workers."),
            remedies=kw.pop(
                "remedies",
                [
                    operations.RemedyData(
                        kind=RemedyKind.fees_repaid,
                        amount=Decimal("1250.00"),
                        currency="USD",
                        workers_covered=12,
                        description=None,
                    )
                ],
            ),
            workers_consulted=kw.pop("workers_consulted", True),
            # A priority case closes as resolved with validation answers or this reason.
            no_validation_reason=kw.pop("no_validation_reason", "The workers were asked in interviews."),
        )
        with self.session():
            operations.close_case(self.user(kw.pop("by", "monitor")), db.session.get(Case, case_id), data)

    def action(
        self, case_id: int, *, supplier: str = "supplier_x", finding_id: int | None = None, **kw: Any
    ) -> int:
        """A corrective action requested by the coordinator (the case is moved into dialogue first)."""
        if self.get(Case, case_id).state is CaseState.open:
            with self.session():
                operations.transition_case(
                    self.user("coordinator"), db.session.get(Case, case_id), "start_dialogue"
                )
        with self.session():
            case = db.session.get(Case, case_id)
            data = operations.RequestData(
                finding_id=finding_id or case.findings[0].id,
                supplier_id=self.orgs[supplier],
                request=kw.pop("request", "Repay every recruitment fee within 90 days."),
                plan_due_date=kw.pop("plan_due_date", None),
                closure_due_date=kw.pop("closure_due_date", None),
            )
            return operations.request_action(self.user(kw.pop("by", "coordinator")), case, data).id

    def actions_of(self, case_id: int) -> list[int]:
        with self.app.app_context():
            return list(
                db.session.scalars(
                    select(CorrectiveAction.id)
                    .where(CorrectiveAction.case_id == case_id)
                    .order_by(CorrectiveAction.id)
                )
            )

    def step_action(self, action_id: int, to: ActionState, by: str) -> None:
        """Take one step of an action (with plausible texts)."""
        with self.session():
            actor = self.user(by)
            action = db.session.get(CorrectiveAction, action_id)
            if to is ActionState.plan_submitted:
                operations.submit_plan(
                    actor,
                    action,
                    operations.PlanData(
                        root_cause="Agents charge fees abroad.",
                        corrective="Repay all fees.",
                        preventive="Employer-pays policy in agent contracts.",
                        target_date=date(2030, 1, 31),
                    ),
                )
            elif to is ActionState.plan_accepted:
                operations.accept_plan(actor, action)
            elif to is ActionState.plan_rejected:
                operations.reject_plan(actor, action, "The plan does not cover agency workers.")
            elif to is ActionState.implemented:
                operations.report_implemented(actor, action, "All fees repaid; receipts attached.", [])
            elif to is ActionState.verified:
                operations.verify_action(actor, action, True, "Workers confirmed the repayment.")
            elif to is ActionState.not_verified:
                operations.verify_action(actor, action, False, "Workers say half was repaid.")
            elif to is ActionState.closed:
                operations.close_action(actor, action)
            else:
                raise ValueError(to)

    def advance_action(self, action_id: int, to: ActionState) -> None:
        """Move an action along the happy path up to ``to`` (plan_rejected and not_verified too)."""
        if to is ActionState.plan_rejected:
            if self.get(CorrectiveAction, action_id).state is ActionState.requested:
                self.step_action(action_id, ActionState.plan_submitted, "supplier")
            self.step_action(action_id, ActionState.plan_rejected, "coordinator")
            return
        if to is ActionState.not_verified:
            self.advance_action(action_id, ActionState.implemented)
            self.step_action(action_id, ActionState.not_verified, "monitor")
            return
        for state, by in ACTION_PATH:
            current = self.get(CorrectiveAction, action_id).state
            if current is to:
                return
            if _action_order(current) >= _action_order(state):
                continue
            self.step_action(action_id, state, by)

    # --- inspection ----------------------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        """Rows that any change writes: to show that a refusal changed nothing."""
        from monitoring.notifications.models import Notification

        with self.app.app_context():
            return {
                model.__name__: db.session.scalar(select(func.count()).select_from(model)) or 0
                for model in (CaseEvent, AuditEntry, Notification, Finding, CorrectiveAction)
            }


def _order(state: CaseState) -> int:
    return list(CaseState).index(state)


_ACTION_ORDER = {
    ActionState.requested: 0,
    ActionState.plan_rejected: 0,
    ActionState.plan_submitted: 1,
    ActionState.plan_accepted: 2,
    ActionState.not_verified: 2,
    ActionState.implemented: 3,
    ActionState.verified: 4,
    ActionState.closed: 5,
}


def _action_order(state: ActionState) -> int:
    return _ACTION_ORDER[state]


def org_of(world: CaseWorld, key: str) -> Organisation:
    return world.get(Organisation, world.orgs[key])
