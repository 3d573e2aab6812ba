"""What the case page tells a reader beyond its data: who moves the case on, what is missing.

Template globals computed from the case and the signed-in user (``current_user``), so that the
page and its handler stay apart: the handler loads the case, these say in words what the
workflow table and the registry imply for the reader.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, url_for
from flask_login import current_user

from monitoring.accounts.models import User
from monitoring.cases import workflow
from monitoring.cases.models import Case, CaseState, CorrectiveAction, Finding
from monitoring.cases.permissions import reads_whole_case, visible_actions, visible_findings
from monitoring.core.db import db
from monitoring.core.i18n import _, _l
from monitoring.core.types import utcnow
from monitoring.supplychain.queries import concerned_suppliers

logger = logging.getLogger(__name__)

# The step that moves a case forward from each state (the way back and reopening are not "next").
FORWARD: dict[CaseState, str] = {
    CaseState.open: "start_dialogue",
    CaseState.in_dialogue: "start_remediation",
    CaseState.remediation: "start_verification",
    CaseState.verification: "close",
}
# Who takes each forward step, as the transition table says (tests hold the two together).
WHO_MOVES: dict[str, Any] = {
    "start_dialogue": _l("A coordinator or a monitor of %(organisation)s starts the dialogue."),
    "start_remediation": _l("A coordinator moves the case to remediation: %(coordinator)s."),
    "start_verification": _l(
        "A coordinator or a monitor of %(organisation)s moves the case to verification."
    ),
    "close": _l("A monitor of %(organisation)s closes the case."),
}


@dataclass(frozen=True)
class NextStep:
    """Why the reader sees no button to move the case on, in words."""

    # Who may take the step, when the reader may not.
    who: str | None = None
    # What must happen first (the transition's guard), when that holds the step back.
    blocked: str | None = None


@dataclass(frozen=True)
class Concerns:
    """What a reader without the registry's view may know the case is about."""

    findings: list[Finding] = field(default_factory=list)
    actions: list[CorrectiveAction] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.findings or self.actions)


def _reader() -> User | None:
    user = current_user
    return user if getattr(user, "is_authenticated", False) else None


def next_step(user: User, case: Case) -> NextStep | None:
    """Who takes the case's next step when the user cannot take it now (None when they can)."""
    name = FORWARD.get(case.state)
    if name is None or not reads_whole_case(user, case):
        return None
    refusal = workflow.allowed(user, case, name)
    if refusal is None:
        return None
    transition = workflow.CASE_TRANSITIONS[name]
    held = transition.guard(user, case) if transition.guard is not None else None
    blocked = str(held) if held is not None else None
    if blocked is not None and str(refusal) == blocked:
        # The user may take the step; only the condition is missing.
        return NextStep(blocked=blocked)
    lead = case.lead_coordinator
    who = str(WHO_MOVES[name]) % {
        "organisation": case.monitor_organisation.name,
        "coordinator": lead.name if lead is not None else _("any coordinator"),
    }
    return NextStep(who=who, blocked=blocked)


def lacks_supplier(user: User, case: Case, suppliers: list[Any] | None = None) -> bool:
    """Whether no supplier can be asked for a corrective action: none is linked to the site.

    ``suppliers``: the site's concerned suppliers today when the page has them already."""
    if case.state is CaseState.closed or not reads_whole_case(user, case):
        return False
    if suppliers is None:
        suppliers = concerned_suppliers(case.site_id, utcnow().date())
    return not suppliers


def concerns(user: User, case: Case) -> Concerns:
    """The case's findings and corrective actions the user may see, for a reader outside it."""
    findings = db.session.scalars(
        visible_findings(user).where(Finding.case_id == case.id).order_by(Finding.id)
    ).all()
    actions = db.session.scalars(
        visible_actions(user).where(CorrectiveAction.case_id == case.id).order_by(CorrectiveAction.id)
    ).all()
    return Concerns(list(findings), list(actions))


def _case_next_step(case: Case) -> NextStep | None:
    user = _reader()
    return next_step(user, case) if user is not None else None


def _case_lacks_supplier(case: Case, suppliers: list[Any] | None = None) -> bool:
    user = _reader()
    return user is not None and lacks_supplier(user, case, suppliers)


def _case_concerns(case: Case) -> Concerns:
    user = _reader()
    return concerns(user, case) if user is not None else Concerns()


def _site_disclosures_url(case: Case) -> str:
    """Where the site's disclosures are listed (its page in the supply-chain registry)."""
    return url_for("supplychain.site", site_id=case.site_id)


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(
        case_next_step=_case_next_step,
        case_lacks_supplier=_case_lacks_supplier,
        case_concerns=_case_concerns,
        site_disclosures_url=_site_disclosures_url,
    )
