"""Pages: a contract's follow-up meetings, and the form its buyer or a coordinator records one with."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from monitoring.cases.meetings import operations, services
from monitoring.cases.meetings.forms import RecordMeetingForm
from monitoring.cases.meetings.permissions import READER_ROLES, RECORDER_ROLES, can_record_meeting
from monitoring.cases.meetings.schemas import RecordMeetingArgs
from monitoring.core.auth import roles
from monitoring.core.forms import apply_error, form_args
from monitoring.core.operations import OperationError
from monitoring.core.transactions import attempt
from monitoring.supplychain.services import current

bp = Blueprint("meetings", __name__)


@bp.route("/contracts/<int:contract_id>/meetings")
@roles(*READER_ROLES)
def contract_meetings(contract_id: int) -> Any:
    user = current()
    contract = services.load_contract(user, contract_id)
    return render_template(
        "meetings/contract.html",
        contract=contract,
        meetings=services.contract_meetings(contract),
        can_record=can_record_meeting(user, contract),
    )


@bp.route("/contracts/<int:contract_id>/meetings/new", methods=["GET", "POST"])
@roles(*RECORDER_ROLES)
def record_meeting(contract_id: int) -> Any:
    user = current()
    contract = services.load_contract(user, contract_id, to_record=True)
    form = RecordMeetingForm()
    if not form.is_submitted():
        return render_template("meetings/new.html", contract=contract, form=form)
    args = form_args(RecordMeetingArgs, form, extra={"actions": form.action_rows()})
    if args is not None:
        try:
            attempt(operations.record_meeting, user, contract, services.meeting_data(args))
        except OperationError as exc:
            apply_error(form, exc)
        else:
            flash(_("The meeting was recorded."), "success")
            return redirect(url_for(".contract_meetings", contract_id=contract.id))
    return render_template("meetings/new.html", contract=contract, form=form), 422
