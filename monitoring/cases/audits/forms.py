"""The crosswalk and audit import forms; their values go through the API's ``Args``."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Optional

from monitoring.cases.forms import enum_choices
from monitoring.cases.standards import STANDARDS
from monitoring.testimony.models import IssueCategory


class CrosswalkEntryForm(FlaskForm):
    standard = SelectField(_l("Standard"), validators=[InputRequired(_l("Choose the standard."))])
    rba_section = StringField(
        _l("RBA Code section (optional)"),
        validators=[Optional()],
        description=_l("A section of the RBA Code of Conduct 8.0, such as A3 or B10."),
    )
    issue_category = SelectField(
        _l("Worker issue category (optional)"),
        validators=[Optional()],
        description=_l("Give a section, a category or both."),
    )
    note = TextAreaField(_l("Note (optional)"), validators=[Optional()])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.standard.choices = [("", "—"), *((s.code, s.label()) for s in STANDARDS)]
        self.issue_category.choices = enum_choices(IssueCategory, placeholder="—")


class AuditImportForm(FlaskForm):
    file = FileField(
        _l("CSV file"),
        validators=[FileRequired(_l("Choose a file to import."))],
        description=_l("A CSV file saved as UTF-8, with a header row."),
        render_kw={"accept": ".csv,text/csv"},
    )
