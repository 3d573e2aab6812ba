"""Pickers that search instead of listing every row: a site, a product, a supplier, a report.

A form field that points at a row of a growing table offers a search box and, once searched, a
bounded page of matches (and a "more" button) as radio buttons or checkboxes named like the field,
so the chosen id travels as an ordinary form value and works without JavaScript. What was chosen
before stays offered first. The field's ``choices`` are what the page offers, so a forged or
invisible id is refused by the field's own choice check, as with a select of every row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, or_

from monitoring.accounts.models import Organisation
from monitoring.core.db import db
from monitoring.supplychain import queries
from monitoring.supplychain.models import Product, Site

# How many matches one page of a picker shows.
PICKER_PAGE = 20
# The highest offset a "more" button goes to; past it, the user narrows the search.
MAX_OFFSET = 1000


@dataclass
class Picker:
    """What the ``picker`` macro renders for one field."""

    name: str
    text: str = ""
    chosen: list[tuple[str, str]] = field(default_factory=list)
    matches: list[tuple[str, str]] = field(default_factory=list)
    next_offset: int | None = None
    searched: bool = False

    @property
    def choices(self) -> list[tuple[str, str]]:
        return [*self.chosen, *self.matches]

    @property
    def search_name(self) -> str:
        return f"{self.name}_q"

    @property
    def offset_name(self) -> str:
        return f"{self.name}_next"

    @property
    def more_name(self) -> str:
        return f"{self.name}_more"


def search_text(values: Mapping[str, Any], name: str) -> str:
    return " ".join(str(values.get(f"{name}_q") or "").split())[:200]


def _offset(values: Mapping[str, Any], name: str) -> int:
    """The page's offset: the next page's when "more" was pressed, else the first."""
    raw = str(values.get(f"{name}_next") or "") if f"{name}_more" in values else ""
    return min(int(raw), MAX_OFFSET) if raw.isdigit() else 0


def chosen_ids(raw: Iterable[Any]) -> list[int]:
    """The ids among the submitted values (anything else cannot be a row and is left to the field)."""
    return [int(v) for v in raw if str(v).isdigit()][: PICKER_PAGE * 5]


def pick(
    name: str,
    query: Select[Any],
    id_column: Any,
    values: Mapping[str, Any],
    chosen: Iterable[Any],
    label: Callable[[Any], str],
    search: Callable[[str], ColumnElement[bool] | None],
    order: Iterable[Any] = (),
    browse: bool = False,
) -> Picker:
    """The picker of ``name`` over ``query`` (already scoped to what the user may see).

    ``values`` is the request's form or query string (``<name>_q`` the search, ``<name>_next``
    the next page's offset, used when ``<name>_more`` was pressed); ``chosen`` the ids chosen so
    far; ``search`` turns the text into a condition (None when it matches nothing); ``browse``
    offers the first rows before any search (for a list already narrowed, such as the reports of
    one site).
    """
    order = list(order)
    picker = Picker(name=name, text=search_text(values, name))
    ids = chosen_ids(chosen)
    if ids:
        chosen_rows = db.session.scalars(query.where(id_column.in_(ids)).order_by(*order, id_column))
        picker.chosen = [(str(row.id), label(row)) for row in chosen_rows]
    condition = search(picker.text) if picker.text else None
    picker.searched = bool(picker.text)
    if condition is None and not (browse and not picker.text):
        return picker
    offset = _offset(values, name)
    matches = query if condition is None else query.where(condition)
    if picker.chosen:
        matches = matches.where(id_column.not_in([int(value) for value, _label in picker.chosen]))
    page = matches.order_by(*order, id_column).offset(offset).limit(PICKER_PAGE + 1)
    rows: list[Any] = list(db.session.scalars(page))
    picker.matches = [(str(row.id), label(row)) for row in rows[:PICKER_PAGE]]
    if len(rows) > PICKER_PAGE and offset + PICKER_PAGE <= MAX_OFFSET:
        picker.next_offset = offset + PICKER_PAGE
    return picker


def site_search(text: str) -> ColumnElement[bool] | None:
    """Sites by a part of a name (any of their names, in any script), address or city, or by the
    Open Supply Hub id: the sites list's own search."""
    words = queries.site_search(text, Site.address, Site.city)
    by_id = Site.os_id == text.upper()
    return by_id if words is None else words | by_id


def product_search(text: str) -> ColumnElement[bool] | None:
    """Products whose brand and model hold every word of the text."""
    words = text.split()[: queries.MAX_SEARCH_WORDS]
    conditions = [
        or_(Product.brand.icontains(w, autoescape=True), Product.model.icontains(w, autoescape=True))
        for w in words
    ]
    return and_(*conditions) if conditions else None


def organisation_search(text: str) -> ColumnElement[bool] | None:
    return Organisation.name.icontains(text, autoescape=True)


def searching(values: Mapping[str, Any], *names: str) -> bool:
    """Whether a form was sent by one of its pickers' search or "more" buttons (save nothing then)."""
    return any(f"{name}_search" in values or f"{name}_more" in values for name in names)
