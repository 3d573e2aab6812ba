"""JSON API of clause compliance: the same services as the pages."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l

from monitoring.cases.compliance import operations, services
from monitoring.cases.compliance.permissions import ASSESSOR_ROLES, CHOOSER_ROLES, SUMMARY_ROLES
from monitoring.cases.compliance.schemas import (
    AssessClauseArgs,
    ChooseFindingClausesArgs,
    ClauseAssessmentSchema,
    ComplianceSummarySchema,
    ComplianceYearArgs,
    ContractComplianceSchema,
    FindingClausesSchema,
)
from monitoring.core.api import route
from monitoring.core.auth import roles
from monitoring.core.roles import WORKING_ROLES
from monitoring.supplychain.services import current

_STATUS_RULE = _l(
    "A clause is breached when a finding that breaches it has no case, a case still open or in "
    "dialogue, or a case closed other than resolved; in due diligence when every such finding's case "
    "is in remediation, verification or closed as resolved; not assessed without findings. A status "
    "set by hand (manual) beats the derived one."
)


@route(
    "/contracts/<int:contract_id>/compliance",
    summary=_l("A contract's clause compliance for a year"),
    description=_STATUS_RULE,
    args=ComplianceYearArgs,
    response=ContractComplianceSchema,
)
@roles(*WORKING_ROLES)
def contract_compliance(contract_id: int, args: dict[str, Any]) -> Any:
    user, today = current(), date.today()
    contract = services.load_contract(user, contract_id)
    return services.contract_view(user, contract, services.report_year(args.get("year"), today), today)


@route(
    "/clauses/<int:clause_id>/assessments",
    method="POST",
    summary=_l("Set a clause's status for a year, with a reason"),
    description=_l("The contract's buyer or a coordinator; the latest status set for the year is shown."),
    args=AssessClauseArgs,
    response=ClauseAssessmentSchema,
    status=201,
)
@roles(*ASSESSOR_ROLES)
def assess_clause(clause_id: int, args: dict[str, Any]) -> Any:
    clause = services.load_clause_to_assess(current(), clause_id)
    return operations.assess_clause(current(), clause, args["year"], args["status"], args["reason"]), 201


@route(
    "/compliance",
    summary=_l("Clause compliance per supplier"),
    description=_l("For each supplier of the contracts you see: how many clauses stand in each status."),
    args=ComplianceYearArgs,
    response=ComplianceSummarySchema,
)
@roles(*SUMMARY_ROLES)
def compliance_summary(args: dict[str, Any]) -> Any:
    today = date.today()
    year = services.report_year(args.get("year"), today)
    return {"year": year, "suppliers": services.compliance_summary(current(), year, today)}


@route(
    "/findings/<int:finding_id>/clauses",
    summary=_l("The contract clauses a finding breaches"),
    description=_l("The chosen clauses, or the defaults (chosen: false) until someone chooses them."),
    response=FindingClausesSchema,
)
@roles(*CHOOSER_ROLES)
def finding_clauses(finding_id: int) -> Any:
    finding = services.load_finding_to_choose(current(), finding_id)
    return services.finding_clauses_view(finding, date.today())


@route(
    "/findings/<int:finding_id>/clauses",
    method="PUT",
    summary=_l("Choose the contract clauses a finding breaches"),
    description=_l("Clauses of the contracts that reach the finding's site; an empty list: none."),
    args=ChooseFindingClausesArgs,
    response=FindingClausesSchema,
)
@roles(*CHOOSER_ROLES)
def choose_finding_clauses(finding_id: int, args: dict[str, Any]) -> Any:
    user, today = current(), date.today()
    finding = services.load_finding_to_choose(user, finding_id)
    options = [c.id for c in services.clause_options(finding, today)]
    operations.choose_clauses(user, finding, args["clause_ids"], options)
    return services.finding_clauses_view(finding, today)
