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

from flask import abort
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from marshmallow import fields

from monitoring.accounts.models import User, UserRole
from monitoring.accounts.schemas import OrganisationRefSchema, UserRefSchema
from monitoring.admin.schemas import AuditEntrySchema
from monitoring.core.api import paginate, route
from monitoring.core.auth import roles
from monitoring.core.db import db
from monitoring.core.pagination import Page
from monitoring.core.schemas import BaseSchema, PageArgs
from monitoring.testimony import routing
from monitoring.testimony.models import CoverageChange, CoverageChangeState
from monitoring.testimony.permissions import (
    can_confirm_coverage_change,
    can_manage_coverage,
    can_object_coverage_change,
    can_read_organisation_audit,
    can_see_coverage_change,
)

logger = logging.getLogger(__name__)

TAG = "routing"
ROUTING_ROLES = (UserRole.admin, UserRole.coordinator, UserRole.monitor)


class CoverageChangeSchema(BaseSchema):
    """A change of who receives a country's worker reports (metadata only)."""

    id = fields.Integer(dump_only=True)
    country = fields.String(
        dump_only=True, allow_none=True, metadata={"description": _l("Null: every country without a route.")}
    )
    from_organisation = fields.Nested(
        OrganisationRefSchema,
        dump_only=True,
        allow_none=True,
        metadata={"description": _l("Who receives these reports today (null: nobody).")},
    )
    to_organisation = fields.Nested(
        OrganisationRefSchema,
        dump_only=True,
        allow_none=True,
        metadata={"description": _l("Who is to receive them (null: the country's own route is removed).")},
    )
    state = fields.Enum(CoverageChangeState, by_value=True, dump_only=True)
    requested_by = fields.Nested(UserRefSchema, dump_only=True, allow_none=True)
    requested_dt = fields.AwareDateTime(dump_only=True)
    effective_dt = fields.AwareDateTime(
        dump_only=True,
        metadata={
            "description": _l("When a waiting change takes effect unless confirmed sooner or objected to.")
        },
    )
    decided_by = fields.Nested(UserRefSchema, dump_only=True, allow_none=True)
    decided_dt = fields.AwareDateTime(dump_only=True, allow_none=True)
    applied_dt = fields.AwareDateTime(dump_only=True, allow_none=True)


class ListCoverageChangesArgs(PageArgs):
    """Paging through the changes the user may see, newest first."""


class OurRoutingSchema(BaseSchema):
    organisation = fields.Nested(OrganisationRefSchema, dump_only=True)
    fingerprint = fields.String(
        dump_only=True,
        metadata={
            "description": _l(
                "The short fingerprint of the organisation's current key that workers see on the report "
                "page; print it on posters and cards. Empty while the organisation has no key."
            )
        },
    )
    countries = fields.List(fields.String(), dump_only=True)
    fallback = fields.Boolean(
        dump_only=True,
        metadata={"description": _l("Also receives every country without a route of its own.")},
    )


class ListAuditTrailArgs(PageArgs):
    """Paging through the audit trail of the organisation's reports, newest first."""


def _me() -> User:
    return current_user._get_current_object()  # type: ignore[no-any-return]


def _require(allowed: bool) -> None:
    if not allowed:
        abort(404)


def _load(change_id: int) -> CoverageChange:
    change = db.session.get(CoverageChange, change_id)
    _require(change is not None and can_see_coverage_change(_me(), change))
    assert change is not None
    return change


def answer(change: CoverageChange) -> tuple[CoverageChange, int]:
    """A requested change with its status: 202 while it waits, 200 once in force."""
    return change, 202 if change.state is CoverageChangeState.pending else 200


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
    return paginate(
        routing.visible_changes(_me()), [CoverageChange.id.desc()], args.get("after"), args.get("limit")
    )


@route(
    "/coverage-changes/<int:change_id>",
    summary=_l("A change of who receives worker reports"),
    response=CoverageChangeSchema,
    tag=TAG,
)
@roles(*ROUTING_ROLES)
def get_coverage_change(change_id: int) -> CoverageChange:
    return _load(change_id)


def _decide(
    change_id: int, allowed: Callable[[User, CoverageChange], bool], operation: Any
) -> CoverageChange:
    change = _load(change_id)
    _require(allowed(_me(), change))
    operation(_me(), change)
    db.session.commit()
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
    user = _me()
    _require(can_read_organisation_audit(user))
    return routing.our_routing(user)


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
    user = _me()
    _require(can_read_organisation_audit(user))
    return paginate(
        routing.organisation_audit_trail(user),
        [routing.AuditEntry.id.desc()],
        args.get("after"),
        args.get("limit"),
    )
