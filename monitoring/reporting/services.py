"""What the dashboard page and the reporting API share: figures, ledger and queues per role.

Every number here is computed over what the user may see (``reporting.permissions``) and passes
through the one suppression rule (``reporting.suppression``) before a page or the API shows it.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, and_, func, select

from monitoring.accounts.models import Organisation, User
from monitoring.cases import services as case_services
from monitoring.cases.models import (
    ActionState,
    Case,
    CaseState,
    CorrectiveAction,
    Remedy,
    RemedyKind,
    Severity,
)
from monitoring.core.db import db
from monitoring.core.types import utcnow
from monitoring.reporting import permissions, snapshots
from monitoring.reporting.figures import (
    Breakdown,
    DurationFigure,
    Figures,
    Period,
    ShareFigure,
)
from monitoring.reporting.ledger import (
    Ledger,
    LedgerRow,
    UnconvertedAmount,
    counted_remedies,
    eur_amount,
    ledger_for,
    remedy_ledger,
)
from monitoring.reporting.suppression import Suppressed, shown_to
from monitoring.supplychain.models import Contract, CurrencyRate, Site
from monitoring.supplychain.queries import leverage_by_site, links
from monitoring.testimony.models import WorkerReport

# Open actions: not yet verified or closed.
OPEN_ACTION_STATES = (
    ActionState.requested,
    ActionState.plan_submitted,
    ActionState.plan_accepted,
    ActionState.plan_rejected,
    ActionState.implemented,
    ActionState.not_verified,
)
QUEUE_LIMIT = 1000  # the dashboard's queues count this many at most
# The dashboard shows this many rows of the ledger and of the portfolio, and says how many there are
# in all: the ledger's exports and the portfolio's own page carry every row. A snapshot holds only
# these rows, so reading a dashboard costs the same however large the ledger or the portfolio grows.
BOARD_ROWS = 20
SEVERITY_ORDER = {Severity.priority: 0, Severity.major: 1, Severity.minor: 2}


@dataclass(frozen=True)
class FigureRow:
    """One figure of one group as the user may see it (``suppressed``: resting on too few)."""

    figure: str
    group: str | None
    label: str
    count: int | None
    median_days: float | None = None
    p90_days: float | None = None
    hits: int | None = None
    rate: float | None = None
    suppressed: bool = False


@dataclass(frozen=True)
class FiguresView:
    breakdown: Breakdown
    durations: list[FigureRow]
    shares: list[FigureRow]
    as_of: datetime | None = None  # when the figures were computed (a snapshot's time)


@dataclass(frozen=True)
class Queues:
    """The coordinator's queues, as counts (metadata only)."""

    plans_awaiting_decision: int
    verifications_due: int
    overdue_actions: int
    reports_overdue_for_acknowledgement: int
    counted_up_to: int = QUEUE_LIMIT  # each count stops here: 1000 reads "1000 or more"


@dataclass(frozen=True)
class LeverageCase:
    case_id: int
    reference: str
    site_name: str
    country: str
    affiliates: int


@dataclass(frozen=True)
class PortfolioSite:
    """One site an affiliate's contracts reach, with its cases."""

    contract_id: int
    site_id: int
    site_name: str
    country: str
    open_cases: int
    overdue_cases: int
    closed_cases: int
    worst_severity: Severity | None
    contract_reference: str = ""


@dataclass(frozen=True)
class KindTotal:
    """The remedies of one kind, each counted once (``amount_eur``: what has a stored rate)."""

    kind: RemedyKind
    remedies: int
    workers_covered: int | Suppressed
    amount_eur: Decimal | Suppressed | None

    @property
    def suppressed(self) -> bool:
        return isinstance(self.workers_covered, Suppressed)


@dataclass(frozen=True)
class KindSum:
    """The remedies of one kind before suppression (what a dashboard snapshot holds)."""

    kind: RemedyKind
    remedies: int
    workers_covered: int
    amount_eur: Decimal | None


