"""The lists of findings, cases and corrective actions: their filters and order, once.

Each function takes the user and the validated ``List...Args`` dict (the same schema parses the
page's query string and the API's) and returns a :class:`Listing`, the query and the key
columns of its order, which the page and the API paginate alike.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from types import SimpleNamespace
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    Exists,
    Integer,
    Select,
    bindparam,
    case,
    cast,
    func,
    literal,
    or_,
    select,
    tuple_,
)
from sqlalchemy.orm import aliased, joinedload, selectinload

from monitoring.accounts.models import Organisation, User
from monitoring.cases import deadlines, permissions
from monitoring.cases.models import ActionState, Case, CaseState, CorrectiveAction, Finding, Severity
from monitoring.cases.standards import codes_in_group
from monitoring.core.db import db
from monitoring.core.pagination import Page, decode_cursor, encode_cursor, page_size
from monitoring.supplychain.models import Site, SiteName

# Sorts actions without a due date after every dated one (keyset keys must not be NULL).
NO_DUE_DATE = date(9999, 12, 31)


@dataclass(frozen=True)
class Listing:
    """A list's query and the key columns of its order (the last one unique)."""

    query: Select[Any]
    order: list[Any]
    # Sort the keys first and load the page's rows after (core.pagination.paginate_keys_first):
    # for a list ordered by expressions, which no index serves.
    keys_first: bool = False


# --- findings ---------------------------------------------------------------------------------


def list_findings(user: User, args: Mapping[str, Any]) -> Listing:
    """Newest first; a monitor lists its own organisation's findings."""
    query = permissions.listed_findings(user).options(
        joinedload(Finding.case), selectinload(Finding.report_links)
    )
    if "site_id" in args:
        query = query.where(Finding.site_id == args["site_id"])
    if "category" in args:
        query = query.where(Finding.standard.in_(codes_in_group(args["category"])))
    if "severity" in args:
        query = query.where(Finding.severity == args["severity"])
    if args.get("in_case") is not None:
        in_case = Finding.case_id.is_not(None)
        query = query.where(in_case if args["in_case"] else ~in_case)
    return Listing(query, [Finding.created_dt.desc(), Finding.id.desc()])


def finding_sites(user: User) -> Select[Site]:
    """The sites of the findings the user lists (what the site filter's picker searches)."""
    # A correlated EXISTS: the picker reads sites by name and stops at its page, looking up each
    # site's findings by index, instead of reading every listed finding's row for its site.
    listed = permissions.listed_findings(user).where(Finding.site_id == Site.id)
    return select(Site).where(listed.with_only_columns(literal(1)).exists())


def open_case_sites(user: User) -> list[Site]:
    """The sites with findings the user may put into a new case."""
    site_ids = permissions.openable_findings(user).with_only_columns(Finding.site_id).distinct()
    return list(db.session.scalars(select(Site).where(Site.id.in_(site_ids)).order_by(Site.name, Site.id)))


def openable_findings(user: User, site_id: int) -> list[Finding]:
    query = permissions.openable_findings(user).where(Finding.site_id == site_id).order_by(Finding.id)
    return list(db.session.scalars(query))


def addable_findings(user: User, case_: Case) -> list[Finding]:
    """Findings of the case's site and organisation that are in no case yet."""
    query = permissions.visible_findings(user).where(
        Finding.case_id.is_(None),
        Finding.site_id == case_.site_id,
        Finding.organisation_id == case_.monitor_organisation_id,
    )
    return list(db.session.scalars(query.order_by(Finding.id)))


# --- cases ------------------------------------------------------------------------------------


def _count_of(model: Any, *conditions: ColumnElement[bool]) -> Any:
    query = select(cast(func.count(), Integer)).select_from(model).where(*conditions)
    return query.correlate(Case).scalar_subquery()


