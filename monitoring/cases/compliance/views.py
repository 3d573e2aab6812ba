"""Pages: a contract's clause compliance, setting a status by hand, a finding's clauses, the summary."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from monitoring.cases.compliance import operations, services
from monitoring.cases.compliance.forms import AssessClauseForm, FindingClausesForm
from monitoring.cases.compliance.permissions import (
    ASSESSOR_ROLES,
    CHOOSER_ROLES,
    SUMMARY_ROLES,
    can_assess_clauses,
)
from monitoring.cases.compliance.schemas import AssessClauseArgs, ComplianceYearArgs
from monitoring.core.auth import roles
from monitoring.core.forms import apply_error, form_args
from monitoring.core.operations import OperationError
from monitoring.core.roles import WORKING_ROLES
from monitoring.core.transactions import attempt
from monitoring.supplychain.models import Contract
from monitoring.supplychain.services import current

bp = Blueprint("compliance", __name__)


def _year() -> int:
    """The ``year`` of the query string; a bad one is the current year (the page says which it shows)."""
    errors = ComplianceYearArgs().validate(request.args.to_dict(flat=True))
    year = None if errors else request.args.get("year", type=int)
    return services.report_year(year, date.today())


def _compliance_page(
    contract: Contract, year: int, failed: tuple[int, AssessClauseForm] | None = None
) -> Any:
    user = current()
    rows = services.contract_compliance(user, contract, year, date.today())
    forms: dict[int, AssessClauseForm] = {}
    if can_assess_clauses(user, contract):
        for row in rows:
            form = AssessClauseForm(prefix=f"c{row.clause.id}", formdata=None, data={"year": year})
            forms[row.clause.id] = form
        if failed:
            forms[failed[0]] = failed[1]
    page = render_template("compliance/contract.html", contract=contract, year=year, rows=rows, forms=forms)
    return (page, 422) if failed else page


@bp.route("/contracts/<int:contract_id>/compliance")
@roles(*WORKING_ROLES)
def contract_compliance(contract_id: int) -> Any:
    return _compliance_page(services.load_contract(current(), contract_id), _year())


@bp.route("/clauses/<int:clause_id>/assessment", methods=["POST"])
@roles(*ASSESSOR_ROLES)
def assess_clause(clause_id: int) -> Any:
    clause = services.load_clause_to_assess(current(), clause_id)
    form = AssessClauseForm(prefix=f"c{clause.id}")
    year = form.year.data if str(form.year.data or "").isdigit() else None
    page_year = services.report_year(int(year) if year else None, date.today())
    if (args := form_args(AssessClauseArgs, form)) is None:
        return _compliance_page(clause.contract, page_year, (clause.id, form))
    try:
        attempt(operations.assess_clause, current(), clause, args["year"], args["status"], args["reason"])
    except OperationError as exc:
        apply_error(form, exc)
        return _compliance_page(clause.contract, page_year, (clause.id, form))
    flash(_("The clause's status for %(year)d was set.", year=args["year"]), "success")
    return redirect(url_for(".contract_compliance", contract_id=clause.contract_id, year=args["year"]))


@bp.route("/findings/<int:finding_id>/clauses", methods=["GET", "POST"])
@roles(*CHOOSER_ROLES)
def finding_clauses(finding_id: int) -> Any:
    user, today = current(), date.today()
    finding = services.load_finding_to_choose(user, finding_id)
    options = services.clause_options(finding, today)
    current_clauses, chosen = services.finding_clauses(finding, today)
    form = FindingClausesForm(options, data={"clause_ids": [c.id for c in current_clauses]})
    if request.method == "POST":
        form = FindingClausesForm(options)
        if form.validate_on_submit():
            try:
                attempt(
                    operations.choose_clauses,
                    user,
                    finding,
                    form.clause_ids.data or [],
                    [c.id for c in options],
                )
            except OperationError as exc:
                apply_error(form, exc)
            else:
                flash(_("The finding's clauses were saved."), "success")
                return redirect(url_for(".finding_clauses", finding_id=finding.id))
        page = render_template(
            "compliance/finding_clauses.html", finding=finding, form=form, chosen=chosen, options=options
        )
        return page, 422
    return render_template(
        "compliance/finding_clauses.html", finding=finding, form=form, chosen=chosen, options=options
    )


@bp.route("/compliance")
@roles(*SUMMARY_ROLES)
def summary() -> Any:
    year = _year()
    suppliers = services.compliance_summary(current(), year, date.today())
    return render_template(
        "compliance/summary.html", year=year, suppliers=suppliers, statuses=services.STATUS_ORDER
    )
