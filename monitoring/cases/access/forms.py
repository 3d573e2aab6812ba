"""The access form; its values go through the API's ``RecordAccessArgs``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, TextAreaField
from wtforms.validators import InputRequired, Optional

from monitoring.accounts.models import Organisation
from monitoring.cases.forms import enum_choices
from monitoring.cases.models import AccessOutcome
from monitoring.core.forms import optional_int


class RecordAccessForm(FlaskForm):
    requested_of_id = SelectField(
        _l("Supplier asked"), coerce=optional_int, validators=[InputRequired(_l("Choose the supplier."))]
    )
    access_date = DateField(_l("Date"), validators=[InputRequired(_l("Give the date."))])
    outcome = SelectField(
        _l("Outcome"),
        validators=[InputRequired(_l("Choose the outcome."))],
        description=_l("A refused access files a major finding at the site."),
    )
    note = TextAreaField(
        _l("Note (optional)"),
        validators=[Optional()],
        description=_l("Protected: monitors of your organisation and coordinators read it."),
    )

    def __init__(self, suppliers: Sequence[Organisation], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.requested_of_id.choices = [("", "—"), *((o.id, o.name) for o in suppliers)]
        self.outcome.choices = enum_choices(AccessOutcome)
