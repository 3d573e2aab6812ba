"""The dialogue of a case: messages to a chosen audience, with attachments."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from flask_babel import lazy_gettext as _l

from monitoring.accounts.models import User
from monitoring.cases.files import (
    PreparedFile,
    Upload,
    placeholder_ct,
    prepare_uploads,
)
from monitoring.cases.models import (
    Case,
    CaseMessage,
    Visibility,
)
from monitoring.cases.operations.common import (
    _enum,
    _refuse,
    _store,
    _tell,
    _text,
)
from monitoring.cases.permissions import (
    message_suppliers,
    message_visibilities,
    writes_for_own_organisation,
)
from monitoring.core import audit
from monitoring.core.db import db
from monitoring.core.operations import OperationError
from monitoring.core.transactions import attempt
from monitoring.core.types import utcnow
from monitoring.notifications.models import NotificationKind

logger = logging.getLogger(__name__)


def post_message(
    actor: User,
    case: Case,
    visibility: Visibility | str,
    body: str,
    *,
    supplier_id: int | None = None,
    files: Sequence[Upload] = (),
) -> CaseMessage:
    """Append a message to the case's dialogue (closed cases too), with attachments."""
    scopes = message_visibilities(actor, case)
    if not scopes:
        raise _refuse(_l("You may not write in this case's dialogue."))
    visibility = _enum(Visibility, visibility, "visibility", _l("Choose who reads the message."))
    if visibility not in scopes:
        raise OperationError(_l("You may not write to these readers."), field="visibility")
    if writes_for_own_organisation(actor):
        if supplier_id not in (None, actor.organisation_id):
            raise OperationError(
                _l("You write to your own organisation's dialogue only."), field="supplier_id"
            )
        supplier_id = actor.organisation_id
    if visibility is Visibility.parties:
        if supplier_id not in message_suppliers(actor, case):
            raise OperationError(
                _l("Choose a supplier with a corrective action on this case."), field="supplier_id"
            )
    else:
        supplier_id = None
    body = _text(body, "body", _l("Write a message first."))
    prepared = prepare_uploads(files)
    # A file refused while it is stored leaves neither the message nor other files behind.
    return attempt(_write, actor, case, visibility, supplier_id, body, prepared)


def _write(
    actor: User,
    case: Case,
    visibility: Visibility,
    supplier_id: int | None,
    body: str,
    prepared: list[PreparedFile],
) -> CaseMessage:
    message = CaseMessage(
        case_id=case.id,
        author_id=actor.id,
        visibility=visibility,
        supplier_id=supplier_id,
        body_ct=placeholder_ct(),
        created_dt=utcnow(),
    )
    db.session.add(message)
    db.session.flush()
    message.body = body
    stored = _store(actor, case, prepared, message=message)
    db.session.flush()
    audit.record(
        "case.message",
        f"Posted {visibility.value} message {message.id} on case {case.reference}",
        actor=actor,
        obj=message,
        data={
            "case_id": case.id,
            "visibility": visibility.value,
            "supplier_id": supplier_id,
            "files": [f.id for f in stored],
        },
    )
    _tell(
        NotificationKind.message_posted,
        actor,
        case,
        visibility,
        supplier_id=supplier_id,
        message_id=message.id,
        visibility=visibility.value,
    )
    return message
