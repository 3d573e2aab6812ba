"""Each clause's status per calendar year, derived from findings or set by hand, and the summary.

Which clauses a finding breaches
    Chosen ones, once a coordinator or the case's monitor chose them (possibly none). Otherwise
    the defaults: every *labour standards* clause of the contracts that reach the finding's site
    today (a contract in force covers a product that a current disclosure places there), and
    also their *monitoring* clauses when the finding's standard is one of the grievance and
    retaliation standards (GR), the conditions worker-driven monitoring rests on.

The derived status of a clause for year Y
    A linked finding counts for Y when it was found on or before 31 December of Y and its case
    (if any) was not closed before 1 January of Y. Each counting finding stands, by its case as
    it is today:

    - *breached*: no case yet, a case still open or in dialogue, or a case closed with an outcome
      other than resolved;
    - *in due diligence*: a case in remediation or verification, or closed as resolved.

    The clause is breached if one counting finding is breached, in due diligence if all counting
    findings are, and *not assessed* without counting findings. Only the findings the reader may
    see are counted, as with case counts elsewhere. A manual status (the latest for the clause
    and year) beats the derived one and is shown with who set it and why.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from monitoring.accounts.models import Organisation, User
from monitoring.cases.compliance.permissions import can_assess_clauses, can_choose_clauses
from monitoring.cases.models import (
    Case,
    CaseOutcome,
    CaseState,
    ClauseAssessment,
    ClauseStatus,
    Finding,
    FindingClause,
    FindingClauseChoice,
)
from monitoring.cases.permissions import visible_findings
from monitoring.core.db import db
from monitoring.supplychain.models import ClauseKind, Contract, ContractClause
from monitoring.supplychain.permissions import visible_contracts
from monitoring.supplychain.queries import links
from monitoring.supplychain.services import load, require

# The standard groups whose findings also breach a contract's monitoring clauses by default.
MONITORING_GROUPS = frozenset({"GR"})
# The order statuses are listed in.
STATUS_ORDER = (
    ClauseStatus.breached,
    ClauseStatus.due_diligence,
    ClauseStatus.met,
    ClauseStatus.not_assessed,
)


@dataclass
class ClauseRow:
    """A clause's status for a year: shown (manual or derived), derived, and what it rests on."""

    clause: ContractClause
    derived: ClauseStatus
    manual: ClauseAssessment | None
    findings: list[Finding] = field(default_factory=list)

    @property
    def status(self) -> ClauseStatus:
        return self.manual.status if self.manual else self.derived

    @property
    def cases(self) -> list[Case]:
        seen = {f.case.id: f.case for f in self.findings if f.case is not None}
        return [seen[i] for i in sorted(seen)]


@dataclass
class SupplierSummary:
    supplier: Organisation
    contracts: int = 0
    counts: dict[ClauseStatus, int] = field(default_factory=lambda: dict.fromkeys(STATUS_ORDER, 0))


def finding_standing(finding: Finding) -> ClauseStatus:
    """Breached or in due diligence, by the finding's case as it is today."""
    case = finding.case
    if case is None:
        return ClauseStatus.breached
    if case.state is CaseState.closed:
        return ClauseStatus.due_diligence if case.outcome is CaseOutcome.resolved else ClauseStatus.breached
    if case.state in (CaseState.remediation, CaseState.verification):
        return ClauseStatus.due_diligence
    return ClauseStatus.breached


def counts_for_year(finding: Finding, year: int) -> bool:
    if finding.found_date > date(year, 12, 31):
        return False
    case = finding.case
    return case is None or case.closed_dt is None or case.closed_dt.date() >= date(year, 1, 1)


def derived_status(findings: Iterable[Finding]) -> ClauseStatus:
    standings = {finding_standing(f) for f in findings}
    if ClauseStatus.breached in standings:
        return ClauseStatus.breached
    return ClauseStatus.due_diligence if standings else ClauseStatus.not_assessed


def _breaches_monitoring(finding: Finding) -> bool:
    return finding.standard.split("-")[0] in MONITORING_GROUPS


def _default_kinds(finding: Finding) -> set[ClauseKind]:
    kinds = {ClauseKind.labour_standards}
    if _breaches_monitoring(finding):
        kinds.add(ClauseKind.monitoring)
    return kinds


def contracts_reaching(site_id: int, today: date) -> list[int]:
    linked = links(today, site_id=site_id)
    return list(db.session.scalars(select(linked.c.contract_id)))


def sites_reached(contract_id: int, today: date) -> set[int]:
    linked = links(today)
    return set(db.session.scalars(select(linked.c.site_id).where(linked.c.contract_id == contract_id)))


def chosen_clause_ids(finding_ids: Collection[int]) -> dict[int, set[int]]:
    """The chosen clauses of those findings that have a choice (others are absent)."""
    if not finding_ids:
        return {}
    chosen: dict[int, set[int]] = {
        i: set()
        for i in db.session.scalars(
            select(FindingClauseChoice.finding_id).where(FindingClauseChoice.finding_id.in_(finding_ids))
        )
    }
    rows = db.session.execute(
        select(FindingClause.finding_id, FindingClause.clause_id).where(FindingClause.finding_id.in_(chosen))
    )
    for finding_id, clause_id in rows:
        chosen[finding_id].add(clause_id)
    return chosen