@dataclass
class Dashboard:
    role: str
    figures: FiguresView
    ledger: Ledger
    by_kind: list[KindTotal] = field(default_factory=list)
    queues: Queues | None = None
    leverage: list[LeverageCase] = field(default_factory=list)
    portfolio: list[PortfolioSite] = field(default_factory=list)
    # when the ledger, its totals per kind, the leverage ranking and the portfolio were computed
    # (the whole period's are read from the scope's dashboard snapshot)
    as_of: datetime | None = None
    # how many rows the ledger and the portfolio have in all (``ledger.rows`` and ``portfolio`` hold
    # the first BOARD_ROWS of them)
    ledger_rows_total: int = 0
    portfolio_total: int = 0


# --- figures ---------------------------------------------------------------------------------


def organisation_names(ids: Iterable[int | None]) -> dict[int, str]:
    """The names of the organisations with these ids (one query)."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = db.session.execute(select(Organisation.id, Organisation.name).where(Organisation.id.in_(wanted)))
    return {org_id: name for org_id, name in rows}


def group_labels(breakdown: Breakdown, keys: Iterable[str | None]) -> dict[str | None, str]:
    """Names for the groups of a breakdown (organisations by name, severities by title)."""
    present = [k for k in keys if k is not None]
    if breakdown in (Breakdown.organisation, Breakdown.supplier, Breakdown.buyer) and present:
        ids = [int(k) for k in present]
        names = db.session.execute(select(Organisation.id, Organisation.name).where(Organisation.id.in_(ids)))
        return {str(i): name for i, name in names}
    if breakdown is Breakdown.severity:
        return {k: Severity(k).title for k in present}
    return {k: k for k in present}


def _row(user: User, figure: DurationFigure | ShareFigure, labels: dict[str | None, str]) -> FigureRow:
    label = labels.get(figure.group, figure.group or "")
    if isinstance(shown_to(user, figure.count, reports=figure.count), Suppressed):
        return FigureRow(figure.figure, figure.group, label, None, suppressed=True)
    if isinstance(figure, DurationFigure):
        return FigureRow(
            figure.figure, figure.group, label, figure.count, figure.median_days, figure.p90_days
        )
    rate = None if figure.rate is None else round(figure.rate, 3)
    return FigureRow(figure.figure, figure.group, label, figure.count, hits=figure.hits, rate=rate)


def show_figures(user: User, figures: Figures, as_of: datetime | None = None) -> FiguresView:
    """The figures as the user may see them: labelled, small cells suppressed for buyers and suppliers."""
    groups = {f.group for f in figures.durations} | {f.group for f in figures.shares}
    labels = group_labels(figures.breakdown, groups)
    return FiguresView(
        figures.breakdown,
        [_row(user, f, labels) for f in figures.durations],
        [_row(user, f, labels) for f in figures.shares],
        as_of,
    )


def figures_view(user: User, period: Period, breakdown: Breakdown) -> FiguresView:
    """The user's figures: the whole period's from the scope's snapshot, a bounded period's live."""
    dated = snapshots.read_figures(user, period, breakdown)
    return show_figures(user, dated.figures, dated.as_of)


def ledger_view(user: User, period: Period) -> Ledger:
    return ledger_for(user, remedy_ledger(user, period))


def ledger_by_kind(user: User, period: Period) -> list[KindTotal]:
    """The ledger's remedies per kind, each remedy once, with EUR where a rate is stored (one query)."""
    return show_kinds(user, kind_sums(user, period))