def list_cases(user: User, args: Mapping[str, Any], today: date) -> Listing:
    """Newest first. Rows: (case, findings, open actions, next deadline, overdue actions).

    Overdue means an open corrective action whose deadline in force has passed.
    """
    overdue = deadlines.case_overdue(today)
    open_actions = _count_of(
        CorrectiveAction, CorrectiveAction.case_id == Case.id, CorrectiveAction.state != ActionState.closed
    )
    query = (
        permissions.visible_cases(user, today)
        .add_columns(
            _count_of(Finding, Finding.case_id == Case.id), open_actions, deadlines.case_next_due(), overdue
        )
        .options(joinedload(Case.lead_coordinator))
    )
    return Listing(_case_filters(query, args, overdue), [Case.opened_dt.desc(), Case.id.desc()])


def _case_filters(query: Select[Any], args: Mapping[str, Any], overdue: Exists) -> Select[Any]:
    """The case list's filters (``overdue``: one of the case's actions is overdue).

    Everything a row shows beyond the case's own columns is a subquery correlated with it, so
    that a page of 50 evaluates them 50 times, in the order of the index on the opening date."""
    for name in ("state", "severity", "site_id"):
        if name in args:
            query = query.where(getattr(Case, name) == args[name])
    if "country" in args:
        query = query.where(Case.site_id.in_(select(Site.id).where(Site.country == args["country"].upper())))
    if "category" in args:
        in_group = select(Finding.case_id).where(Finding.standard.in_(codes_in_group(args["category"])))
        query = query.where(Case.id.in_(in_group))
    if args.get("overdue") is not None:
        query = query.where(overdue if args["overdue"] else ~overdue)
    if args.get("q", "").strip():
        query = query.where(case_text_clause(args["q"]))
    return query


# Aliases, so that the filters' subqueries on sites and organisations do not correlate with them.
_SITE = aliased(Site, name="case_site")
_MONITORS = aliased(Organisation, name="case_monitors")
_LEAD = aliased(User, name="case_lead")


def list_case_briefs(user: User, args: Mapping[str, Any], today: date) -> Listing:
    """The case list (same filters and order as :func:`list_cases`) as rows of plain columns:
    what a listed case shows and nothing else (the API's ``CaseSchema``; see :func:`case_briefs`).

    Loading each case with its site, monitor organisation and lead coordinator as ORM objects
    cost most of an API list's time; a row of 19 columns costs a fraction of it.
    """
    query, overdue = _case_brief_query(today)
    query = _case_filters(query.where(permissions.visible_case_clause(user, today)), args, overdue)
    return Listing(query, [Case.opened_dt.desc(), Case.id.desc()])


@lru_cache(maxsize=4)
def _case_brief_query(today: date) -> tuple[Select[Any], Exists]:
    """The brief list's columns and joins, built once a day (statements are immutable: each
    filter makes a new one); and whether one of a case's actions is overdue."""
    columns: list[Any] = [
        Case.id,
        Case.reference,
        Case.state,
        Case.severity,
        Case.outcome,
        Case.opened_dt,
        Case.state_changed_dt,
        Case.closed_dt,
        _SITE.id,
        _SITE.name,
        _SITE.city,
        _SITE.country,
        _SITE.kind,
        _MONITORS.id,
        _MONITORS.name,
        _MONITORS.kind,
        _LEAD.id,
        _LEAD.name,
        deadlines.case_next_due(),
    ]
    query = (
        select(*columns)
        .select_from(Case)
        .join(_SITE, _SITE.id == Case.site_id)
        .join(_MONITORS, _MONITORS.id == Case.monitor_organisation_id)
        .outerjoin(_LEAD, _LEAD.id == Case.lead_coordinator_id)
    )
    return query, deadlines.case_overdue(today)


# The brief list's order (newest first), the key columns of its cursor.
CASE_BRIEF_ORDER: list[Any] = [Case.opened_dt.desc(), Case.id.desc()]
# Page statements of the brief list, ready to run, by what makes them (see case_brief_page).
_BRIEF_PAGES: dict[Hashable, Select[Any]] = {}
_BRIEF_PAGES_KEPT = 512


