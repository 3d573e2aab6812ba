"""What the administration pages and API share: the lists with their filters, creating a user,
the temporary password shown once, and the audit chain check.

Both skins validate their input with the same ``Args`` schemas (``accounts.schemas`` and
``admin.schemas``); the pages' filter forms hand their valid fields to them.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from marshmallow import Schema, ValidationError
from sqlalchemy import Select, func, select

from monitoring.accounts import operations
from monitoring.accounts.models import Organisation, User
from monitoring.accounts.permissions import visible_organisations, visible_users
from monitoring.core import audit, session_secrets
from monitoring.core.audit import AuditEntry
from monitoring.core.db import db
from monitoring.core.forms import show_messages
from monitoring.core.operations import OperationError
from monitoring.core.pagination import encode_cursor
from monitoring.testimony import keyless

logger = logging.getLogger(__name__)

# The one order of each list, on the page and in the API (the last key is unique).
USER_ORDER = [User.email, User.id]
ORGANISATION_ORDER = [Organisation.name, Organisation.id]
AUDIT_ORDER = [AuditEntry.id.desc()]  # newest first: the chain's own order

# A temporary password lives here between the POST that made it and the page that shows it once.
NEW_PASSWORD_KEY = "admin_new_password"  # noqa: S105 - a session key, not a secret


# --- lists --------------------------------------------------------------------------------------


def user_list(actor: User, args: dict[str, Any]) -> Select[User]:
    """The users the actor may see, narrowed by ``ListUsersArgs`` (organisation, role, status)."""
    query = visible_users(actor)
    if "organisation_id" in args:
        query = query.where(User.organisation_id == args["organisation_id"])
    if "role" in args:
        query = query.where(User.role == args["role"])
    if "is_active" in args:
        query = query.where(User.is_active.is_(args["is_active"]))
    return query


def organisation_list(actor: User, args: dict[str, Any]) -> Select[Organisation]:
    """The organisations the actor may see, narrowed by ``ListOrganisationsArgs`` (kind, status)."""
    query = visible_organisations(actor)
    if "kind" in args:
        query = query.where(Organisation.kind == args["kind"])
    if "is_active" in args:
        query = query.where(Organisation.is_active.is_(args["is_active"]))
    return query


def organisation_rows(actor: User, args: dict[str, Any]) -> list[tuple[Organisation, int]]:
    """The organisation list with each one's number of users, for the page."""
    user_count = (
        select(func.count(User.id))
        .where(User.organisation_id == Organisation.id)
        .correlate(Organisation)
        .scalar_subquery()
        .label("user_count")
    )
    query = organisation_list(actor, args).add_columns(user_count).order_by(*ORGANISATION_ORDER)
    return [(org, count) for org, count in db.session.execute(query).all()]


def audit_list(args: dict[str, Any]) -> Select[AuditEntry]:
    """Audit entries narrowed by ``ListAuditArgs``; the page names the actor by e-mail instead."""
    query = select(AuditEntry)
    for name in ("action", "actor_id", "object_type", "object_id"):
        if name in args:
            query = query.where(getattr(AuditEntry, name) == args[name])
    if "actor_email" in args:
        actor_ids = select(User.id).where(User.email == operations.normalise_email(args["actor_email"]))
        query = query.where(AuditEntry.actor_id.in_(actor_ids))
    if "since" in args:
        query = query.where(AuditEntry.created_dt >= args["since"])
    if "until" in args:
        query = query.where(AuditEntry.created_dt <= args["until"])
    return query


def audit_vocabulary() -> tuple[list[str], list[str]]:
    """The actions and object types the log holds, for the page's filter choices."""
    actions = select(AuditEntry.action).distinct().order_by(AuditEntry.action)
    types = (
        select(AuditEntry.object_type)
        .where(AuditEntry.object_type.is_not(None))
        .distinct()
        .order_by(AuditEntry.object_type)
    )
    return list(db.session.scalars(actions)), [t for t in db.session.scalars(types) if t is not None]


