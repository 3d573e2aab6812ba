"""Forms of the monitors' retaliation-watch pages; their data goes through the ``Args`` schemas."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, TextAreaField
from wtforms.validators import Length, Optional

from monitoring.testimony.forms import _FilterForm, enum_choices
from monitoring.testimony.models import RetaliationRisk
from monitoring.testimony.models_retaliation import AlertState
from monitoring.testimony.operations_retaliation import DEFAULT_FINDING_SUMMARY


class RetaliationRiskForm(FlaskForm):
    retaliation_risk = SelectField(
        _l("Retaliation risk"),
        default="",
        description=_l("How likely the worker is to be punished for speaking up; the change is logged."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.retaliation_risk.choices = enum_choices(RetaliationRisk, _l("Not assessed"))


class AlertFilterForm(_FilterForm):
    state = SelectField(_l("State"), default="")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.state.choices = enum_choices(AlertState, _l("Any state"))


SUMMARY_MAX = 2000


class RetaliationFindingForm(FlaskForm):
    """File a retaliation finding from an alert (the cases feature's ``FileRetaliationFindingArgs``)."""

    summary = TextAreaField(
        _l("Shareable summary"),
        validators=[Length(max=SUMMARY_MAX)],
        description=_l("Shown to the buyers and the supplier: never say who the worker is."),
    )
    workers_affected = IntegerField(_l("Workers affected"), validators=[Optional()], default=1)
    site_id = IntegerField(
        _l("Workplace (site number)"),
        validators=[Optional()],
        description=_l("The worker described the workplace: give the number of the site in the registry."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.summary.data:
            self.summary.data = str(DEFAULT_FINDING_SUMMARY)