def case_brief_page(user: User, args: Mapping[str, Any], today: date) -> Page:
    """One page of :func:`list_case_briefs` (rows of its 19 columns), as ``paginate`` pages it:
    the same rows, order and cursors (``InvalidCursor`` for a bad ``after``).

    Building the statement, and SQLAlchemy's cache key of it, cost more than running it: the
    page's statement is kept, by its day, the user's visibility condition (built for every
    request, as it may first bring an affiliate's stored sites up to date; kept by its SQL and
    its values), every input but the cursor, the page size and whether a cursor is given (its
    values are bound when the statement runs). At most 512 are kept, then they are dropped.
    """
    visible = permissions.visible_case_clause(user, today)
    size = page_size(args.get("limit"))
    inputs = tuple(sorted((name, value) for name, value in args.items() if name != "after"))
    key = _statement_key(visible, (today, inputs, size, bool(args.get("after"))))
    statement = _BRIEF_PAGES.get(key) if key is not None else None
    if statement is None:
        query, overdue = _case_brief_query(today)
        statement = _case_filters(query.where(visible), args, overdue).add_columns(Case.opened_dt, Case.id)
        statement = statement.order_by(*CASE_BRIEF_ORDER)
        if args.get("after"):
            after = tuple_(
                bindparam("after_opened_dt", type_=Case.opened_dt.type), bindparam("after_id", type_=Integer)
            )
            statement = statement.where(tuple_(Case.opened_dt, Case.id) < after)
        statement = statement.limit(size + 1)
        if key is not None:
            if len(_BRIEF_PAGES) >= _BRIEF_PAGES_KEPT:
                _BRIEF_PAGES.clear()
            _BRIEF_PAGES[key] = statement
    params: dict[str, Any] = {}
    if args.get("after"):
        opened, case_id = decode_cursor(args["after"], CASE_BRIEF_ORDER)
        params = {"after_opened_dt": opened, "after_id": case_id}
    # On the session's connection: the rows as they are, without the ORM's loading of them
    # (plain columns; the session's pending changes are flushed first, as a query would).
    db.session.flush()
    rows = db.session.connection().execute(statement, params).all()
    more = len(rows) > size
    rows = rows[:size]
    width = len(rows[0]) - 2 if rows else 0
    next_cursor = encode_cursor(list(rows[-1][width:])) if more and rows else None
    return Page(items=[tuple(row[:width]) for row in rows], next_cursor=next_cursor, limit=size)


def _statement_key(clause: ColumnElement[Any], rest: tuple[Any, ...]) -> Hashable | None:
    """What makes a statement built on ``clause``: its SQL's cache key, the values bound in it
    and ``rest``; None when SQLAlchemy cannot cache it or a value cannot be a key."""
    cache_key = clause._generate_cache_key()
    if cache_key is None:
        return None
    key = (cache_key.key, tuple(bind.effective_value for bind in cache_key.bindparams), rest)
    try:
        hash(key)
    except TypeError:  # a list bound in it (IN): build the statement each time
        return None
    return key


@dataclass(frozen=True)
class BoardRow:
    """A case on the board as plain values: what its row shows and nothing else."""

    id: int
    reference: str
    state: CaseState
    severity: Severity
    site: SimpleNamespace  # name, city, country
    lead: str | None
    findings: int
    open_actions: int
    next_due: date | None
    overdue: bool


def list_case_board(user: User, args: Mapping[str, Any], today: date) -> Listing:
    """The case board: the cases of :func:`list_cases` (same filters, same order) as rows of
    plain columns, what a row of the board shows (see :func:`board_rows`).

    A page of 50 Case objects, each with its site, monitor organisation and lead (with the
    lead's organisation) joined in, cost more to plan and to load than the board shows.
    """
    query, overdue = _case_board_query(today)
    query = _case_filters(query.where(permissions.visible_case_clause(user, today)), args, overdue)
    return Listing(query, [Case.opened_dt.desc(), Case.id.desc()])


