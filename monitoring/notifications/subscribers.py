"""What notifications do when a lower feature announces an event (see :mod:`monitoring.core.hooks`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from monitoring.accounts import keys
from monitoring.accounts.models import User
from monitoring.core import hooks
from monitoring.core.db import db
from monitoring.core.jobs import Job, JobState
from monitoring.notifications.models import NotificationKind
from monitoring.notifications.outbox import notify


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