def kind_sums(user: User, period: Period) -> list[KindSum]:
    """The remedies per kind over what the user may see, unsuppressed, in the enum's order."""
    counted = counted_remedies(user, period)
    query = (
        select(
            Remedy.kind,
            func.count(Remedy.id),
            func.coalesce(func.sum(Remedy.workers_covered), 0),
            func.sum(eur_amount(Remedy.amount)),
        )
        .join(counted, counted.c.remedy_id == Remedy.id)
        .outerjoin(CurrencyRate, CurrencyRate.currency == Remedy.currency)
        .group_by(Remedy.kind)
    )
    sums = [
        KindSum(
            RemedyKind(kind),
            int(remedies),
            int(workers),
            None if eur is None else Decimal(str(eur)).quantize(Decimal("0.01")),
        )
        for kind, remedies, workers, eur in db.session.execute(query)
    ]
    order = list(RemedyKind)  # the enum's order, the same on every database
    return sorted(sums, key=lambda total: order.index(total.kind))


def show_kinds(user: User, sums: list[KindSum]) -> list[KindTotal]:
    """The totals per kind as the user may see them (under 5 workers suppressed for buyers)."""
    return [
        KindTotal(
            s.kind,
            s.remedies,
            shown_to(user, s.workers_covered, workers=s.workers_covered),
            shown_to(user, s.amount_eur, workers=s.workers_covered),
        )
        for s in sums
    ]


def period_of(args: dict[str, Any]) -> Period:
    first: date | None = args.get("from_date")
    last: date | None = args.get("to_date")
    return Period.of_days(first, last)


# --- queues and rankings ------------------------------------------------------------------------


def _bounded_count(query: Select[Any]) -> int:
    """How many rows the query gives, counting no further than QUEUE_LIMIT."""
    return db.session.scalar(select(func.count()).select_from(query.limit(QUEUE_LIMIT).subquery())) or 0


def coordinator_queues(user: User) -> Queues:
    """What waits for the network's staff, over what the user may see: each count stops at
    QUEUE_LIMIT, so that no queue walks a whole table (the states and due dates are indexed)."""
    now = utcnow()
    reports = select(WorkerReport.id).where(
        permissions.report_scope(user),
        WorkerReport.acknowledged_dt.is_(None),
        WorkerReport.acknowledge_due_dt < now,
    )
    plans, verifications, overdue = _action_queues(user, now.date())
    return Queues(
        plans_awaiting_decision=plans,
        verifications_due=verifications,
        overdue_actions=overdue,
        reports_overdue_for_acknowledgement=_bounded_count(reports),
        counted_up_to=QUEUE_LIMIT,
    )


def _action_queues(user: User, today: date) -> tuple[int, int, int]:
    """Plans awaiting a decision, verifications due and overdue actions, each up to QUEUE_LIMIT.

    The network's are three counts that stop at the limit on the state index. A monitor's are
    counted in one pass over their organisation's cases' actions, read from the index on (case,
    state, closure date) alone, and cut at the limit after: the same numbers."""
    overdue = and_(CorrectiveAction.state.in_(OPEN_ACTION_STATES), CorrectiveAction.closure_due_date < today)
    plans = CorrectiveAction.state == ActionState.plan_submitted
    verifications = CorrectiveAction.state == ActionState.implemented
    if permissions.counts_whole_network(user):
        actions = select(CorrectiveAction.id).where(permissions.action_scope(user))
        return (
            _bounded_count(actions.where(plans)),
            _bounded_count(actions.where(verifications)),
            _bounded_count(actions.where(overdue)),
        )
    query = select(
        func.count().filter(plans), func.count().filter(verifications), func.count().filter(overdue)
    ).where(permissions.action_scope(user))
    counts = db.session.execute(query).one()
    return (
        min(int(counts[0]), QUEUE_LIMIT),
        min(int(counts[1]), QUEUE_LIMIT),
        min(int(counts[2]), QUEUE_LIMIT),
    )


