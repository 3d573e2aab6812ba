"""The meeting form; its values go through the API's ``RecordMeetingArgs``."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, FieldList, Form, FormField, StringField, TextAreaField
from wtforms.validators import InputRequired, Optional

ACTION_ROWS = 5


class AgreedActionForm(Form):
    text = StringField(_l("Action agreed"), validators=[Optional()])
    due_date = DateField(_l("Due"), validators=[Optional()])


class RecordMeetingForm(FlaskForm):
    meeting_date = DateField(_l("Date of the meeting"), validators=[InputRequired(_l("Give the date."))])
    participants = TextAreaField(
        _l("Participants"), description=_l("Who took part, for the buyer and for the supplier.")
    )
    notes = TextAreaField(
        _l("Notes (optional)"),
        description=_l("Protected: the buyer, the supplier and coordinators read them."),
    )
    actions = FieldList(FormField(AgreedActionForm), min_entries=ACTION_ROWS, max_entries=ACTION_ROWS)

    def action_rows(self) -> list[dict[str, Any]]:
        """The filled-in action rows (a row with neither text nor date is left out)."""
        rows = []
        for entry in self.actions:
            text, due = entry.form.text.data or "", entry.form.due_date.data
            if text.strip() or due is not None:
                rows.append({"text": text, "due_date": due} if due else {"text": text})
        return rows
