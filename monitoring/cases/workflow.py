"""The state machines of cases and corrective actions, held as data.

Each :class:`Transition` names its source states, its target state, the roles that may take it
and an optional guard. :func:`allowed` is the one place that decides whether a user may take a
transition now; the operations call it before they change anything, and the pages offer what
:func:`available` returns. "Monitor" means a monitor of the organisation that works the case;
"supplier" means a user of the supplier organisation the corrective action is addressed to.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from monitoring.accounts.models import User
from monitoring.cases.models import ActionState, Case, CaseState, CorrectiveAction
from monitoring.cases.permissions import takes_part
from monitoring.core.roles import UserRole

# A guard answers None when the transition may be taken, else the refusal in words.
Guard = Callable[[User, Any], LazyString | None]

# The case states in which corrective actions may be requested.
REQUEST_STATES = frozenset({CaseState.in_dialogue, CaseState.remediation})
# Action states that keep a case out of verification: the supplier still owes a plan or its work.
UNFINISHED_ACTION_STATES = frozenset(
    {ActionState.requested, ActionState.plan_submitted, ActionState.plan_accepted, ActionState.plan_rejected}
)


@dataclass(frozen=True)
class Transition:
    name: str
    sources: frozenset[Any]
    target: Any
    roles: frozenset[UserRole]
    guard: Guard | None = None
    needs_reason: bool = False

    @property
    def title(self) -> str:
        return str(TRANSITION_TITLES[self.name])


def title_of(state: enum.Enum) -> LazyString:
    """The lazy (translatable) title of a state, for use inside other lazy strings."""
    return type(state).__titles__()[state]  # type: ignore[attr-defined]


# --- guards -----------------------------------------------------------------------------------


def _has_actions(user: User, case: Case) -> LazyString | None:
    if not case.actions:
        return _l("Request at least one corrective action before remediation starts.")
    return None


def _work_reported(user: User, case: Case) -> LazyString | None:
    if any(action.state in UNFINISHED_ACTION_STATES for action in case.actions):
        return _l("Every corrective action must be reported implemented before verification starts.")
    return None


def _actions_closed(user: User, case: Case) -> LazyString | None:
    if any(action.state is not ActionState.closed for action in case.actions):
        return _l("Close every corrective action before closing the case.")
    return None


_STAFF = frozenset({UserRole.coordinator, UserRole.monitor})

CASE_TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in (
        Transition("start_dialogue", frozenset({CaseState.open}), CaseState.in_dialogue, _STAFF),
        Transition(
            "start_remediation",
            frozenset({CaseState.in_dialogue}),
            CaseState.remediation,
            frozenset({UserRole.coordinator}),
            guard=_has_actions,
        ),
        Transition(
            "start_verification",
            frozenset({CaseState.remediation}),
            CaseState.verification,
            _STAFF,
            guard=_work_reported,
        ),
        Transition(
            "resume_remediation",
            frozenset({CaseState.verification}),
            CaseState.remediation,
            _STAFF,
            needs_reason=True,
        ),
        # Taken by operations.close_case, which also records the outcome and remedies.
        Transition(
            "close",
            frozenset({CaseState.verification}),
            CaseState.closed,
            frozenset({UserRole.monitor}),
            guard=_actions_closed,
        ),
        # Taken by operations.reopen_case.
        Transition("reopen", frozenset({CaseState.closed}), CaseState.in_dialogue, _STAFF, needs_reason=True),
    )
}

ACTION_TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in (
        Transition(
            "submit_plan",
            frozenset({ActionState.requested, ActionState.plan_rejected}),
            ActionState.plan_submitted,
            frozenset({UserRole.supplier}),
        ),
        Transition("accept_plan", frozenset({ActionState.plan_submitted}), ActionState.plan_accepted, _STAFF),
        Transition(
            "reject_plan",
            frozenset({ActionState.plan_submitted}),
            ActionState.plan_rejected,
            _STAFF,
            needs_reason=True,
        ),
        Transition(
            "report_implemented",
            frozenset({ActionState.plan_accepted, ActionState.not_verified}),
            ActionState.implemented,
            frozenset({UserRole.supplier}),
        ),
        Transition(
            "verify",
            frozenset({ActionState.implemented}),
            ActionState.verified,
            frozenset({UserRole.monitor}),
        ),
        Transition(
            "reject_verification",
            frozenset({ActionState.implemented}),
            ActionState.not_verified,
            frozenset({UserRole.monitor}),
            needs_reason=True,
        ),
        Transition(
            "close_action",
            frozenset({ActionState.verified, ActionState.not_verified}),
            ActionState.closed,
            _STAFF,
        ),
    )
}

# Button labels of the transitions.
TRANSITION_TITLES: dict[str, Any] = {
    "start_dialogue": _l("Start the dialogue"),
    "start_remediation": _l("Start remediation"),
    "start_verification": _l("Start verification"),
    "resume_remediation": _l("Back to remediation"),
    "close": _l("Close the case"),
    "reopen": _l("Reopen the case"),
    "submit_plan": _l("Submit a plan"),
    "accept_plan": _l("Accept the plan"),
    "reject_plan": _l("Reject the plan"),
    "report_implemented": _l("Report implemented"),
    "verify": _l("Verify"),
    "reject_verification": _l("Not verified"),
    "close_action": _l("Close the corrective action"),
}


# --- deciding ---------------------------------------------------------------------------------


def transitions_for(obj: Case | CorrectiveAction) -> dict[str, Transition]:
    if isinstance(obj, Case):
        return CASE_TRANSITIONS
    if isinstance(obj, CorrectiveAction):
        return ACTION_TRANSITIONS
    raise TypeError(f"no transitions for {type(obj).__name__}")


def allowed(user: User, obj: Case | CorrectiveAction, name: str) -> LazyString | None:
    """None when the user may take the transition now; otherwise the translated refusal.

    Raises KeyError for a name that is not a transition of the object.
    """
    transition = transitions_for(obj)[name]
    if not takes_part(user, obj, transition.roles):
        if isinstance(obj, Case):
            return _l("You may not do this on this case.")
        return _l("You may not do this on this corrective action.")
    if isinstance(obj, CorrectiveAction):
        if obj.case.state is CaseState.closed:
            return _l("The case is closed: its corrective actions cannot change any more.")
        if obj.state not in transition.sources:
            return _l(
                "This is not possible while the corrective action is at “%(state)s”.",
                state=title_of(obj.state),
            )
    elif obj.state not in transition.sources:
        return _l("This is not possible while the case is at “%(state)s”.", state=title_of(obj.state))
    if transition.guard is not None:
        return transition.guard(user, obj)
    return None


def available(user: User, obj: Case | CorrectiveAction) -> list[Transition]:
    """The transitions the user may take on the object now, in table order (what pages offer)."""
    return [t for t in transitions_for(obj).values() if allowed(user, obj, t.name) is None]