def cases_by_leverage(user: User, limit: int = 10) -> list[LeverageCase]:
    """Open cases at the sites with the most buyers (the supply-chain leverage ranking)."""
    lev = leverage_by_site(utcnow().date())
    query = (
        select(Case.id, Case.reference, Site.name, Site.country, lev.c.affiliates)
        .join(Site, Site.id == Case.site_id)
        .join(lev, lev.c.site_id == Case.site_id)
        .where(permissions.case_scope(user), Case.state != CaseState.closed)
        .order_by(lev.c.affiliates.desc(), lev.c.spend_cents.desc(), Case.id)
        .limit(limit)
    )
    return [
        LeverageCase(i, ref, name, country, int(n)) for i, ref, name, country, n in db.session.execute(query)
    ]


def affiliate_portfolio(user: User) -> list[PortfolioSite]:
    """Each contract → site of the affiliate's, with open, overdue and closed cases (one query)."""
    today = utcnow().date()
    linked = links(today, affiliate_id=user.organisation_id)
    late = (
        select(CorrectiveAction.case_id)
        .where(CorrectiveAction.state.in_(OPEN_ACTION_STATES), CorrectiveAction.closure_due_date < today)
        .distinct()
        .subquery("late")
    )
    is_open = Case.state != CaseState.closed
    query = (
        select(
            linked.c.contract_id,
            Contract.reference,
            Site.id,
            Site.name,
            Site.country,
            func.count(Case.id).filter(is_open),
            func.count(late.c.case_id).filter(is_open),
            func.count(Case.id).filter(Case.state == CaseState.closed),
        )
        .select_from(linked)
        .join(Site, Site.id == linked.c.site_id)
        .join(Contract, Contract.id == linked.c.contract_id)
        .outerjoin(Case, and_(Case.site_id == Site.id, permissions.case_scope(user)))
        .outerjoin(late, late.c.case_id == Case.id)
        .group_by(linked.c.contract_id, Contract.reference, Site.id, Site.name, Site.country)
        .order_by(linked.c.contract_id, Site.name)
    )
    rows = []
    for contract_id, reference, site_id, name, country, open_, overdue, closed in db.session.execute(query):
        counts = (int(open_), int(overdue), int(closed))
        rows.append(PortfolioSite(int(contract_id), site_id, name, country, *counts, None, reference))
    return _with_worst_severity(user, rows)


def _with_worst_severity(user: User, rows: list[PortfolioSite]) -> list[PortfolioSite]:
    """The worst severity of each site's visible cases (enum order is not the database's order)."""
    sites = {r.site_id for r in rows}
    if not sites:
        return rows
    found = db.session.execute(
        select(Case.site_id, Case.severity)
        .where(Case.site_id.in_(sites), permissions.case_scope(user))
        .distinct()
    )
    worst: dict[int, Severity] = {}
    for site_id, severity in found:
        if site_id not in worst or SEVERITY_ORDER[severity] < SEVERITY_ORDER[worst[site_id]]:
            worst[site_id] = severity
    return [PortfolioSite(**{**r.__dict__, "worst_severity": worst.get(r.site_id)}) for r in rows]


def needs_attention_first(rows: list[PortfolioSite]) -> list[PortfolioSite]:
    """The portfolio with the sites that need attention first: most overdue cases, then most open
    ones, then the worst severity; then by contract and site name."""

    def key(row: PortfolioSite) -> tuple[int, int, int, int, str]:
        severity = SEVERITY_ORDER[row.worst_severity] if row.worst_severity else len(SEVERITY_ORDER)
        return (-row.overdue_cases, -row.open_cases, severity, row.contract_id, row.site_name)

    return sorted(rows, key=key)


def load_case_for_remedy(user: User, case_id: int) -> Case:
    """The case, if the user sees it and may record its remedies (404 otherwise)."""
    case = case_services.load_case(user, case_id)
    case_services.require(permissions.can_record_interim_remedy(user, case))
    return case


def interim_remedies(user: User, case: Case) -> list[Remedy]:
    """The interim remedies of a case the user has loaded, oldest first."""
    return list(
        db.session.scalars(
            select(Remedy).where(Remedy.case_id == case.id).order_by(Remedy.recorded_dt, Remedy.id)
        )
    )


