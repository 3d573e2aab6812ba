"""Saved column mappings kept in order: listed, renamed and deleted by their organisation.

A mapping is saved under a name on an import's column-mapping step (coordinators for facility
lists, monitors for their organisation's surveys) and belongs to the saver's organisation; every
user has one, so a mapping without an organisation is never saved by the app and nobody sees one
here. Only the users of the owning organisation see a mapping; to anyone else it does not exist
(404). The kinds are listed as they are in the table, so the survey's mappings show here without
this module reading the testimony feature. Each rename and deletion is audited.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from marshmallow import fields as ma_fields
from marshmallow import validate
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from monitoring.accounts.models import User
from monitoring.core import audit
from monitoring.core.column_mapping import SavedMapping
from monitoring.core.db import db
from monitoring.core.operations import OperationError
from monitoring.core.pagination import Page
from monitoring.core.schemas import BaseSchema, Integer, PageArgs
from monitoring.core.transactions import attempt
from monitoring.supplychain.import_mapping import FACILITY_FIELDS, FACILITY_MAPPING

logger = logging.getLogger(__name__)

# The order of the list: by kind, then name (the id breaks ties for the keyset cursor).
MAPPING_ORDER = (SavedMapping.kind, SavedMapping.name, SavedMapping.id)
NAME_LENGTH = 120
NAME_TAKEN = _l("Another mapping of this kind is already saved under this name.")

# Titles of the kinds this app saves; a kind not named here is shown as stored.
KIND_TITLES: dict[str, Any] = {
    FACILITY_MAPPING: _l("Facility list"),
    "survey": _l("Survey"),
}
_FIELD_LABELS: dict[str, dict[str, Any]] = {FACILITY_MAPPING: {f.key: f.label for f in FACILITY_FIELDS}}


def kind_title(kind: str) -> str:
    return str(KIND_TITLES.get(kind, kind))


@dataclasses.dataclass
class SavedMappingView:
    """A saved mapping as the page and the API show it."""

    id: int
    kind: str
    kind_title: str
    name: str
    mapping: list[dict[str, Any]]
    saved_by: dict[str, Any] | None
    saved_dt: datetime


def describe(saved: SavedMapping, savers: dict[int, User]) -> SavedMappingView:
    labels = _FIELD_LABELS.get(saved.kind, {})
    user = savers.get(saved.created_by_id) if saved.created_by_id is not None else None
    return SavedMappingView(
        id=saved.id,
        kind=saved.kind,
        kind_title=kind_title(saved.kind),
        name=saved.name,
        mapping=[
            {"field": key, "label": str(labels.get(key, key)), "column": column}
            for key, column in saved.fields.items()
        ],
        saved_by={"id": user.id, "name": user.name} if user is not None else None,
        saved_dt=saved.created_dt,
    )


def describe_page(page: Page) -> Page:
    """The page's mappings described, the savers loaded in one query."""
    ids = {saved.created_by_id for saved in page.items if saved.created_by_id is not None}
    savers = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))} if ids else {}
    return dataclasses.replace(page, items=[describe(saved, savers) for saved in page.items])


def describe_one(saved: SavedMapping) -> SavedMappingView:
    saver = db.session.get(User, saved.created_by_id) if saved.created_by_id is not None else None
    return describe(saved, {saver.id: saver} if saver is not None else {})


# --- operations ---------------------------------------------------------------------------------


def _own(actor: User, saved: SavedMapping) -> None:
    if saved.organisation_id is None or saved.organisation_id != actor.organisation_id:
        raise OperationError(_l("Only your organisation's saved mappings can be changed."))


def clean_name(name: str) -> str:
    return " ".join((name or "").split())


def name_taken(saved: SavedMapping, name: str) -> bool:
    """Whether another mapping of the same organisation and kind is saved under the name."""
    taken = db.session.scalar(
        select(SavedMapping.id).where(
            SavedMapping.organisation_id == saved.organisation_id,
            SavedMapping.kind == saved.kind,
            SavedMapping.name == name,
            SavedMapping.id != saved.id,
        )
    )
    return taken is not None


def _set_name(saved: SavedMapping, name: str) -> None:
    saved.name = name
    db.session.flush()


def rename_mapping(actor: User, saved: SavedMapping, name: str) -> SavedMapping:
    """Give a saved mapping another name, not one its organisation uses for that kind; flush, audit."""
    _own(actor, saved)
    new = clean_name(name)
    if not new:
        raise OperationError(_l("Give the mapping a name."), field="name")
    if len(new) > NAME_LENGTH:
        raise OperationError(_l("The name is at most %(max)d characters.", max=NAME_LENGTH), field="name")
    if new == saved.name:
        return saved
    if name_taken(saved, new):
        raise OperationError(NAME_TAKEN, field="name")
    old = saved.name
    try:
        attempt(_set_name, saved, new)
    except IntegrityError:
        # Another request took the name since the check; the savepoint undid the rename.
        raise OperationError(NAME_TAKEN, field="name") from None
    audit.record(
        "import.mapping_renamed",
        f"Renamed the saved column mapping {old!r} ({saved.kind}) to {new!r}",
        actor=actor,
        obj=saved,
        data={"name": [old, new], "kind": saved.kind},
    )
    logger.info("Saved mapping %s renamed by user %s", saved.id, actor.id)
    return saved


def delete_mapping(actor: User, saved: SavedMapping) -> None:
    """Delete a saved mapping (imports already confirmed keep their own copy); flush, audit."""
    _own(actor, saved)
    audit.record(
        "import.mapping_deleted",
        f"Deleted the saved column mapping {saved.name!r} ({saved.kind})",
        actor=actor,
        obj=saved,
        data={"name": saved.name, "kind": saved.kind, "mapping": saved.fields},
    )
    db.session.delete(saved)
    db.session.flush()
    logger.info("Saved mapping %s deleted by user %s", saved.id, actor.id)


# --- schemas (page and API) ---------------------------------------------------------------------


class ListSavedMappingsArgs(PageArgs):
    """A page of the organisation's saved column mappings, by kind and name."""


class RenameSavedMappingArgs(BaseSchema):
    name = ma_fields.String(
        required=True,
        validate=validate.Length(min=1, max=NAME_LENGTH),
        metadata={"description": _l("The new name; no other mapping of the same kind may have it.")},
    )


class SavedMappingFieldSchema(BaseSchema):
    field = ma_fields.String(dump_only=True)
    label = ma_fields.String(dump_only=True)
    column = ma_fields.String(dump_only=True)


class SavedMappingSaverSchema(BaseSchema):
    id = Integer(dump_only=True)
    name = ma_fields.String(dump_only=True)


class SavedMappingSchema(BaseSchema):
    """A column mapping saved by the user's organisation."""

    id = Integer(dump_only=True)
    kind = ma_fields.String(
        dump_only=True, metadata={"description": _l("The import it is for: facilities, survey.")}
    )
    kind_title = ma_fields.String(dump_only=True)
    name = ma_fields.String(dump_only=True)
    mapping = ma_fields.List(
        ma_fields.Nested(SavedMappingFieldSchema),
        dump_only=True,
        metadata={"description": _l("Each field with the column of the file that holds it.")},
    )
    saved_by = ma_fields.Nested(SavedMappingSaverSchema, dump_only=True, allow_none=True)
    saved_dt = ma_fields.AwareDateTime(dump_only=True)