@lru_cache(maxsize=4)
def _case_board_query(today: date) -> tuple[Select[Any], Exists]:
    """The board's columns and joins, built once a day; and whether one of a case's actions is
    overdue (for the filter: a row's ``overdue`` follows from its next deadline)."""
    open_actions = _count_of(
        CorrectiveAction, CorrectiveAction.case_id == Case.id, CorrectiveAction.state != ActionState.closed
    )
    query = (
        select(
            Case.id,
            Case.reference,
            Case.state,
            Case.severity,
            _SITE.name,
            _SITE.city,
            _SITE.country,
            _LEAD.name,
            _count_of(Finding, Finding.case_id == Case.id),
            open_actions,
            deadlines.case_next_due(),
        )
        .select_from(Case)
        .join(_SITE, _SITE.id == Case.site_id)
        .outerjoin(_LEAD, _LEAD.id == Case.lead_coordinator_id)
    )
    return query, deadlines.case_overdue(today)


def board_rows(rows: Iterable[Sequence[Any]], today: date) -> list[BoardRow]:
    """The rows of :func:`list_case_board`; a case is overdue when its next deadline has passed
    (the earliest deadline in force is before today exactly when one of them is)."""
    board = []
    for case_id, reference, state, severity, name, city, country, lead, findings, open_, due in rows:
        site = SimpleNamespace(name=name, city=city, country=country)
        overdue = due is not None and due < today
        board.append(
            BoardRow(
                case_id,
                reference,
                state,
                severity,
                site,
                lead,
                int(findings or 0),
                int(open_ or 0),
                due,
                overdue,
            )
        )
    return board


def case_briefs(user: User, rows: Iterable[Sequence[Any]], today: date) -> list[SimpleNamespace]:
    """The rows of :func:`list_case_briefs` as ``CaseSchema`` reads them, shown as
    :func:`monitoring.cases.services_shown.show_case` shows a case: suppliers get its site,
    reference and state only (the other attributes are missing, so the fields are left out)."""
    people = permissions.sees_people(user)
    briefs = []
    for row in rows:
        (case_id, reference, state, severity, outcome, opened, changed, closed) = row[:8]
        site_id, site_name, city, country, site_kind, org_id, org_name, org_kind, lead_id, lead, due = row[8:]
        brief = SimpleNamespace(
            id=case_id,
            reference=reference,
            state=state,
            opened_dt=opened,
            state_changed_dt=changed,
            closed_dt=closed,
            site=SimpleNamespace(id=site_id, name=site_name, city=city, country=country, kind=site_kind),
        )
        if people:
            brief.monitor_organisation = SimpleNamespace(id=org_id, name=org_name, kind=org_kind)
            brief.lead_coordinator = None if lead_id is None else SimpleNamespace(id=lead_id, name=lead)
            brief.severity, brief.outcome = severity, outcome
            brief.next_due_date, brief.overdue = due, due is not None and due < today
        briefs.append(brief)
    return briefs


def like_pattern(text: str) -> str:
    """A LIKE pattern (escaped with a backslash) for text anywhere in a lower-cased column."""
    escaped = text.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def case_text_clause(text: str) -> ColumnElement[bool]:
    """Cases whose reference, site name (or another name of the site) or a supplier's name holds ``text``."""
    pattern = like_pattern(text)
    sites = select(Site.id).where(func.lower(Site.name).like(pattern, escape="\\"))
    other_names = select(SiteName.site_id).where(func.lower(SiteName.name).like(pattern, escape="\\"))
    suppliers = (
        select(CorrectiveAction.case_id)
        .join(Organisation, Organisation.id == CorrectiveAction.supplier_id)
        .where(func.lower(Organisation.name).like(pattern, escape="\\"))
    )
    return or_(
        func.lower(Case.reference).like(pattern, escape="\\"),
        Case.site_id.in_(sites),
        Case.site_id.in_(other_names),
        Case.id.in_(suppliers),
    )


