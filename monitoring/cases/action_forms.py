"""Forms of the corrective-action pages: the request, the plan, decisions, evidence, verification.

CSRF, rendering and choices; what the values must be is said by the action's ``Args`` schema
(:mod:`monitoring.cases.schemas`), which the API uses too.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import BooleanField, DateField, HiddenField, RadioField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Optional, ValidationError

from monitoring.accounts.models import Organisation
from monitoring.cases.models import ActionState, Finding
from monitoring.cases.standards import get_standard
from monitoring.core.forms import optional_int

ACCEPT = "accept"
REJECT = "reject"
VERIFIED = "verified"
NOT_VERIFIED = "not_verified"


def _placeholder(label: Any) -> SelectChoice:
    return SelectChoice("", str(label))


def _text(label: Any, description: Any = None, *, required: bool = True) -> TextAreaField:
    return TextAreaField(label, validators=[DataRequired()] if required else [], description=description)


def finding_label(finding: Finding) -> str:
    """A finding by its standard and severity: metadata every role that sees the action may read."""
    standard = get_standard(finding.standard)
    title = standard.label() if standard is not None else finding.standard
    return f"{title} · {finding.severity.title} (#{finding.id})"


class _FilterForm(FlaskForm):
    """A GET form that narrows a list; it changes nothing, so it carries no CSRF token."""

    class Meta:
        csrf = False


class RequestFilterForm(_FilterForm):
    state = SelectField(_l("State"), default="")
    overdue = BooleanField(_l("Only overdue requests"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.state.choices = [
            _placeholder(_l("Any state")),
            *(SelectChoice(s.value, s.title) for s in ActionState),
        ]


class ActionFilterForm(_FilterForm):
    """The filters of the list of corrective actions (the API's)."""

    state = SelectField(_l("State"), default="")
    overdue = BooleanField(_l("Only overdue actions"))
    awaiting_decision = BooleanField(_l("Only plans awaiting my decision"))
    case_id = HiddenField()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.state.choices = [
            _placeholder(_l("Any state")),
            *(SelectChoice(s.value, s.title) for s in ActionState),
        ]


class RequestForm(FlaskForm):
    """A coordinator asks a supplier organisation to correct what a finding shows."""

    finding_id = SelectField(
        _l("Finding"), coerce=optional_int, validators=[InputRequired(_l("Choose the finding."))]
    )
    supplier_id = SelectField(
        _l("Supplier organisation"),
        coerce=optional_int,
        validators=[InputRequired(_l("Choose the supplier organisation."))],
        description=_l("The suppliers this site concerns: they disclose a product made there or supply it."),
    )
    request = _text(
        _l("What the supplier is asked to do"),
        _l("The supplier reads this, but not the finding's summary: say what must be corrected."),
    )
    plan_due_date = DateField(
        _l("Plan due by"),
        validators=[Optional()],
        description=_l("The supplier's plan is due by this date. Left empty: the default for the severity."),
    )
    closure_due_date = DateField(
        _l("Closure due by"),
        validators=[Optional()],
        description=_l("The action is to be closed by this date. Left empty: the default for the severity."),
    )

    def __init__(
        self, findings: Iterable[Finding], suppliers: Iterable[Organisation], *args: Any, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.finding_id.choices = [
            _placeholder(_l("Choose a finding")),
            *(SelectChoice(f.id, finding_label(f)) for f in findings),
        ]
        self.supplier_id.choices = [
            _placeholder(_l("Choose a supplier")),
            *(SelectChoice(o.id, o.name) for o in suppliers),
        ]


class PlanForm(FlaskForm):
    """The supplier's corrective-action plan."""

    root_cause = _text(_l("Root cause"), _l("Why did this happen? Name the cause, not only the symptom."))
    corrective = _text(_l("Corrective action"), _l("What you do to correct it for the workers affected."))
    preventive = _text(_l("Preventive action"), _l("What you change so that it does not happen again."))
    target_date = DateField(
        _l("Target date"),
        validators=[InputRequired(_l("Give the date by which the plan will be carried out."))],
    )


class DecisionForm(FlaskForm):
    """Accept a submitted plan, or reject it with a reason the supplier reads."""

    decision = RadioField(
        _l("Decision"),
        choices=[SelectChoice(ACCEPT, _l("Accept the plan")), SelectChoice(REJECT, _l("Reject the plan"))],
        validators=[InputRequired(_l("Choose whether you accept or reject the plan."))],
    )
    reason = _text(
        _l("Reason for a rejection"),
        _l("Needed to reject: the supplier reads it and submits a new plan."),
        required=False,
    )

    def validate_reason(self, field: TextAreaField) -> None:
        if self.decision.data == REJECT and not (field.data or "").strip():
            raise ValidationError(_l("Say why the plan is rejected."))


class ImplementationForm(FlaskForm):
    """The supplier reports the plan carried out, with evidence files."""

    description = _text(
        _l("What was done"), _l("Describe what was carried out, when, and for how many workers.")
    )
    files = MultipleFileField(
        _l("Evidence files"),
        description=_l(
            "A PDF, photos (JPEG, PNG, WebP), audio (MP3, Ogg, WAV, AMR) or video (MP4). "
            "You may choose several files."
        ),
    )


class VerificationForm(FlaskForm):
    """A monitor's verification of what the supplier reported."""

    result = RadioField(
        _l("Result"),
        choices=[
            SelectChoice(VERIFIED, _l("Verified: the correction is in place")),
            SelectChoice(NOT_VERIFIED, _l("Not verified: the correction is not (fully) in place")),
        ],
        validators=[InputRequired(_l("Choose the result of the verification."))],
    )
    note = _text(
        _l("Verification note"),
        _l("How it was verified (e.g. worker interviews), and, if not verified, what is missing."),
        required=False,
    )

    def validate_note(self, field: TextAreaField) -> None:
        if self.result.data == NOT_VERIFIED and not (field.data or "").strip():
            raise ValidationError(_l("Say what is missing: the supplier reads it."))


class CloseForm(FlaskForm):
    """Close the action: only the CSRF token."""


class DeadlinesForm(FlaskForm):
    """New deadlines, with the reason the parties read in the timeline."""

    plan_due_date = DateField(_l("Plan due by"), validators=[InputRequired(_l("Give a date."))])
    closure_due_date = DateField(_l("Closure due by"), validators=[InputRequired(_l("Give a date."))])
    reason = _text(_l("Reason for the change"))
