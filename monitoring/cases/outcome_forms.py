"""Forms of the case's workers page: release a status, withdraw it, ask a validation question.

Their values go through the API's ``Args`` schemas (:mod:`monitoring.cases.schemas_outcomes`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from flask_babel import format_date
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired
from wtforms.widgets import HiddenInput

from monitoring.cases.forms import enum_choices
from monitoring.core.forms import optional_int
from monitoring.testimony.models_outcomes import ValidationQuestion, WorkerStatus


class ReleaseStatusForm(FlaskForm):
    status = SelectField(
        _l("Status to tell the workers"),
        validators=[DataRequired(_l("Choose a status from the list."))],
        description=_l("Workers read it in their own language, with the date only."),
    )
    report_id = SelectField(_l("Tell"), coerce=optional_int)

    def __init__(self, reports: Sequence[tuple[int, Any, date]], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.status.choices = enum_choices(WorkerStatus)
        every = SelectChoice("", str(_l("Every worker whose report the case rests on")))
        self.report_id.choices = [every] + [
            SelectChoice(
                str(report_id),
                str(
                    _l(
                        "Only report %(id)s (%(channel)s, %(date)s)",
                        id=report_id,
                        channel=channel,
                        date=format_date(when),
                    )
                ),
            )
            for report_id, channel, when in reports
        ]


class WithdrawStatusForm(FlaskForm):
    """Only its CSRF token: the release is in the URL."""


class AskWorkersForm(FlaskForm):
    finding_id = IntegerField(widget=HiddenInput(), validators=[DataRequired()])
    question = SelectField(_l("Question"), validators=[DataRequired(_l("Choose a question from the list."))])

    def __init__(self, questions: Iterable[ValidationQuestion], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.question.choices = enum_choices(questions)
