"""Forms of the case, finding and dialogue pages: CSRF, rendering and choices.

What a form's values must be is the action's ``Args`` schema's to say (the API's), see
:mod:`monitoring.cases.schemas`; a form keeps only the checks whose messages name its own
fields ("Choose a standard.").
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from babel.numbers import list_currencies
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from sqlalchemy import ColumnElement
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from monitoring.accounts.models import Organisation, User
from monitoring.cases.models import (
    MONETARY_REMEDIES,
    CaseOutcome,
    CaseState,
    EvidenceType,
    Finding,
    RemedyKind,
    Severity,
    Visibility,
)
from monitoring.cases.standards import groups
from monitoring.core.forms import optional_int
from monitoring.core.types import TitledEnum
from monitoring.supplychain.forms import countries
from monitoring.supplychain.models import Site
from monitoring.supplychain.pickers import Picker
from monitoring.testimony.models import WorkerReport

# Empty remedy rows offered on the closing form.
REMEDY_ROWS = 3
# The value of the "in a case" filter.
IN_CASE_YES = "yes"
IN_CASE_NO = "no"


def _placeholder(label: Any) -> SelectChoice:
    return SelectChoice("", str(label))


def enum_choices(members: Iterable[TitledEnum], placeholder: Any = None) -> list[SelectChoice]:
    choices = [SelectChoice(m.value, m.title) for m in members]
    return [_placeholder(placeholder), *choices] if placeholder is not None else choices


def site_label(site: Site) -> str:
    place = ", ".join(part for part in (site.city, site.country) if part)
    return f"{site.name} ({place})" if place else site.name


def group_choices(placeholder: Any) -> list[SelectChoice]:
    """The top-level standards, as a filter."""
    return [_placeholder(placeholder), *(SelectChoice(g.code, g.label()) for g in groups())]


def standard_choices(placeholder: Any) -> list[SelectChoice]:
    """Every standard with its code, grouped by its top-level standard (as <optgroup>)."""
    choices = [_placeholder(placeholder)]
    for group in groups():
        label = group.label()
        choices.append(
            SelectChoice(group.code, str(_l("%(code)s in general", code=group.code)), optgroup=label)
        )
        choices.extend(SelectChoice(c.code, c.label(), optgroup=label) for c in group.children)
    return choices


def finding_label(finding: Finding) -> str:
    from monitoring.cases.standards import get_standard

    standard = get_standard(finding.standard)
    title = standard.label() if standard else finding.standard
    return str(
        _l(
            "Finding %(id)s: %(standard)s (%(severity)s, found %(date)s)",
            id=finding.id,
            standard=title,
            severity=finding.severity.title,
            date=finding.found_date.isoformat(),
        )
    )


def _picked(picker: Picker) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in picker.choices]


def report_search(text: str) -> ColumnElement[bool] | None:
    """Reports by their number, or by the day (``2026-03-01``) or month (``2026-03``) collected."""
    text = text.strip().removeprefix("#")
    if text.isdigit():
        return WorkerReport.id == int(text)
    try:
        day = date.fromisoformat(text)
    except ValueError:
        try:
            month = date.fromisoformat(f"{text}-01")
        except ValueError:
            return None
        following = date(month.year + month.month // 12, month.month % 12 + 1, 1)
        return (WorkerReport.collected_date >= month) & (WorkerReport.collected_date < following)
    return WorkerReport.collected_date == day


def report_label(report: WorkerReport) -> str:
    return str(
        _l(
            "Report %(id)s, collected %(date)s, %(channel)s",
            id=report.id,
            date=report.collected_date.isoformat(),
            channel=report.channel.title,
        )
    )


def at_least_one(form: Any, field: SelectMultipleField) -> None:
    """A group of checkboxes needs one ticked (no ``required`` flag: it would mark every box)."""
    if not field.data:
        raise ValidationError(_l("Choose at least one finding."))


def _checkboxes(label: Any, **kwargs: Any) -> SelectMultipleField:
    return SelectMultipleField(
        label,
        coerce=int,
        default=[],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        **kwargs,
    )


class _FilterForm(FlaskForm):
    """A GET form that narrows a list; it changes nothing, so it carries no CSRF token."""

    class Meta:
        csrf = False


class CaseFilterForm(_FilterForm):
    q = StringField(_l("Search"), description=_l("A case reference, a site or a supplier."))
    state = SelectField(_l("State"), default="")
    severity = SelectField(_l("Severity"), default="")
    overdue = BooleanField(_l("Only cases with an overdue action"))
    country = SelectField(_l("Country"), default="")
    category = SelectField(
        _l("Standard"), default="", description=_l("Cases with a finding against this standard.")
    )

    def __init__(self, in_use: Iterable[str], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.state.choices = enum_choices(CaseState, _l("Any state"))
        self.severity.choices = enum_choices(Severity, _l("Any severity"))
        # Only the countries of the sites of the cases the user sees.
        codes = set(in_use)
        self.country.choices = [c for c in countries(_l("Any country")) if not c.value or c.value in codes]
        self.category.choices = group_choices(_l("Any standard"))


class FindingFilterForm(_FilterForm):
    site = SelectField(_l("Site"), coerce=optional_int, default=None)
    category = SelectField(_l("Standard"), default="")
    severity = SelectField(_l("Severity"), default="")
    in_case = SelectField(_l("In a case"), default="")

    def __init__(self, sites: Picker, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A search of the sites of the findings listed (rendered by the ``picker`` macro).
        self.site_picker = sites
        self.site.choices = [_placeholder(_l("Any site")), *_picked(sites)]
        self.category.choices = group_choices(_l("Any standard"))
        self.severity.choices = enum_choices(Severity, _l("Any severity"))
        self.in_case.choices = [
            _placeholder(_l("In a case or not")),
            SelectChoice(IN_CASE_YES, str(_l("In a case"))),
            SelectChoice(IN_CASE_NO, str(_l("Not in a case yet"))),
        ]


class SiteChoiceForm(_FilterForm):
    """The first step of a form that depends on the site (the reports or findings offered)."""

    site = SelectField(_l("Site"), coerce=optional_int, validators=[DataRequired(_l("Choose a site."))])

    def __init__(self, sites: Picker | Iterable[Site], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if isinstance(sites, Picker):
            # The site chosen and a search of the sites the user lists, never every site.
            self.site_picker = sites
            choices = _picked(sites)
        else:
            # A short list (the sites with findings free for a case) offered whole.
            choices = [SelectChoice(s.id, site_label(s)) for s in sites]
        self.site.choices = [_placeholder(_l("Choose a site")), *choices]


class FindingForm(FlaskForm):
    site = HiddenField(validators=[DataRequired()])
    standard = SelectField(_l("Standard breached"), validators=[DataRequired(_l("Choose a standard."))])
    severity = SelectField(
        _l("Severity"),
        validators=[DataRequired(_l("Choose a severity."))],
        description=_l(
            "Priority: forced or child labour, or a risk to life; it sets the shortest deadlines."
        ),
    )
    workers_affected = IntegerField(
        _l("Workers affected (optional)"),
        validators=[Optional(), NumberRange(min=0, message=_l("Give a number of 0 or more."))],
        description=_l("Buyers and suppliers see “fewer than 5” when the number is below 5."),
    )
    evidence_type = SelectField(_l("Evidence"), validators=[DataRequired(_l("Choose the kind of evidence."))])
    found_date = DateField(_l("Date found"), validators=[InputRequired(_l("Give the date it was found."))])
    summary = TextAreaField(
        _l("Summary"),
        validators=[DataRequired(_l("Write a summary."))],
        description=_l(
            "Coordinators and the public buyers concerned read this summary. It must not identify "
            "any worker: no names, numbers, departments or shifts that point to a person."
        ),
    )
    reports = _checkboxes(
        _l("Supporting worker reports (optional)"),
        description=_l("Only the monitors of your organisation see these links."),
    )

    def __init__(self, reports: Picker, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.standard.choices = standard_choices(_l("Choose a standard"))
        self.severity.choices = enum_choices(Severity, _l("Choose a severity"))
        self.evidence_type.choices = enum_choices(EvidenceType, _l("Choose the kind of evidence"))
        # The reports linked so far, then the latest or those searched for: a bounded page.
        self.reports_picker = reports
        self.reports.choices = _picked(reports)


class CaseOpenForm(FlaskForm):
    site = HiddenField(validators=[DataRequired()])
    findings = _checkboxes(_l("Findings"), validators=[at_least_one])
    lead = SelectField(_l("Lead coordinator (optional)"), coerce=optional_int, default=None)

    def __init__(
        self, findings: Iterable[Finding], coordinators: Iterable[User], *args: Any, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.findings.choices = [SelectChoice(f.id, finding_label(f)) for f in findings]
        self.lead.choices = coordinator_choices(coordinators, _l("No lead yet"))


def coordinator_choices(coordinators: Iterable[User], placeholder: Any) -> list[SelectChoice]:
    return [_placeholder(placeholder), *(SelectChoice(u.id, f"{u.name} ({u.email})") for u in coordinators)]


class LeadForm(FlaskForm):
    lead = SelectField(_l("Lead coordinator"), coerce=optional_int, default=None)

    def __init__(self, coordinators: Iterable[User], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lead.choices = coordinator_choices(coordinators, _l("No lead"))


class AddFindingsForm(FlaskForm):
    findings = _checkboxes(_l("Findings to add"), validators=[at_least_one])

    def __init__(self, findings: Iterable[Finding], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.findings.choices = [SelectChoice(f.id, finding_label(f)) for f in findings]


class TransitionForm(FlaskForm):
    """A button that moves the case on; some moves need a reason."""

    transition = HiddenField(validators=[DataRequired()])
    reason = TextAreaField(_l("Reason"))


class ReopenForm(FlaskForm):
    reason = TextAreaField(
        _l("Why is the case reopened?"),
        validators=[DataRequired(_l("Give the reason for reopening."))],
        description=_l("The coordinators, the monitors and the public buyers concerned read it."),
    )


class MessageForm(FlaskForm):
    visibility = RadioField(_l("Who reads it"), validators=[DataRequired(_l("Choose who reads it."))])
    supplier = SelectField(
        _l("Supplier addressed"),
        coerce=optional_int,
        default=None,
        description=_l("For a message to the parties: the supplier organisation that also reads it."),
    )
    body = TextAreaField(_l("Message"), validators=[DataRequired(_l("Write a message."))])
    files = MultipleFileField(
        _l("Attachments (optional)"),
        description=_l("PDF files, photos (JPEG, PNG, WebP), audio or video; they are stored encrypted."),
    )

    def __init__(
        self,
        visibilities: Iterable[Visibility],
        suppliers: Iterable[Organisation] = (),
        *args: Any,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        options = list(visibilities)
        self.visibility.choices = enum_choices(options)
        if len(options) == 1 and not self.visibility.data:
            self.visibility.data = options[0].value
        self.supplier.choices = [
            _placeholder(_l("Choose a supplier")),
            *(SelectChoice(o.id, o.name) for o in suppliers),
        ]


class RemedyForm(Form):
    """One remedy row of the closing form; a row without a kind is left out."""

    kind = SelectField(_l("Remedy"), default="")
    amount = DecimalField(
        _l("Amount"),
        places=2,
        validators=[Optional(), NumberRange(min=0, message=_l("Give an amount of 0 or more."))],
        description=_l("For fees repaid and back pay."),
    )
    currency = StringField(
        _l("Currency"),
        validators=[Optional(), Length(min=3, max=3, message=_l("Give a three-letter code, e.g. USD."))],
        description=_l("Three-letter ISO 4217 code, e.g. USD or CNY."),
    )
    workers_covered = IntegerField(
        _l("Workers covered"),
        validators=[Optional(), NumberRange(min=0, message=_l("Give a number of 0 or more."))],
    )
    description = TextAreaField(_l("Description"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kind.choices = enum_choices(RemedyKind, _l("No remedy in this row"))

    def validate(self, extra_validators: Any = None) -> bool:
        # Cross-field checks run here: an empty optional field stops its own validators.
        valid = super().validate(extra_validators)
        amount, code = self.amount.data, (self.currency.data or "").strip().upper()
        if not self.amount.errors:
            if self.kind.data in {k.value for k in MONETARY_REMEDIES} and amount is None:
                self.amount.errors.append(str(_l("Give the amount paid.")))
            elif amount is not None and amount != amount.quantize(Decimal("0.01")):
                self.amount.errors.append(str(_l("Give the amount with at most two decimals.")))
        if not self.currency.errors:
            if amount is not None and not code:
                self.currency.errors.append(str(_l("Give the currency of the amount.")))
            elif code and code not in list_currencies():
                self.currency.errors.append(
                    str(_l("Give a three-letter ISO 4217 code, e.g. USD, CNY or THB."))
                )
        return valid and not self.amount.errors and not self.currency.errors

    @property
    def is_empty(self) -> bool:
        return not self.kind.data


class CloseForm(FlaskForm):
    outcome = RadioField(_l("Outcome"), validators=[DataRequired(_l("Choose the outcome."))])
    note = TextAreaField(
        _l("Closing note (optional)"),
        description=_l("What was achieved and what remains. Coordinators and monitors read it."),
    )
    remedies = FieldList(FormField(RemedyForm), min_entries=REMEDY_ROWS, max_entries=50)
    workers_consulted = BooleanField(_l("I confirm the affected workers were consulted about this remedy"))
    no_validation_reason = TextAreaField(
        _l("Why the workers could not be asked (only if none has confirmed the remedy)"),
        description=_l(
            "Needed to close a priority case as resolved when no worker answered a validation "
            "question, e.g. every worker concerned has left and cannot be reached."
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.outcome.choices = enum_choices(CaseOutcome)
