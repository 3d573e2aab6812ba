"""Forms of the compliance pages; their values go through the API's ``Args`` schemas."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, SelectMultipleField, TextAreaField
from wtforms.widgets import CheckboxInput, ListWidget

from monitoring.cases.forms import enum_choices
from monitoring.cases.models import ClauseStatus
from monitoring.supplychain.models import ContractClause


class AssessClauseForm(FlaskForm):
    year = HiddenField()
    status = SelectField(_l("Status"))
    reason = TextAreaField(_l("Reason"), description=_l("Required: say why, for whoever reads the contract."))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.status.choices = enum_choices(ClauseStatus)


class FindingClausesForm(FlaskForm):
    clause_ids = SelectMultipleField(
        _l("Clauses the finding breaches"),
        coerce=int,
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        validate_choice=False,  # the operation refuses clauses one may not choose, with a message
    )

    def __init__(self, options: Sequence[ContractClause], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.clause_ids.choices = [
            (c.id, f"{c.contract.reference} · {c.kind.title}{' · ' + c.reference if c.reference else ''}")
            for c in options
        ]