def role_name(user: User) -> str:
    return user.role.value


@dataclass
class BoardParts:
    """What a dashboard snapshot holds for a scope, unsuppressed: the whole period's ledger and
    totals per kind, the leverage ranking (network) and the portfolio (an affiliate's).

    Computed, they hold every row; read back from a snapshot, the ledger's rows and the portfolio
    are the first BOARD_ROWS, and ``ledger_rows_total`` and ``portfolio_total`` count them all."""

    ledger: Ledger
    by_kind: list[KindSum]
    leverage: list[LeverageCase] = field(default_factory=list)
    portfolio: list[PortfolioSite] = field(default_factory=list)
    ledger_rows_total: int | None = None
    portfolio_total: int | None = None

    def __post_init__(self) -> None:
        if self.ledger_rows_total is None:
            self.ledger_rows_total = len(self.ledger.rows)
        if self.portfolio_total is None:
            self.portfolio_total = len(self.portfolio)


def board_parts(user: User, period: Period) -> BoardParts:
    """The parts computed now over what ``user`` may see (a stand-in of a scope, or a real user)."""
    parts = BoardParts(remedy_ledger(user, period), kind_sums(user, period))
    if permissions.sees_leverage(user):
        parts.leverage = cases_by_leverage(user)
    if permissions.sees_portfolio(user):
        parts.portfolio = needs_attention_first(affiliate_portfolio(user))
        parts.portfolio_total = len(parts.portfolio)
    return parts


def _plain(value: Any) -> Any:
    """A value as JSON holds it: an enum by its value, an amount as a decimal string."""
    if isinstance(value, enum.Enum):
        return value.value
    return str(value) if isinstance(value, Decimal) else value


def _values(row: Any) -> list[Any]:
    return [_plain(getattr(row, f.name)) for f in fields(row)]


