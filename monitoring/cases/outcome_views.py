"""The case's workers page: what the workers were told, how they confirmed the remedy.

The case's monitors release a status from the fixed list (to every report the case rests on,
or to one), withdraw it, and send a validation question about a priority finding's remedy
through the receipt channel; coordinators read what was released; every role that sees the
case reads the validation counts on the case page (suppressed below 5 for buyers and
suppliers). Refusals re-render the page with the message and answer 422.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_wtf import FlaskForm

from monitoring.accounts.models import User
from monitoring.cases import operations, permissions, services
from monitoring.cases import services_outcomes as shown
from monitoring.cases.models import Case
from monitoring.cases.outcome_forms import AskWorkersForm, ReleaseStatusForm, WithdrawStatusForm
from monitoring.cases.schemas_outcomes import AskWorkersArgs, ReleaseStatusArgs
from monitoring.cases.views import STAFF_ROLES, bp, me
from monitoring.core.auth import roles
from monitoring.core.forms import apply_error, form_args
from monitoring.core.operations import OperationError
from monitoring.core.roles import UserRole
from monitoring.core.transactions import attempt


def _ask_forms(
    user: User, case: Case, summary: shown.ValidationSummary, given: FlaskForm | None
) -> list[Any]:
    forms = []
    for finding in summary.findings:
        if given is not None and given.finding_id.data == finding.finding_id:
            forms.append((finding, given))
            continue
        form = AskWorkersForm(finding.questions, formdata=None, data={"finding_id": finding.finding_id})
        forms.append((finding, form))
    return forms


def _page(case: Case, *, status: int = 200, release_form: Any = None, ask_form: Any = None) -> Any:
    user = me()
    summary = shown.validation_summary(user, case)
    can_release = permissions.can_release_status(user, case)
    if can_release and release_form is None:
        release_form = ReleaseStatusForm(
            shown.report_choices(user, case),
            formdata=None,
            data={"status": shown.suggested_status(case).value},
        )
    return render_template(
        "cases/workers.html",
        case=case,
        releases=shown.releases(user, case),
        release_form=release_form if can_release else None,
        withdraw_form=WithdrawStatusForm(formdata=None) if can_release else None,
        validation=summary,
        ask_forms=_ask_forms(user, case, summary, ask_form)
        if permissions.can_ask_workers(user, case)
        else [],
        sees_reports=permissions.sees_case_reports(user, case),
    ), status


def _load(case_id: int) -> Case:
    case = services.load_case(me(), case_id)
    services.require(permissions.sees_worker_releases(me(), case))
    return case


@bp.route("/cases/<int:case_id>/workers")
@roles(*STAFF_ROLES)
def case_workers(case_id: int) -> Any:
    return _page(_load(case_id))


@bp.route("/cases/<int:case_id>/workers/statuses", methods=["POST"])
@roles(UserRole.monitor)
def case_release_status(case_id: int) -> Any:
    user, case = me(), _load(case_id)
    services.require(permissions.can_release_status(user, case))
    form = ReleaseStatusForm(shown.report_choices(user, case))
    args = form_args(ReleaseStatusArgs, form)
    if args is None:
        return _page(case, status=422, release_form=form)
    try:
        attempt(operations.release_status, user, case, args["status"], args.get("report_id"))
    except OperationError as exc:
        apply_error(form, exc)
        return _page(case, status=422, release_form=form)
    flash(_("The status was released: the workers see it on their follow-up page."), "success")
    return redirect(url_for(".case_workers", case_id=case.id))


@bp.route("/cases/<int:case_id>/workers/statuses/<int:release_id>/withdrawal", methods=["POST"])
@roles(UserRole.monitor)
def case_withdraw_status(case_id: int, release_id: int) -> Any:
    user, case = me(), _load(case_id)
    services.require(permissions.can_release_status(user, case))
    services.require(shown.release_of(user, case, release_id) is not None)
    if not WithdrawStatusForm().validate_on_submit():
        flash(_("This form was open for a long time. Please try again."), "error")
        return _page(case, status=422)
    try:
        attempt(operations.withdraw_status, user, case, release_id)
    except OperationError as exc:
        flash(str(exc.message), "error")
        return _page(case, status=422)
    flash(_("The status was withdrawn: the workers no longer see it."), "success")
    return redirect(url_for(".case_workers", case_id=case.id))


@bp.route("/cases/<int:case_id>/workers/validations", methods=["POST"])
@roles(UserRole.monitor)
def case_ask_workers(case_id: int) -> Any:
    user, case = me(), _load(case_id)
    services.require(permissions.can_ask_workers(user, case))
    summary = shown.validation_summary(user, case)
    posted = AskWorkersForm([q for f in summary.findings for q in f.questions])
    args = form_args(AskWorkersArgs, posted)
    if args is None:
        return _page(case, status=422, ask_form=posted)
    try:
        asked = attempt(operations.ask_workers, user, case, args["finding_id"], args["question"])
    except OperationError as exc:
        apply_error(posted, exc)
        return _page(case, status=422, ask_form=posted)
    message = ngettext(
        "The question was sent to %(num)d worker through the follow-up page.",
        "The question was sent to %(num)d workers through the follow-up page.",
        asked.asked,
    )
    flash(message, "success")
    if asked.without_receipt:
        flash(
            ngettext(
                "%(num)d report has no receipt: ask that worker in an interview or a survey.",
                "%(num)d reports have no receipt: ask those workers in an interview or a survey.",
                asked.without_receipt,
            ),
            "info",
        )
    return redirect(url_for(".case_workers", case_id=case.id))
