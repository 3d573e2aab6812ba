"""JSON API of what a case tells its workers and asks them.

The case's monitors release a status from a fixed list to the workers whose reports the case
rests on (and withdraw it), and send validation questions about a priority finding's remedy
through the receipt channel. Everyone who sees the case reads the validation counts, suppressed
below 5 for affiliates and suppliers (:mod:`monitoring.cases.services_outcomes`).
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from monitoring.cases import operations, permissions, services
from monitoring.cases import services_outcomes as shown
from monitoring.cases.api import CASE_ROLES, STAFF, me
from monitoring.cases.schemas_outcomes import (
    AskedWorkersSchema,
    AskWorkersArgs,
    ReleaseStatusArgs,
    ValidationSummarySchema,
    WorkerStatusReleaseSchema,
)
from monitoring.core.api import route
from monitoring.core.auth import roles
from monitoring.core.roles import UserRole


def _release(case_id: int, release_id: int) -> shown.ShownRelease:
    case = services.load_case(me(), case_id)
    found = shown.release_of(me(), case, release_id)
    services.require(found is not None)
    assert found is not None
    return found


@route(
    "/cases/<int:case_id>/worker-statuses",
    summary=_l("List the statuses released to a case's workers"),
    description=_l(
        "For coordinators and the case's monitors, newest first, withdrawn ones too. Workers read "
        "the statuses that are not withdrawn on their follow-up page, in their language."
    ),
    response=WorkerStatusReleaseSchema(many=True),
)
@roles(*STAFF)
def list_worker_statuses(case_id: int) -> list[shown.ShownRelease]:
    case = services.load_case(me(), case_id)
    services.require(permissions.sees_worker_releases(me(), case))
    return shown.releases(me(), case)


@route(
    "/cases/<int:case_id>/worker-statuses",
    method="POST",
    summary=_l("Release a status to a case's workers"),
    description=_l(
        "For the case's monitors: one of the fixed statuses, to every report linked to the case's "
        "findings or to one of them. Nothing else of the case reaches the workers."
    ),
    args=ReleaseStatusArgs,
    response=WorkerStatusReleaseSchema,
    status=201,
)
@roles(UserRole.monitor)
def release_worker_status(case_id: int, args: dict[str, Any]) -> shown.ShownRelease:
    case = services.load_case(me(), case_id)
    services.require(permissions.can_release_status(me(), case))
    release = operations.release_status(me(), case, args["status"], args.get("report_id"))
    return _release(case_id, release.id)


@route(
    "/cases/<int:case_id>/worker-statuses/<int:release_id>/withdrawal",
    method="POST",
    summary=_l("Withdraw a status released to a case's workers"),
    response=WorkerStatusReleaseSchema,
)
@roles(UserRole.monitor)
def withdraw_worker_status(case_id: int, release_id: int) -> shown.ShownRelease:
    case = services.load_case(me(), case_id)
    services.require(permissions.can_release_status(me(), case))
    services.require(shown.release_of(me(), case, release_id) is not None)
    operations.withdraw_status(me(), case, release_id)
    return _release(case_id, release_id)


@route(
    "/cases/<int:case_id>/validations",
    summary=_l("How the workers answered a case's validation questions"),
    description=_l(
        "Counts per question and answer. Affiliates and suppliers see counts below 5 as null, and "
        "then no total. The case's monitors also get the priority findings and their questions."
    ),
    response=ValidationSummarySchema,
)
@roles(*CASE_ROLES)
def get_validations(case_id: int) -> shown.ValidationSummary:
    return shown.validation_summary(me(), services.load_case(me(), case_id))


@route(
    "/cases/<int:case_id>/validations",
    method="POST",
    summary=_l("Ask the workers whether a remedy reached them"),
    description=_l(
        "For the case's monitors: sends a validation question about a priority finding to every "
        "report linked to it that has a receipt; the workers answer yes, no or partly on their "
        "follow-up page. A question still waiting for a worker's answer is not sent twice."
    ),
    args=AskWorkersArgs,
    response=AskedWorkersSchema,
    status=201,
)
@roles(UserRole.monitor)
def ask_workers(case_id: int, args: dict[str, Any]) -> operations.AskedWorkers:
    case = services.load_case(me(), case_id)
    services.require(permissions.can_ask_workers(me(), case))
    return operations.ask_workers(me(), case, args["finding_id"], args["question"])