def filter_args(schema: type[Schema], form: FlaskForm, values: dict[str, Any]) -> dict[str, Any]:
    """A filter form's valid fields, through the list's ``Args`` schema; the others are left out.

    ``values`` maps each ``Args`` field to the form field's value (None when empty). A field
    whose form validation failed is shown with its error and ignored, like one the schema refuses.
    """
    data = {name: value for name, value in values.items() if value not in (None, "")}
    try:
        return dict(schema().load(data, partial=True))
    except ValidationError as exc:
        messages = exc.normalized_messages()
        show_messages(form, messages)
        valid = {k: v for k, v in data.items() if k not in messages}
        return dict(schema().load(valid, partial=True))


# --- creating a user and the temporary password -------------------------------------------------


def create_user(actor: User, args: dict[str, Any]) -> tuple[User, str | None]:
    """Create a user from ``CreateUserArgs``; the temporary password made when none was given."""
    org = db.session.scalar(visible_organisations(actor).where(Organisation.id == args["organisation_id"]))
    if org is None:
        raise OperationError(_("There is no such organisation."), field="organisation_id")
    temporary = None if args.get("password") else operations.temporary_password()
    user = operations.create_user(
        actor,
        email=args["email"],
        name=args["name"],
        role=args["role"],
        organisation=org,
        password=args.get("password") or temporary or "",
        locale=args.get("locale"),
        time_zone=args.get("time_zone"),
        must_change_password=True,
    )
    return user, temporary


def remember_password(actor: User, user: User, password: str) -> None:
    """Keep the temporary password for the admin's next page, encrypted in the session."""
    value = json.dumps({"user_id": user.id, "password": password}).encode()
    session_secrets.put(NEW_PASSWORD_KEY, actor.id, value)


def pop_password(actor: User, user: User) -> str | None:
    """Return the temporary password made for this user, once."""
    stored = session_secrets.pop(NEW_PASSWORD_KEY, actor.id)
    if stored is None:
        return None
    value = json.loads(stored)
    return value["password"] if value.get("user_id") == user.id else None


# --- the audit chain check ----------------------------------------------------------------------


@dataclass
class AuditCheck:
    """What the check found, as messages (text, category) and the page to open at."""

    messages: list[tuple[str, str]] = field(default_factory=list)
    after: str | None = None  # the cursor of the page that starts with a broken entry


def check_audit_log() -> AuditCheck:
    """Verify the chain and the signed checkpoints; say what was found."""
    check = audit.verify_log(audit.audit_key())
    result, found = check.result, AuditCheck()
    if result.key_mismatch:
        logger.error("audit verify: the audit key does not match this database")
        message = _(
            "This server's audit key is not the key the audit log was written with: nothing was checked."
        )
        found.messages.append((message, "error"))
        return found
    if check.tampered is not None:
        logger.error("audit checkpoint file tampered: %s", check.tampered)
        message = _("The file of signed audit checkpoints was changed: it no longer proves the log complete.")
        found.messages.append((message, "error"))
    if result.ok:
        found.messages.append(
            (_("The audit log is intact: %(num)d entries verified.", num=result.checked), "success")
        )
        if check.tampered is None and not check.checkpoints:
            message = _(
                "No signed checkpoint was found on this server, so entries cut from the end of the "
                "log would not show. Run this check where the jobs run (flask audit verify)."
            )
            found.messages.append((message, "warning"))
        return found
    if result.checkpoint is not None:
        logger.error("audit log truncated or rewritten: %s", result.reason)
        message = _(
            "The audit log was cut short or rewritten after the checkpoint of %(date)s: it now differs "
            "from what was signed then (%(reason)s).",
            date=format_datetime(datetime.fromisoformat(result.checkpoint.created)),
            reason=result.reason,
        )
        found.messages.append((message, "error"))
        return found
    logger.error("audit chain broken at entry %s: %s", result.broken_id, result.reason)
    message = _(
        "The audit log is broken at entry %(id)s (%(reason)s). The %(num)d entries before it are "
        "intact. It is shown first below.",
        id=result.broken_id,
        reason=result.reason,
        num=result.checked,
    )
    found.messages.append((message, "error"))
    # Open the log at the broken entry: the cursor of the page that starts with it.
    found.after = encode_cursor([(result.broken_id or 0) + 1])
    return found


# --- health ---------------------------------------------------------------------------------


def coverage_health() -> list[keyless.KeylessRoute]:
    """Every route whose organisation cannot seal reports (by country, the fallback last)."""
    return keyless.keyless_routes()
