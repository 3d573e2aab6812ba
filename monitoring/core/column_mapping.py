"""Matching the columns of an uploaded file to the fields an import needs, and named saved mappings.

An import kind describes its fields (:class:`TargetField`: a key, a label, whether it is required,
other names it goes by and, optionally, a test on sample values). :func:`propose` matches the
file's columns to them by name, by synonym and by what the values look like; the user confirms or
corrects the proposal on a page (the ``macros/column_mapping.html`` macro) and may save it under a
name, so the next export of the same form is matched the same way (:func:`best_saved`).

A mapping is a dict from field key to the file's column name (``None``: not in the file). Columns
no field takes are listed to the user (:func:`unmapped_columns`) before anything is imported.
"""

from __future__ import annotations

import json
import logging
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from monitoring.core.db import Base, db
from monitoring.core.transactions import attempt
from monitoring.core.types import UTCDateTime, utcnow

logger = logging.getLogger(__name__)

# A column is taken for a field by its values when at least this share of its samples pass the test.
LOOKS_LIKE_SHARE = 0.8
# How strongly each kind of evidence ties a column to a field (the strongest pairs are taken first).
SCORE_KEY = 100
SCORE_SYNONYM = 90
SCORE_LABEL = 80
SCORE_VALUES = 50

_INVISIBLE = dict.fromkeys(map(ord, "\ufeff\u200b\u200c\u200d\u2060\u00ad"), None)
_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)


@dataclass(frozen=True)
class TargetField:
    """A field an import fills from a column of the file."""

    key: str
    label: Any
    required: bool = False
    synonyms: tuple[str, ...] = ()
    # A test on one sample value: a column whose values pass it is proposed for this field.
    looks_like: Callable[[str], bool] | None = None


def normalise(name: str) -> str:
    """A column name compared without case, spacing, punctuation, accents or a BOM.

    A KoboToolbox path ``group/subgroup/question`` is compared by its question's name alone.
    """
    text = unicodedata.normalize("NFKC", str(name)).translate(_INVISIBLE).strip()
    if "/" in text:
        text = text.rstrip("/").rsplit("/", 1)[-1]
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return _NOT_WORD.sub("_", text.casefold()).strip("_")


def _looks_like_share(field: TargetField, values: Sequence[str]) -> float:
    if field.looks_like is None:
        return 0.0
    present = [value.strip() for value in values if value and value.strip()]
    if not present:
        return 0.0
    passed = 0
    for value in present:
        try:
            passed += bool(field.looks_like(value))
        except (ValueError, TypeError):
            continue
    return passed / len(present)


def _score(field: TargetField, column: str, values: Sequence[str]) -> int:
    name = normalise(column)
    if not name:
        return 0
    if name == normalise(field.key):
        return SCORE_KEY
    if name in {normalise(synonym) for synonym in field.synonyms}:
        return SCORE_SYNONYM
    if name == normalise(str(field.label)):
        return SCORE_LABEL
    if _looks_like_share(field, values) >= LOOKS_LIKE_SHARE:
        return SCORE_VALUES
    return 0


def propose(
    fields: Sequence[TargetField], columns: Sequence[str], samples: Mapping[str, Sequence[str]]
) -> dict[str, str | None]:
    """Field key -> the file's column proposed for it (None: none fits).

    Each column serves one field at most. The strongest ties are taken first (an exact name, then
    a synonym, then the label, then the values); among equals the earlier field and column win.
    """
    unique_columns = list(dict.fromkeys(column for column in columns if normalise(column)))
    candidates = []
    for field_index, field in enumerate(fields):
        for column_index, column in enumerate(unique_columns):
            score = _score(field, column, samples.get(column, ()))
            if score:
                candidates.append((-score, field_index, column_index))
    candidates.sort()
    mapping: dict[str, str | None] = {field.key: None for field in fields}
    taken: set[int] = set()
    for _score_value, field_index, column_index in candidates:
        key = fields[field_index].key
        if mapping[key] is None and column_index not in taken:
            mapping[key] = unique_columns[column_index]
            taken.add(column_index)
    return mapping


def is_exact(
    fields: Sequence[TargetField], columns: Sequence[str], mapping: Mapping[str, str | None]
) -> bool:
    """Whether every column is a field's own name, mapped to it, and none is left over."""
    if unmapped_columns(columns, mapping):
        return False
    by_field = {field.key: field for field in fields}
    return all(
        column is None or (key in by_field and normalise(column) == normalise(key))
        for key, column in mapping.items()
    )


def unmapped_columns(columns: Iterable[str], mapping: Mapping[str, str | None]) -> list[str]:
    """The file's columns no field takes, in the file's order (columns without a name left out)."""
    used = {column for column in mapping.values() if column}
    return [column for column in dict.fromkeys(columns) if column.strip() and column not in used]


def missing_required(fields: Iterable[TargetField], mapping: Mapping[str, str | None]) -> list[TargetField]:
    """The required fields that no column fills."""
    return [field for field in fields if field.required and not mapping.get(field.key)]


