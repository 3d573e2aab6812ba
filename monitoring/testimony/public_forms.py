"""Forms of the anonymous worker pages at /report, worded for workers, not for staff.

Their CSRF token is checked when the form is validated (``validate_on_submit``), after the view
has refused over-large bodies and rate-limited clients without reading the body; the report
blueprint is therefore exempt from the application-wide CSRF check (see monitoring/__init__.py).
"""

from __future__ import annotations

import secrets
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    HiddenField,
    RadioField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from monitoring.testimony.models import IssueCategory
from monitoring.testimony.models_retaliation import CheckInAnswer

TESTIMONY_MAX = 20000
WORKPLACE_MAX = 2000
CONTACT_MAX = 300
MESSAGE_MAX = 10000


class CheckboxListField(SelectMultipleField):
    """A list of checkboxes (works without JavaScript, big touch targets in report.css)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ReportForm(FlaskForm):
    workplace = TextAreaField(
        _l("Which workplace is it?"),
        validators=[Optional(), Length(max=WORKPLACE_MAX)],
        description=_l(
            "The name of the factory or company, the town and street, and what is made there. "
            "Also the name of your agency, if you have one."
        ),
    )
    testimony = TextAreaField(
        _l("What happened?"),
        validators=[
            DataRequired(message=_l("Please tell us what happened.")),
            Length(max=TESTIMONY_MAX),
        ],
        description=_l(
            "Write in your own words: what, when, who was affected. You may write in any language."
        ),
    )
    categories = CheckboxListField(
        _l("Which of these is it about? (optional)"),
        choices=[],
        validate_choice=True,
    )
    consent_share_buyers = BooleanField(
        _l(
            "The monitors may tell the buyers of the products (such as cities and universities) "
            "what happened, without saying who I am."
        )
    )
    consent_share_supplier = BooleanField(
        _l(
            "The monitors may tell the company that runs the workplace what happened, "
            "without saying who I am."
        )
    )
    consent_contact = BooleanField(_l("The monitors may contact me."))
    contact = StringField(
        _l("How can the monitors reach you safely? (optional)"),
        validators=[Optional(), Length(max=CONTACT_MAX)],
        description=_l(
            "For example a phone number, LINE, WhatsApp, Signal or e-mail, and when it is safe to "
            "contact you. Only the monitors can read it."
        ),
    )
    evidence = FileField(_l("A photo, recording or document (optional)"))
    # A random token per form page, so that sending the same page twice (a reload, a double
    # tap, a retry on a bad connection) files one report, not two.
    submission = HiddenField(validators=[Length(max=64)])

    def __init__(self, *args: Any, describe_workplace: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.submission.data:
            self.submission.data = secrets.token_urlsafe(24)
        self.categories.choices = [(c.value, c.title) for c in IssueCategory]
        self.describe_workplace = describe_workplace
        if not describe_workplace:
            del self.workplace

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        if self.describe_workplace and not (self.workplace.data or "").strip():
            self.workplace.errors = [*self.workplace.errors, str(_l("Please describe the workplace."))]
            valid = False
        if self.consent_contact.data and not (self.contact.data or "").strip():
            self.contact.errors = [
                *self.contact.errors,
                str(_l("Tell the monitors how to reach you, or untick “The monitors may contact me”.")),
            ]
            valid = False
        if (self.contact.data or "").strip() and not self.consent_contact.data:
            self.consent_contact.errors = [
                *self.consent_contact.errors,
                str(_l("You wrote how to reach you: tick this box if the monitors may contact you.")),
            ]
            valid = False
        return valid


class WorkplaceSearchForm(FlaskForm):
    """The workplace search; sent in a POST body so that no URL holds what a worker looked for."""

    q = StringField(_l("Name of the factory or company, or the town"), validators=[Length(max=200)])


class WorkplaceChoiceForm(FlaskForm):
    """The choice of a workplace (a search result or a country): only the CSRF token is checked;
    the view reads ``site`` or ``country`` from the same POST body."""


class FollowUpForm(FlaskForm):
    receipt = StringField(
        _l("Your receipt number"),
        validators=[DataRequired(message=_l("Please type your receipt number.")), Length(max=200)],
        description=_l("The 20 digits you were given when you sent your report. Spaces do not matter."),
    )


class MessageForm(FlaskForm):
    # The receipt travels only in this hidden field of a POST, never in a URL or a cookie.
    receipt = HiddenField(validators=[DataRequired(), Length(max=200)])
    body = TextAreaField(
        _l("Your message to the monitors"),
        validators=[DataRequired(message=_l("Write a message first.")), Length(max=MESSAGE_MAX)],
    )
    evidence = FileField(_l("A photo, recording or document (optional)"))


CHECK_IN_COMMENT_MAX = 10000


class CheckInForm(FlaskForm):
    """A retaliation check-in: "have you faced consequences for speaking up?"."""

    # Ids of their own: the page holds the message form's fields of the same names.
    receipt = HiddenField(validators=[DataRequired(), Length(max=200)], id="check-in-receipt")
    check_in = HiddenField(validators=[DataRequired(), Length(max=20)], id="check-in-id")
    answer = RadioField(
        _l("Since you spoke up, has anyone at work treated you worse because of it?"),
        choices=[SelectChoice(answer.value, answer.title) for answer in CheckInAnswer],
        validators=[DataRequired(message=_l("Please choose an answer."))],
        id="check-in-answer",
        description=_l(
            "For example: fewer hours or less pay, a worse job or shift, threats, being shouted at, "
            "or losing your job."
        ),
    )
    comment = TextAreaField(
        _l("Anything you want to tell the monitors? (optional)"),
        validators=[Optional(), Length(max=CHECK_IN_COMMENT_MAX)],
        description=_l("Only the monitors can read it."),
        id="check-in-comment",
    )


class FlagRetaliationForm(FlaskForm):
    """The worker says, at any time, that they are being punished for speaking up."""

    receipt = HiddenField(validators=[DataRequired(), Length(max=200)], id="flag-receipt")
    comment = TextAreaField(
        _l("What happened? (optional)"),
        validators=[Optional(), Length(max=CHECK_IN_COMMENT_MAX)],
        description=_l("Only the monitors can read it."),
        id="flag-comment",
    )


class EraseReportForm(FlaskForm):
    """The worker asks to erase their report; ``confirm`` is set on the confirmation page only."""

    receipt = HiddenField(validators=[DataRequired(), Length(max=200)], id="erase-receipt")
    confirm = HiddenField(validators=[Optional(), Length(max=3)], id="erase-confirm")
