"""What notifications do when a lower feature announces an event (see :mod:`monitoring.core.hooks`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from monitoring.accounts import keys
from monitoring.accounts.models import Organisation, User
from monitoring.core import hooks
from monitoring.core.db import db
from monitoring.core.jobs import Job, JobState
from monitoring.core.roles import UserRole
from monitoring.notifications.models import NotificationKind
from monitoring.notifications.outbox import notify
from monitoring.supplychain.circularity import events as circularity_events
from monitoring.supplychain.circularity.models import CircularityReport, CircularityState


@hooks.job_finished.connect
def tell_the_owner(*, job: Job, **_: Any) -> None:
    """Tell whoever started an import that it is over (the file's name and whether it worked)."""
    owner = db.session.get(User, job.owner_id)
    if owner is not None:
        notify(
            [owner],
            NotificationKind.import_finished,
            params={"job_id": job.id, "filename": job.filename, "succeeded": job.state == JobState.done},
        )


@hooks.membership_requested.connect
def ask_members_to_approve(*, user: User, **_: Any) -> None:
    """Tell every approved active member of the organisation that ``user`` waits for approval."""
    members = db.session.scalars(
        select(User).where(User.id.in_(keys.member_ids(user.organisation))).order_by(User.id)
    ).all()
    notify(
        members,
        NotificationKind.membership_requested,
        params={"member": user.name, "email": user.email, "organisation": user.organisation.name},
    )


def _organisation_users(organisation_id: int, role: UserRole) -> list[User]:
    """The active users holding ``role`` in an active organisation."""
    query = (
        select(User)
        .join(Organisation, Organisation.id == User.organisation_id)
        .where(
            User.organisation_id == organisation_id,
            User.role == role,
            User.is_active.is_(True),
            Organisation.is_active.is_(True),
        )
        .order_by(User.id)
    )
    return list(db.session.scalars(query))


def _circularity_params(report: CircularityReport) -> dict[str, Any]:
    contract = report.contract
    return {
        "contract_id": contract.id,
        "circularity_report_id": report.id,
        "reference": contract.reference,
        "supplier": contract.supplier.name,
        "product": f"{report.product.brand} {report.product.model}",
        "year": report.year,
    }


@circularity_events.report_filed.connect
def tell_the_buyer(*, report: CircularityReport, resubmitted: bool, **_: Any) -> None:
    """Tell the contract's buyer (its affiliate's users) that a report waits for them."""
    notify(
        _organisation_users(report.contract.affiliate_id, UserRole.affiliate),
        NotificationKind.circularity_report_submitted,
        params={**_circularity_params(report), "resubmitted": resubmitted},
    )


@circularity_events.report_decided.connect
def tell_the_supplier(*, report: CircularityReport, **_: Any) -> None:
    """Tell the contract's supplier's users that the buyer confirmed the report, or queried it and why."""
    params = _circularity_params(report)
    if report.state is CircularityState.queried:
        kind = NotificationKind.circularity_report_queried
        params["reason"] = report.query_reason or ""
    else:
        kind = NotificationKind.circularity_report_confirmed
    notify(_organisation_users(report.contract.supplier_id, UserRole.supplier), kind, params=params)