def clean_mapping(
    fields: Sequence[TargetField], columns: Sequence[str], mapping: Mapping[str, Any]
) -> dict[str, str | None]:
    """The mapping restricted to known fields and to columns of the file (anything else: None)."""
    known = set(columns)
    result: dict[str, str | None] = {}
    for field in fields:
        column = mapping.get(field.key)
        result[field.key] = column if isinstance(column, str) and column in known else None
    return result


def sample_values(
    columns: Sequence[str], rows: Iterable[Sequence[str]], per_column: int = 2
) -> dict[str, list[str]]:
    """The first ``per_column`` non-blank values of each column, from the first rows."""
    samples: dict[str, list[str]] = {column: [] for column in columns}
    for row in rows:
        for index, column in enumerate(columns):
            if index < len(row) and len(samples[column]) < per_column:
                value = str(row[index]).strip()
                if value:
                    samples[column].append(value)
    return samples


class SavedMapping(Base):
    """A mapping an organisation saved under a name, to match the next file of the same form."""

    __tablename__ = "saved_mapping"
    __table_args__ = (UniqueConstraint("organisation_id", "kind", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    # The import it is for (e.g. "facilities", "survey").
    kind: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(120))
    # JSON: field key -> column name (fields not in the file left out).
    mapping: Mapped[str] = mapped_column(Text, default="{}")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def fields(self) -> dict[str, str]:
        """Field key -> column name."""
        stored = json.loads(self.mapping or "{}")
        return {str(key): str(value) for key, value in stored.items() if value}

    def matches(self, columns: Iterable[str]) -> bool:
        """Whether every column it names exists in the file (compared as :func:`normalise` does)."""
        present = {normalise(column) for column in columns}
        wanted = self.fields.values()
        return bool(wanted) and all(normalise(column) in present for column in wanted)

    def for_columns(self, columns: Sequence[str]) -> dict[str, str | None]:
        """Its mapping onto the file's own spelling of the columns (None where one is absent)."""
        by_name: dict[str, str] = {}
        for column in columns:
            by_name.setdefault(normalise(column), column)
        return {key: by_name.get(normalise(column)) for key, column in self.fields.items()}


def _same_organisation(organisation_id: int | None) -> Any:
    if organisation_id is None:
        return SavedMapping.organisation_id.is_(None)
    return SavedMapping.organisation_id == organisation_id


def saved_mappings(organisation_id: int | None, kind: str) -> list[SavedMapping]:
    """The organisation's saved mappings of an import kind, by name."""
    query = (
        select(SavedMapping)
        .where(_same_organisation(organisation_id), SavedMapping.kind == kind)
        .order_by(SavedMapping.name, SavedMapping.id)
    )
    return list(db.session.scalars(query))


def saved_mapping(organisation_id: int | None, kind: str, mapping_id: int) -> SavedMapping | None:
    """One of the organisation's saved mappings, or None (another organisation's is not found)."""
    return db.session.scalar(
        select(SavedMapping).where(
            SavedMapping.id == mapping_id, _same_organisation(organisation_id), SavedMapping.kind == kind
        )
    )


def _saved_named(organisation_id: int | None, kind: str, name: str) -> SavedMapping | None:
    return db.session.scalar(
        select(SavedMapping).where(
            _same_organisation(organisation_id), SavedMapping.kind == kind, SavedMapping.name == name
        )
    )


def _fill(saved: SavedMapping, actor_id: int | None, stored: str) -> None:
    saved.mapping = stored
    saved.created_by_id = actor_id
    saved.created_dt = utcnow()


def _insert(saved: SavedMapping) -> None:
    db.session.add(saved)
    db.session.flush()


def save_mapping(
    actor_id: int | None,
    organisation_id: int | None,
    kind: str,
    name: str,
    mapping: Mapping[str, str | None],
) -> SavedMapping:
    """Save a mapping under a name, replacing the organisation's mapping of that name; flush."""
    name = " ".join(name.split())[:120]
    stored = json.dumps({key: column for key, column in mapping.items() if column}, sort_keys=True)
    saved = _saved_named(organisation_id, kind, name)
    if saved is None:
        saved = SavedMapping(organisation_id=organisation_id, kind=kind, name=name)
        _fill(saved, actor_id, stored)
        try:
            attempt(_insert, saved)
        except IntegrityError:
            # Another request saved one under this name since the look-up: replace that one.
            saved = _saved_named(organisation_id, kind, name)
            if saved is None:
                raise
            logger.info("Column mapping %r (%s) was saved concurrently; replacing it", name, kind)
    _fill(saved, actor_id, stored)
    db.session.flush()
    logger.info("Saved column mapping %s (%s) of organisation %s", saved.id, kind, organisation_id)
    return saved


def best_saved(organisation_id: int | None, kind: str, columns: Sequence[str]) -> SavedMapping | None:
    """The saved mapping whose columns all exist in the file: the one naming most, then the newest."""
    fitting = [saved for saved in saved_mappings(organisation_id, kind) if saved.matches(columns)]
    if not fitting:
        return None
    return max(fitting, key=lambda saved: (len(saved.fields), saved.created_dt, saved.id))
