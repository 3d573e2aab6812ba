"""Pages: a contract's circularity reports, the report form, a report (confirm, query), the CSV upload."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from monitoring.core.auth import roles
from monitoring.core.forms import apply_error, form_args
from monitoring.core.operations import OperationError
from monitoring.core.transactions import attempt
from monitoring.supplychain import pickers
from monitoring.supplychain.circularity import operations, services
from monitoring.supplychain.circularity.forms import (
    SITE_LINES,
    CircularityReportForm,
    ConfirmReportForm,
    ImportReportsForm,
    QueryReportForm,
)
from monitoring.supplychain.circularity.models import SITE_FATES, CircularityReport
from monitoring.supplychain.circularity.permissions import (
    FILER_ROLES,
    READER_ROLES,
    REVIEWER_ROLES,
    can_file_circularity,
    can_review_circularity,
    nameable_sites,
)
from monitoring.supplychain.circularity.schemas import FileCircularityArgs, QueryCircularityArgs
from monitoring.supplychain.import_reading import ImportRefused
from monitoring.supplychain.models import Contract, Site
from monitoring.supplychain.services import current

bp = Blueprint("circularity", __name__)


@bp.route("/contracts/<int:contract_id>/circularity")
@roles(*READER_ROLES)
def contract_reports(contract_id: int) -> Any:
    user = current()
    contract = services.load_contract(user, contract_id)
    return render_template(
        "circularity/contract.html",
        contract=contract,
        reports=services.contract_reports(contract),
        can_file=can_file_circularity(user, contract),
    )


def _site_lines(report: CircularityReport | None) -> list[dict[str, Any]]:
    """The site lines of the form: posted, or the report's, or empty; each with its picker."""
    user, values = current(), request.form
    lines = []
    for i in range(SITE_LINES):
        name = f"site_{i}"
        if request.method == "POST":
            chosen, fate, count = (
                values.getlist(name),
                values.get(f"{name}_fate", ""),
                values.get(f"{name}_count", ""),
            )
        elif report is not None and i < len(report.sites):
            line = report.sites[i]
            chosen, fate, count = [str(line.site_id)], line.fate.value, str(line.count)
        else:
            chosen, fate, count = [], "", ""
        picker = pickers.pick(
            name,
            nameable_sites(user),
            Site.id,
            values,
            chosen,
            lambda s: f"{s.name} ({s.country})",
            pickers.site_search,
            order=[Site.name],
        )
        lines.append({"picker": picker, "fate": fate, "count": count})
    return lines


def _site_args(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for line in lines:
        chosen = [value for value, _label in line["picker"].chosen]
        if not chosen and not line["count"]:
            continue
        rows.append({"site_id": chosen[0] if chosen else "", "fate": line["fate"], "count": line["count"]})
    return rows


def _render_form(
    contract: Contract, form: CircularityReportForm, lines: list[dict[str, Any]], status: int = 200
) -> Any:
    page = render_template(
        "circularity/form.html", contract=contract, form=form, lines=lines, fates=SITE_FATES
    )
    return page, status


@bp.route("/contracts/<int:contract_id>/circularity/new", methods=["GET", "POST"])
@bp.route("/contracts/<int:contract_id>/circularity/<int:circularity_id>/edit", methods=["GET", "POST"])
@roles(*FILER_ROLES)
def file_report(contract_id: int, circularity_id: int | None = None) -> Any:
    user = current()
    contract = services.load_contract(user, contract_id, to_file=True)
    report = services.load_report(user, circularity_id, need="file") if circularity_id else None
    if report is not None and report.contract_id != contract.id:
        return redirect(url_for(".file_report", contract_id=report.contract_id, circularity_id=report.id))
    products = services.contract_products(contract)
    lines = _site_lines(report)
    if request.method == "GET" or pickers.searching(request.form, *(f"site_{i}" for i in range(SITE_LINES))):
        form = CircularityReportForm(products, data=services.report_args(report) if report else None)
        return _render_form(contract, form, lines)
    form = CircularityReportForm(products)
    args = form_args(FileCircularityArgs, form, extra={"sites": _site_args(lines)})
    if args is not None:
        try:
            filed = attempt(operations.file_report, user, contract, services.report_data(args))
        except OperationError as exc:
            apply_error(form, exc)
        else:
            flash(_("The report was filed; it awaits the buyer."), "success")
            return redirect(url_for(".report", circularity_id=filed.id))
    return _render_form(contract, form, lines, 422)


def _report_page(
    report: CircularityReport, query_form: QueryReportForm | None = None, status: int = 200
) -> Any:
    user = current()
    reviewer = can_review_circularity(user, report.contract)
    page = render_template(
        "circularity/report.html",
        report=report,
        can_file=can_file_circularity(user, report.contract),
        confirm_form=ConfirmReportForm() if reviewer else None,
        query_form=(query_form or QueryReportForm(formdata=None)) if reviewer else None,
    )
    return page, status


@bp.route("/circularity/<int:circularity_id>")
@roles(*READER_ROLES)
def report(circularity_id: int) -> Any:
    return _report_page(services.load_report(current(), circularity_id))


@bp.route("/circularity/<int:circularity_id>/confirm", methods=["POST"])
@roles(*REVIEWER_ROLES)
def confirm_report(circularity_id: int) -> Any:
    user = current()
    found = services.load_report(user, circularity_id, need="review")
    form = ConfirmReportForm()
    if not form.validate_on_submit():
        return _report_page(found, status=422)
    try:
        attempt(operations.confirm_report, user, found)
    except OperationError as exc:
        flash(str(exc.message), "error")
        return _report_page(found, status=422)
    flash(_("The report is confirmed."), "success")
    return redirect(url_for(".report", circularity_id=found.id))


@bp.route("/circularity/<int:circularity_id>/query", methods=["POST"])
@roles(*REVIEWER_ROLES)
def query_report(circularity_id: int) -> Any:
    user = current()
    found = services.load_report(user, circularity_id, need="review")
    form = QueryReportForm()
    args = form_args(QueryCircularityArgs, form, extra={"reason": form.reason.data or ""})
    if args is not None:
        try:
            attempt(operations.query_report, user, found, args["reason"])
        except OperationError as exc:
            apply_error(form, exc)
        else:
            flash(_("The report was queried; the supplier is asked to correct it."), "success")
            return redirect(url_for(".report", circularity_id=found.id))
    return _report_page(found, form, 422)


@bp.route("/contracts/<int:contract_id>/circularity/import", methods=["GET", "POST"])
@roles(*FILER_ROLES)
def import_reports(contract_id: int) -> Any:
    user = current()
    contract = services.load_contract(user, contract_id, to_file=True)
    form = ImportReportsForm()
    context: dict[str, Any] = {"contract": contract, "form": form, "max_rows": services.MAX_ROWS}
    if request.method == "GET":
        return render_template("circularity/import.html", **context)
    upload = request.files.get(form.file.name)
    if not form.validate_on_submit() or upload is None or not upload.filename:
        form.file.errors = [*form.file.errors, _("Choose a CSV file.")]
        return render_template("circularity/import.html", **context), 422
    try:
        result = attempt(services.import_reports, user, contract, upload.stream)
    except ImportRefused as exc:
        context["refused"] = {"errors": exc.errors, "total": exc.total, "message": exc.message}
        return render_template("circularity/import.html", **context), 422
    flash(
        _(
            "%(filed)d reports filed, %(resubmitted)d corrected.",
            filed=result.filed,
            resubmitted=result.resubmitted,
        ),
        "success",
    )
    return redirect(url_for(".contract_reports", contract_id=contract.id))
