"""What a notification is about, as told by the feature that owns it.

A notification points at a case (``case_id``) and perhaps a corrective action (``action_id``),
or at a row named in its parameters (a worker report's ``report_id``), but notifications sit
below the features that own those rows and may not import them. Each feature registers, at
start-up (:mod:`monitoring.cases.subscribers`, :mod:`monitoring.testimony.subscribers`), how its
rows are loaded, linked and described: :func:`register_subject` for each kind of row and
:func:`register_titles` for the states and other enum values the texts name. Texts fall back to
these rows where their parameters lack a value.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from monitoring.core.types import TitledEnum
from monitoring.notifications.models import Notification

logger = logging.getLogger(__name__)

# The columns of Notification that point at a subject, most specific first; other kinds of
# subject are named by a parameter (``Subject.param``) and come after these.
SubjectKind = str
SUBJECT_KINDS: tuple[SubjectKind, ...] = ("action", "case")


@dataclass(frozen=True)
class Subject:
    """How the rows of one kind of subject are loaded, linked and described."""

    # The rows with these ids, by id, in one query.
    load: Callable[[Collection[int]], Mapping[int, Any]]
    # The page of one row, from its id (a path under BASE_URL).
    path: Callable[[int], str]
    # Placeholder values from one row (e.g. reference, site, supplier, state, dates).
    facts: Callable[[Any], Mapping[str, Any]]
    # The parameter that holds the row's id, for a kind without a column of its own.
    param: str | None = None


_SUBJECTS: dict[SubjectKind, Subject] = {}
_TITLES: dict[str, type[TitledEnum]] = {}


def register_subject(kind: SubjectKind, subject: Subject) -> None:
    """Say how notifications about ``kind`` rows are told (done once, at start-up)."""
    _SUBJECTS[kind] = subject


def register_titles(**enums: type[TitledEnum]) -> None:
    """Name the enum whose member titles the text shows for a parameter (``state=CaseState``)."""
    _TITLES.update(enums)


def _kinds() -> list[SubjectKind]:
    """Every kind of subject, most specific first: the columns, then those named by a parameter."""
    return [*SUBJECT_KINDS, *(kind for kind in _SUBJECTS if kind not in SUBJECT_KINDS)]


def subject_id(notification: Notification, kind: SubjectKind) -> int | None:
    if kind == "action":
        return notification.action_id
    if kind == "case":
        return notification.case_id
    subject = _SUBJECTS.get(kind)
    value = (notification.params or {}).get(subject.param) if subject and subject.param else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def subject_path(notification: Notification) -> str | None:
    """The page of the most specific subject the notification has, if any."""
    for kind in _kinds():
        row_id = subject_id(notification, kind)
        if row_id is not None and kind in _SUBJECTS:
            return _SUBJECTS[kind].path(row_id)
    return None


def title(param: str, value: Any) -> str | None:
    """The title of ``value`` in the enum registered for ``param``; None when it is not one."""
    enum_cls = _TITLES.get(param)
    if not value or enum_cls is None:
        return None
    try:
        return enum_cls(value).title
    except ValueError:
        return None


@dataclass
class Related:
    """The subjects a page of notifications is about, loaded at once (kind -> id -> row)."""

    rows: dict[str, Mapping[int, Any]] = field(default_factory=dict)


def load_related(notifications: Collection[Notification]) -> Related:
    """Load the subjects of a page of notifications, one query per kind (the texts use them)."""
    related = Related()
    for kind, subject in _SUBJECTS.items():
        ids = {i for n in notifications if (i := subject_id(n, kind)) is not None}
        related.rows[kind] = subject.load(ids) if ids else {}
    return related


def facts(notification: Notification, related: Related | None = None) -> dict[str, Any]:
    """The placeholder values the subjects' rows give, the most specific subject winning."""
    values: dict[str, Any] = {}
    for kind in reversed(_kinds()):
        subject = _SUBJECTS.get(kind)
        row_id = subject_id(notification, kind)
        if subject is None or row_id is None:
            continue
        rows = related.rows.get(kind, {}) if related is not None else subject.load([row_id])
        row = rows.get(row_id)
        if row is not None:
            values.update(subject.facts(row))
    return values