def _money(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def dump_parts(parts: BoardParts) -> dict[str, Any]:
    """The parts as JSON, each row a list of its fields' values in order: the ledger's and the
    portfolio's first BOARD_ROWS rows, with how many there are in all."""
    ledger = parts.ledger
    return {
        "ledger": {
            "rows": [_values(row) for row in ledger.rows[:BOARD_ROWS]],
            "rows_total": len(ledger.rows),
            "remedies": ledger.remedies,
            "workers_covered": ledger.workers_covered,
            "total_eur": str(ledger.total_eur),
            "unconverted": [_values(row) for row in ledger.unconverted],
        },
        "by_kind": [_values(row) for row in parts.by_kind],
        "leverage": [_values(row) for row in parts.leverage],
        "portfolio": [_values(row) for row in parts.portfolio[:BOARD_ROWS]],
        "portfolio_total": len(parts.portfolio),
    }


def _ledger_row(values: list[Any]) -> LedgerRow:
    kind, currency, buyer_id, supplier_id, country, year, remedies, workers, amount, eur = values
    return LedgerRow(
        RemedyKind(kind),
        currency,
        buyer_id,
        supplier_id,
        country,
        year,
        remedies,
        workers,
        _money(amount),
        _money(eur),
    )


def _portfolio_site(values: list[Any]) -> PortfolioSite:
    contract_id, site_id, name, country, open_, overdue, closed, worst, reference = values
    severity = Severity(worst) if worst else None
    return PortfolioSite(contract_id, site_id, name, country, open_, overdue, closed, severity, reference)


def load_parts(data: dict[str, Any]) -> BoardParts:
    """The parts back from ``dump_parts``'s JSON (a snapshot stored before the dashboard held only
    the first rows gives its first rows too, and counts them all)."""
    stored = data["ledger"]
    ledger = Ledger(
        [_ledger_row(row) for row in stored["rows"][:BOARD_ROWS]],
        stored["remedies"],
        stored["workers_covered"],
        Decimal(stored["total_eur"]),
        [UnconvertedAmount(currency, Decimal(a), n) for currency, a, n in stored["unconverted"]],
    )
    return BoardParts(
        ledger,
        [KindSum(RemedyKind(kind), n, workers, _money(eur)) for kind, n, workers, eur in data["by_kind"]],
        [LeverageCase(*row) for row in data["leverage"]],
        [_portfolio_site(row) for row in data["portfolio"][:BOARD_ROWS]],
        ledger_rows_total=stored.get("rows_total", len(stored["rows"])),
        portfolio_total=data.get("portfolio_total", len(data["portfolio"])),
    )


def scope_board_data(scope: str, organisation_id: int) -> tuple[dict[str, Any], list[list[Any]] | None]:
    """A scope's dashboard snapshot computed now, and the whole portfolio of an affiliate's scope
    (None for the others): ``snapshots`` stores and refreshes both."""
    stand_in = permissions.scope_user(scope, organisation_id)
    parts = board_parts(stand_in, Period())
    portfolio = [_values(row) for row in parts.portfolio] if permissions.sees_portfolio(stand_in) else None
    return dump_parts(parts), portfolio


def dashboard(user: User, period: Period, breakdown: Breakdown) -> Dashboard:
    """The user's role's dashboard: figures and ledger; queues for staff; a buyer's portfolio.

    The whole period's ledger, totals per kind, leverage ranking and portfolio are read from the
    scope's dashboard snapshot (as the figures are from theirs); a bounded period's are computed."""
    stored = snapshots.read_board(user, period, scope_board_data)
    if stored is None:
        parts, as_of = board_parts(user, period), utcnow()
    else:
        parts, as_of = load_parts(stored.data), stored.as_of
    ledger = parts.ledger
    board = Dashboard(
        role_name(user),
        figures_view(user, period, breakdown),
        ledger_for(user, replace(ledger, rows=ledger.rows[:BOARD_ROWS])),
        show_kinds(user, parts.by_kind),
        leverage=parts.leverage,
        portfolio=parts.portfolio[:BOARD_ROWS],
        as_of=as_of,
        ledger_rows_total=parts.ledger_rows_total or 0,
        portfolio_total=parts.portfolio_total or 0,
    )
    if permissions.sees_queues(user):
        board.queues = coordinator_queues(user)
    return board


PORTFOLIO_PAGE_ROWS = 100


@dataclass(frozen=True)
class PortfolioPage:
    """Some rows of an affiliate's whole portfolio, the sites that need attention first."""

    rows: list[PortfolioSite]
    total: int
    offset: int
    limit: int
    as_of: datetime | None

    @property
    def next_offset(self) -> int | None:
        return self.offset + self.limit if self.offset + self.limit < self.total else None

    @property
    def previous_offset(self) -> int | None:
        return max(0, self.offset - self.limit) if self.offset > 0 else None


def portfolio_page(user: User, offset: int = 0, limit: int | None = None) -> PortfolioPage:
    """Rows ``offset`` to ``offset + limit`` (PORTFOLIO_PAGE_ROWS) of the affiliate's whole
    portfolio, in the dashboard's order, read from the snapshot stored with the dashboard's
    (computed and stored when there is none)."""
    limit = PORTFOLIO_PAGE_ROWS if limit is None else limit
    stored = snapshots.read_portfolio(user, scope_board_data)
    if stored is None:  # no scope to hold it (an affiliate without an organisation): computed
        every = needs_attention_first(affiliate_portfolio(user))
        rows, total, as_of = every[offset : offset + limit], len(every), utcnow()
    else:
        held = stored.data["rows"]
        rows = [_portfolio_site(row) for row in held[offset : offset + limit]]
        total, as_of = len(held), stored.as_of
    return PortfolioPage(rows, total, offset, limit, as_of)


def total_eur(ledger: Ledger) -> Decimal | None:
    return ledger.total_eur if isinstance(ledger.total_eur, Decimal) else None