def default_clause_ids(finding: Finding, today: date) -> set[int]:
    contract_ids = contracts_reaching(finding.site_id, today)
    if not contract_ids:
        return set()
    query = select(ContractClause.id).where(
        ContractClause.contract_id.in_(contract_ids), ContractClause.kind.in_(_default_kinds(finding))
    )
    return set(db.session.scalars(query))


def finding_clauses(finding: Finding, today: date) -> tuple[list[ContractClause], bool]:
    """The clauses a finding breaches, and whether they were chosen (else they are the defaults)."""
    chosen = chosen_clause_ids([finding.id])
    ids = chosen.get(finding.id, set()) if finding.id in chosen else default_clause_ids(finding, today)
    return _clauses(ids), finding.id in chosen


def clause_options(finding: Finding, today: date) -> list[ContractClause]:
    """The clauses one may choose for a finding: those of contracts reaching its site, and its own."""
    ids = set(
        db.session.scalars(
            select(ContractClause.id).where(
                ContractClause.contract_id.in_(contracts_reaching(finding.site_id, today))
            )
        )
    )
    ids |= chosen_clause_ids([finding.id]).get(finding.id, set())
    return _clauses(ids)


def _clauses(ids: Collection[int]) -> list[ContractClause]:
    if not ids:
        return []
    query = (
        select(ContractClause)
        .join(Contract)
        .where(ContractClause.id.in_(ids))
        .options(selectinload(ContractClause.contract))
        .order_by(Contract.reference, ContractClause.position)
    )
    return list(db.session.scalars(query))


def latest_assessments(clause_ids: Collection[int], year: int) -> dict[int, ClauseAssessment]:
    if not clause_ids:
        return {}
    query = (
        select(ClauseAssessment)
        .where(ClauseAssessment.clause_id.in_(clause_ids), ClauseAssessment.year == year)
        .order_by(ClauseAssessment.id)
    )
    return {a.clause_id: a for a in db.session.scalars(query)}  # the latest wins


def contract_compliance(user: User, contract: Contract, year: int, today: date) -> list[ClauseRow]:
    """Each clause of the contract with its status for the year, over the findings the user may see."""
    clauses = {c.id: c for c in contract.clauses}
    if not clauses:
        return []
    sites = sites_reached(contract.id, today)
    linked = select(FindingClause.finding_id).where(FindingClause.clause_id.in_(clauses))
    query = (
        visible_findings(user)
        .where(or_(Finding.site_id.in_(sites), Finding.id.in_(linked)))
        .where(Finding.found_date <= date(year, 12, 31))
        .options(selectinload(Finding.case))
        .order_by(Finding.id)
    )
    findings = [f for f in db.session.scalars(query).unique() if counts_for_year(f, year)]
    chosen = chosen_clause_ids([f.id for f in findings])
    by_clause: dict[int, list[Finding]] = defaultdict(list)
    for finding in findings:
        if finding.id in chosen:
            ids = chosen[finding.id] & clauses.keys()
        elif finding.site_id in sites:
            kinds = _default_kinds(finding)
            ids = {i for i, c in clauses.items() if c.kind in kinds}
        else:
            ids = set()
        for clause_id in ids:
            by_clause[clause_id].append(finding)
    manual = latest_assessments(list(clauses), year)
    return [
        ClauseRow(
            clause=c,
            derived=derived_status(by_clause[c.id]),
            manual=manual.get(c.id),
            findings=by_clause[c.id],
        )
        for c in contract.clauses
    ]


def compliance_summary(user: User, year: int, today: date) -> list[SupplierSummary]:
    """Per supplier of the contracts the user sees: how many clauses stand in each status."""
    query = visible_contracts(user).options(selectinload(Contract.clauses)).order_by(Contract.id)
    summaries: dict[int, SupplierSummary] = {}
    for contract in db.session.scalars(query).unique():
        summary = summaries.setdefault(contract.supplier_id, SupplierSummary(supplier=contract.supplier))
        summary.contracts += 1
        for row in contract_compliance(user, contract, year, today):
            summary.counts[row.status] += 1
    return sorted(summaries.values(), key=lambda s: (s.supplier.name.casefold(), s.supplier.id))


# --- what the pages and the API load (missing or not allowed: 404) ----------------------------


def report_year(year: int | None, today: date) -> int:
    return year or today.year


def load_contract(user: User, contract_id: int) -> Contract:
    return load(visible_contracts(user), Contract.id == contract_id)


def load_clause_to_assess(user: User, clause_id: int) -> ContractClause:
    clause = load(
        select(ContractClause).where(
            ContractClause.contract_id.in_(visible_contracts(user).with_only_columns(Contract.id))
        ),
        ContractClause.id == clause_id,
    )
    require(can_assess_clauses(user, clause.contract))
    return clause


def load_finding_to_choose(user: User, finding_id: int) -> Finding:
    finding = load(visible_findings(user), Finding.id == finding_id)
    require(can_choose_clauses(user, finding))
    return finding


def contract_view(user: User, contract: Contract, year: int, today: date) -> dict[str, object]:
    return {
        "contract_id": contract.id,
        "year": year,
        "clauses": contract_compliance(user, contract, year, today),
    }


def finding_clauses_view(finding: Finding, today: date) -> dict[str, object]:
    clauses, chosen = finding_clauses(finding, today)
    return {"finding_id": finding.id, "chosen": chosen, "clauses": clauses}
