"""The outcome on the worker's follow-up page: released statuses and validation questions.

The page shows the statuses the monitors released about the case the report is in (from the
fixed list, in the worker's language, newest first, with dates only) and the questions asked to
confirm a remedy; the worker answers yes / no / partly with an optional comment, which is sealed
like every worker message. Each open question has its own form, named by the request's number
(``validation-<id>-...``), so several can stand on one page with distinct field ids.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import abort, request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from monitoring.core.auth import public
from monitoring.core.operations import OperationError
from monitoring.core.transactions import attempt
from monitoring.testimony import operations_outcomes, operations_public, outcomes, throttle
from monitoring.testimony.models import WorkerReport
from monitoring.testimony.models_outcomes import ValidationAnswer, ValidationRequest
from monitoring.testimony.public import (
    _conversation,
    _prepare_body,
    bp,
)
from monitoring.testimony.public_forms import FollowUpForm, MessageForm
from monitoring.testimony.public_render import render, worker_page

logger = logging.getLogger(__name__)

# The plain (unprefixed) field that names which question a posted answer is for.
REQUEST_FIELD = "validation_request"


class ValidationAnswerForm(FlaskForm):
    """The worker's answer to one validation question (its prefix names the question)."""

    receipt = HiddenField(validators=[DataRequired(), Length(max=200)])
    answer = RadioField(
        _l("Your answer"),
        choices=[SelectChoice(a.value, title) for a, title in ValidationAnswer.__titles__().items()],
        validators=[DataRequired(message=_l("Please choose an answer."))],
    )
    comment = TextAreaField(
        _l("Anything you want to add? (optional)"),
        validators=[Optional(), Length(max=operations_outcomes.MAX_COMMENT_LENGTH)],
        description=_l("Only the monitors can read it."),
    )


def _prefix(request_id: int) -> str:
    return f"validation-{request_id}"


def outcome_context(report: WorkerReport, receipt: str | None, extra: dict[str, Any]) -> dict[str, Any]:
    """What the follow-up page shows of the outcome, with a form per open question."""
    given: ValidationAnswerForm | None = extra.get("validation_form")
    questions: list[tuple[ValidationRequest, ValidationAnswerForm | None]] = []
    for item in outcomes.validation_requests(report):
        if item.answer is not None:
            questions.append((item, None))
        elif given is not None and given._prefix == _prefix(item.id) + "-":
            questions.append((item, given))
        else:
            form = ValidationAnswerForm(formdata=None, prefix=_prefix(item.id), receipt=receipt)
            questions.append((item, form))
    return {
        "released_statuses": outcomes.released_statuses(report),
        "validation_questions": questions,
        "validation_field": REQUEST_FIELD,
        "validation_notice": extra.get("validation_notice", False),
        "validation_error": extra.get("validation_error"),
    }


@bp.route("/follow-up/validation", methods=["POST"])
@public
@worker_page
def answer_validation() -> Any:
    """The worker answers a question about the remedy on the follow-up page."""
    throttle.check(throttle.followup_client_limit())
    _prepare_body()
    raw_id = str(request.form.get(REQUEST_FIELD, ""))
    if not raw_id.isdigit() or len(raw_id) > 12:
        abort(400)
    request_id = int(raw_id)
    form = ValidationAnswerForm(prefix=_prefix(request_id))
    valid = form.validate()
    if form.receipt.errors:
        abort(400)
    found = operations_public.find_by_receipt(form.receipt.data)
    if found is None:
        entry = FollowUpForm(formdata=None)
        return render(
            "report/follow_up.html", form=entry, not_found=True, languages_for=("report.follow_up", {})
        )
    report, derived = found
    message_form = MessageForm(formdata=None, receipt=form.receipt.data)
    if not valid:
        return _conversation(report, derived, message_form, validation_form=form, status=422)
    try:
        attempt(operations_outcomes.answer_question, report, request_id, form.answer.data, form.comment.data)
    except OperationError as exc:
        # Shown above the questions: the question may be answered already and have no form.
        return _conversation(report, derived, message_form, validation_error=str(exc.message), status=422)
    return _conversation(report, derived, message_form, validation_notice=True)
