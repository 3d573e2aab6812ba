"""The publication actions in the JSON API: propose, approve, withdraw."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_login import current_user

from monitoring.accounts.models import User, UserRole
from monitoring.cases import services as case_services
from monitoring.core.api import operation_error, route
from monitoring.core.auth import roles
from monitoring.core.operations import OperationError
from monitoring.publication import operations, permissions, services
from monitoring.publication.schemas import (
    ApprovePublicationArgs,
    ProposePublicationArgs,
    PublicationSchema,
    WithdrawPublicationArgs,
)


def me() -> User:
    user: User = current_user._get_current_object()
    return user


def _run(case_id: int, allowed: Any, operation: Any) -> dict[str, Any]:
    case = services.load_case(me(), case_id)
    case_services.require(allowed(me(), case))
    try:
        operation(me(), case)
    except OperationError as exc:
        raise operation_error(exc, {}) from exc
    return services.publication_state(case)


@route(
    "/cases/<int:case_id>/publication",
    method="POST",
    summary=_l("Propose a case for the public status page"),
    description=_l("The lead coordinator proposes; a monitor of the case's organisation must approve."),
    args=ProposePublicationArgs,
    response=PublicationSchema,
)
@roles(UserRole.coordinator)
def propose_publication(case_id: int, args: dict[str, Any]) -> dict[str, Any]:
    return _run(case_id, permissions.can_propose, operations.propose)


@route(
    "/cases/<int:case_id>/publication/approve",
    method="POST",
    summary=_l("Approve a case's publication"),
    args=ApprovePublicationArgs,
    response=PublicationSchema,
)
@roles(UserRole.monitor)
def approve_publication(case_id: int, args: dict[str, Any]) -> dict[str, Any]:
    return _run(case_id, permissions.can_approve, operations.approve)


@route(
    "/cases/<int:case_id>/publication/withdraw",
    method="POST",
    summary=_l("Withdraw a case's publication"),
    args=WithdrawPublicationArgs,
    response=PublicationSchema,
)
@roles(UserRole.coordinator, UserRole.monitor)
def withdraw_publication(case_id: int, args: dict[str, Any]) -> dict[str, Any]:
    return _run(case_id, permissions.can_withdraw, operations.withdraw)
