"""JSON API of routing consent: routing changes, a monitor organisation's routing and audit trail.

``POST /monitor-coverage`` and ``DELETE /monitor-coverage/{id}`` (in :mod:`.api`) ask for a
change; what they answer is the change (``202`` while it waits, ``200`` once in force). The
monitors of the organisations it touches confirm or object here; administrators and
coordinators withdraw it. Routes answer 404 to whoever may not see the change.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask_babel import lazy_gettext as _l

from monitoring.accounts.models import User, UserRole
from monitoring.accounts.schemas import AuditEntrySchema
from monitoring.core.api import paginate, route
from monitoring.core.auth import roles
from monitoring.core.pagination import Page
from monitoring.testimony import routing
from monitoring.testimony import services as s
from monitoring.testimony.models import CoverageChange
from monitoring.testimony.permissions import (
    can_confirm_coverage_change,
    can_manage_coverage,
    can_object_coverage_change,
    can_read_organisation_audit,
)
from monitoring.testimony.schemas import (
    CoverageChangeSchema,
    ListAuditTrailArgs,
    ListCoverageChangesArgs,
    OurRoutingSchema,
)

logger = logging.getLogger(__name__)

TAG = "routing"
ROUTING_ROLES = (UserRole.admin, UserRole.coordinator, UserRole.monitor)


@route(
    "/coverage-changes",
    summary=_l("Changes of who receives worker reports"),
    description=_l(
        "All of them for administrators and coordinators; those touching their organisation for monitors."
    ),
    args=ListCoverageChangesArgs,
    response=CoverageChangeSchema,
    paginated=True,
    tag=TAG,
)
@roles(*ROUTING_ROLES)
def list_coverage_changes(args: dict[str, Any]) -> Page:
    return paginate(s.list_changes(s.me()), s.CHANGE_ORDER, args.get("after"), args.get("limit"))


@route(
    "/coverage-changes/<int:change_id>",
    summary=_l("A change of who receives worker reports"),
    response=CoverageChangeSchema,
    tag=TAG,
)
@roles(*ROUTING_ROLES)
def get_coverage_change(change_id: int) -> CoverageChange:
    return s.load_change(s.me(), change_id)


def _decide(
    change_id: int, allowed: Callable[[User, CoverageChange], bool], operation: Callable[..., Any]
) -> CoverageChange:
    change = s.load_change(s.me(), change_id)
    s.require(allowed(s.me(), change))
    operation(s.me(), change)
    return change


@route(
    "/coverage-changes/<int:change_id>/confirm",
    method="POST",
    summary=_l("Confirm a change as a member of the organisation receiving the reports today"),
    description=_l("The change takes effect at once; the monitors of both organisations are told."),
    response=CoverageChangeSchema,
    tag=TAG,
)
@roles(UserRole.monitor)
def confirm_coverage_change(change_id: int) -> CoverageChange:
    return _decide(change_id, can_confirm_coverage_change, routing.confirm_change)


@route(
    "/coverage-changes/<int:change_id>/object",
    method="POST",
    summary=_l("Object to a waiting change, as a monitor of either organisation"),
    description=_l("The change is stopped: nothing moves."),
    response=CoverageChangeSchema,
    tag=TAG,
)
@roles(UserRole.monitor)
def object_to_coverage_change(change_id: int) -> CoverageChange:
    return _decide(change_id, can_object_coverage_change, routing.object_to_change)


@route(
    "/coverage-changes/<int:change_id>/cancel",
    method="POST",
    summary=_l("Withdraw a waiting change"),
    response=CoverageChangeSchema,
    tag=TAG,
)
@roles(UserRole.admin, UserRole.coordinator)
def cancel_coverage_change(change_id: int) -> CoverageChange:
    return _decide(change_id, lambda user, _change: can_manage_coverage(user), routing.cancel_change)


@route(
    "/our-routing",
    summary=_l("Which reports reach my organisation, and the key fingerprint workers see"),
    response=OurRoutingSchema,
    tag=TAG,
)
@roles(UserRole.monitor)
def our_routing() -> routing.OurRouting:
    s.require(can_read_organisation_audit(s.me()))
    return routing.our_routing(s.me())


@route(
    "/our-audit-trail",
    summary=_l("Who opened my organisation's reports, and changes of who receives them"),
    description=_l(
        "Audit entries of every opening (or failed opening) of the organisation's reports, their "
        "conversations and files, shares, messages, and of routing changes touching it; newest first."
    ),
    args=ListAuditTrailArgs,
    response=AuditEntrySchema,
    paginated=True,
    tag=TAG,
)
@roles(UserRole.monitor)
def our_audit_trail(args: dict[str, Any]) -> Page:
    s.require(can_read_organisation_audit(s.me()))
    return paginate(s.list_audit_trail(s.me()), s.AUDIT_ORDER, args.get("after"), args.get("limit"))
