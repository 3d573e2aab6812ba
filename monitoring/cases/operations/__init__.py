"""Operations on findings, cases, corrective actions and the dialogue.

Each takes the actor explicitly, checks the permission and the transition table
(:mod:`monitoring.cases.workflow`), validates its input (raising :class:`OperationError` with a
translated message and the field), and only then changes state, flushes, writes the timeline
event and the audit entry, and queues the notifications. A refused operation changes nothing.
They never commit: the caller does, once per request.

Protected texts (summaries, requests, plans, reasons, messages) go into their ``*_ct`` columns
after the row was flushed, since the ciphertext is bound to the row id. Audit entries and
notification parameters hold metadata only.

One module per section: :mod:`.findings`, :mod:`.cases`, :mod:`.actions`, :mod:`.dialogue`,
:mod:`.escalation`, :mod:`.outcomes` (what workers are told and asked), with their shared
helpers in :mod:`.common`.
"""

from __future__ import annotations

from monitoring.cases.files import Upload
from monitoring.cases.operations.actions import (
    PlanData,
    RequestData,
    accept_plan,
    change_deadlines,
    close_action,
    reject_plan,
    report_implemented,
    request_action,
    submit_plan,
    verify_action,
)
from monitoring.cases.operations.cases import (
    ClosureData,
    RemedyData,
    add_findings,
    close_case,
    next_reference,
    open_case,
    reopen_case,
    set_lead,
    transition_case,
)
from monitoring.cases.operations.common import (
    MAX_AMOUNT,
    MAX_REMEDIES,
    MAX_REMEDY_TEXT,
    MAX_SUMMARY,
    MAX_TEXT,
    MAX_WORKERS,
    SEVERITY_ORDER,
    highest_severity,
)
from monitoring.cases.operations.dialogue import post_message
from monitoring.cases.operations.escalation import escalate_overdue
from monitoring.cases.operations.findings import FindingData, file_finding, update_finding
from monitoring.cases.operations.outcomes import AskedWorkers, ask_workers, release_status, withdraw_status

__all__ = [
    "MAX_AMOUNT",
    "MAX_REMEDIES",
    "MAX_REMEDY_TEXT",
    "MAX_SUMMARY",
    "MAX_TEXT",
    "MAX_WORKERS",
    "SEVERITY_ORDER",
    "AskedWorkers",
    "ClosureData",
    "FindingData",
    "PlanData",
    "RemedyData",
    "RequestData",
    "Upload",
    "accept_plan",
    "add_findings",
    "ask_workers",
    "change_deadlines",
    "close_action",
    "close_case",
    "escalate_overdue",
    "file_finding",
    "highest_severity",
    "next_reference",
    "open_case",
    "post_message",
    "reject_plan",
    "release_status",
    "reopen_case",
    "report_implemented",
    "request_action",
    "set_lead",
    "submit_plan",
    "transition_case",
    "update_finding",
    "verify_action",
    "withdraw_status",
]