def case_countries(user: User, today: date) -> list[str]:
    """The countries of the sites of the cases the user sees (the country filter's choices)."""
    # The sites' countries one after the other (a loose scan of the index on the sites' country),
    # each kept when a case the user sees is at a site there: a few index lookups a country
    # instead of reading every case the user sees and its site.
    first = select(func.min(Site.country).label("country")).cte("case_country", recursive=True)
    following = select(func.min(Site.country)).where(Site.country > first.c.country).scalar_subquery()
    scan = first.union_all(select(following).where(first.c.country.is_not(None)))
    at_site = select(Case.id).join(Site, Site.id == Case.site_id).where(Site.country == scan.c.country)
    # One case is enough (a scalar subquery with LIMIT 1, which PostgreSQL looks up for each
    # country; an EXISTS it turns into a join of every visible case with its site).
    one_case = at_site.where(permissions.visible_case_clause(user, today)).limit(1).scalar_subquery()
    query = select(scan.c.country).where(scan.c.country.is_not(None), one_case.is_not(None))
    return list(db.session.scalars(query.order_by(scan.c.country)))


# --- corrective actions -------------------------------------------------------------------------


def _actions(user: User) -> Select[CorrectiveAction]:
    return permissions.visible_actions(user).options(
        joinedload(CorrectiveAction.case),
        selectinload(CorrectiveAction.finding).selectinload(Finding.report_links),
    )


def _action_filters(query: Select[Any], args: Mapping[str, Any], today: date) -> Select[Any]:
    for name in ("state", "case_id"):
        if name in args:
            query = query.where(getattr(CorrectiveAction, name) == args[name])
    if args.get("overdue") is True:
        query = query.where(deadlines.overdue_clause(today))
    elif args.get("overdue") is False:
        due = deadlines.due_date_column()
        query = query.where(or_(due.is_(None), due >= today))
    return query


def list_actions(user: User, args: Mapping[str, Any], today: date) -> Listing:
    """Newest first; the plans awaiting the user's decision oldest first."""
    query = _action_filters(_actions(user), args, today)
    if args.get("awaiting_decision"):
        query = query.where(permissions.awaiting_decision(user))
        return Listing(query, [CorrectiveAction.state_changed_dt, CorrectiveAction.id])
    return Listing(query, [CorrectiveAction.requested_dt.desc(), CorrectiveAction.id.desc()])


def list_requests(user: User, args: Mapping[str, Any], today: date) -> Listing:
    """A supplier's requests by what is due when: dated ones first (the overdue at the top: their
    dates are the earliest), then those waiting for others, then the closed ones."""
    due = deadlines.due_date_column()
    group = case((due.is_not(None), 0), (CorrectiveAction.state != ActionState.closed, 1), else_=2)
    due_key = func.coalesce(due, literal(NO_DUE_DATE, Date))
    query = _action_filters(_actions(user), args, today)
    return Listing(
        query, [group.label("due_group"), due_key.label("due_key"), CorrectiveAction.id], keys_first=True
    )


def list_verifications(user: User) -> Listing:
    """Actions reported implemented and waiting for a monitor's verification, oldest first."""
    query = _actions(user).where(CorrectiveAction.state == ActionState.implemented)
    return Listing(query, [CorrectiveAction.state_changed_dt, CorrectiveAction.id])


@dataclass(frozen=True)
class HomeCounts:
    open: int
    overdue: int


def home_counts(user: User, today: date) -> HomeCounts | None:
    """Open and overdue requests of a supplier, or actions waiting for a monitor's verification."""
    # The user's actions counted where they are scoped (an index on the supplier, its states and
    # deadlines answers a supplier's counts by itself), not looked up again by their ids.
    query = permissions.visible_actions(user).with_only_columns(func.count()).select_from(CorrectiveAction)
    if permissions.answers_requests(user):
        late = func.count(case((deadlines.overdue_clause(today), CorrectiveAction.id)))
        query = query.add_columns(late).where(CorrectiveAction.state != ActionState.closed)
        row: Any = db.session.execute(query).one()
        total, overdue = row
        return HomeCounts(int(total), int(overdue))
    if permissions.verifies_actions(user):
        total = db.session.scalar(query.where(CorrectiveAction.state == ActionState.implemented))
        return HomeCounts(int(total or 0), 0)
    return None
