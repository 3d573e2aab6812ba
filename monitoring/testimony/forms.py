"""Forms of the monitors' testimony pages."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from monitoring.accounts.models import Organisation, User
from monitoring.core.forms import optional_int
from monitoring.core.types import TitledEnum
from monitoring.supplychain.models import Site
from monitoring.testimony.models import IssueCategory, ReportChannel, ReportStatus, RetaliationRisk
from monitoring.testimony.operations import (
    INTAKE_CHANNELS,
    MAX_IDENTITY_FIELD_LENGTH,
    MAX_MESSAGE_LENGTH,
    MAX_REASON_LENGTH,
    MAX_TESTIMONY_LENGTH,
    MAX_WORKPLACE_LENGTH,
    AgeBand,
    Gender,
    OpenReason,
    country_choices,
    language_choices,
)

# The value of the workplace choice "not in the registry: give the country".
NO_SITE = "none"


def _placeholder(label: Any) -> SelectChoice:
    return SelectChoice("", str(label))


def enum_choices(members: Iterable[TitledEnum], placeholder: Any = None) -> list[SelectChoice]:
    choices = [SelectChoice(m.value, m.title) for m in members]
    return [_placeholder(placeholder), *choices] if placeholder is not None else choices


def countries(placeholder: Any) -> list[SelectChoice]:
    return [_placeholder(placeholder), *(SelectChoice(c, n) for c, n in country_choices())]


def site_label(site: Site) -> str:
    place = ", ".join(part for part in (site.city, site.country) if part)
    return f"{site.name} ({place})" if place else site.name


class _FilterForm(FlaskForm):
    """A GET form that narrows a list; it changes nothing, so it carries no CSRF token."""

    class Meta:
        csrf = False


class ReportFilterForm(_FilterForm):
    status = SelectField(_l("Status"), default="")
    channel = SelectField(_l("Channel"), default="")
    country = SelectField(_l("Country"), default="")
    overdue = BooleanField(_l("Only overdue reports"))
    awaiting_acknowledgement = BooleanField(_l("Only reports awaiting acknowledgement"))
    unread = BooleanField(_l("Only reports with unread messages from the worker"))
    retaliation_risk = SelectField(_l("Retaliation risk"), default="")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.status.choices = enum_choices(ReportStatus, _l("Any status"))
        self.retaliation_risk.choices = enum_choices(RetaliationRisk, _l("Any risk"))
        self.channel.choices = enum_choices(ReportChannel, _l("Any channel"))
        self.country.choices = countries(_l("Any country"))


class SiteSearchForm(_FilterForm):
    q = StringField(
        _l("Find the workplace"),
        validators=[Optional(), Length(max=200)],
        description=_l("Part of the factory's name or its city."),
    )


def _identity_field(label: Any, description: Any = None) -> StringField:
    return StringField(
        label, validators=[Optional(), Length(max=MAX_IDENTITY_FIELD_LENGTH)], description=description
    )


class IntakeForm(FlaskForm):
    """Testimony collected by a monitor; the worker's identity and words are sealed."""

    site = RadioField(_l("Workplace"), validators=[InputRequired(_l("Choose the workplace."))])
    q = StringField(validators=[Optional(), Length(max=200)])  # the search that found the sites
    country = SelectField(
        _l("Country of the workplace"),
        default="",
        description=_l("Needed when the workplace is not in the registry."),
    )
    workplace = TextAreaField(
        _l("Workplace in the worker's words (optional, sealed)"),
        validators=[Optional(), Length(max=MAX_WORKPLACE_LENGTH)],
        description=_l("Name, address or landmarks, when it is not in the registry."),
    )
    channel = SelectField(_l("How it was collected"), validators=[DataRequired()])
    collected_date = DateField(_l("Date collected"), validators=[InputRequired()])
    language = SelectField(_l("Language of the testimony"), validators=[DataRequired()])
    name = _identity_field(_l("Name"))
    contact = _identity_field(_l("Contact"), _l("Telephone, messaging app or address, as the worker wishes."))
    employee_number = _identity_field(_l("Employee number"))
    employer = _identity_field(_l("Employer or agency"))
    nationality = SelectField(_l("Nationality"), default="")
    gender = SelectField(_l("Gender"), default="")
    age_band = SelectField(_l("Age"), default="")
    testimony = TextAreaField(
        _l("Testimony"),
        validators=[DataRequired(), Length(max=MAX_TESTIMONY_LENGTH)],
        description=_l("What the worker said, in their words as far as possible."),
    )
    categories = SelectMultipleField(
        _l("Issues raised"), default=[], widget=ListWidget(prefix_label=False), option_widget=CheckboxInput()
    )
    consent_share_buyers = BooleanField(_l("May be shared, anonymised, with public buyers"))
    consent_share_supplier = BooleanField(_l("May be shared, anonymised, with the supplier"))
    consent_contact = BooleanField(_l("May be contacted again"))
    retaliation_risk = SelectField(_l("Risk of retaliation"), default="")

    def __init__(self, sites: Iterable[Site], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.site.choices = [
            *(SelectChoice(str(site.id), site_label(site)) for site in sites),
            SelectChoice(NO_SITE, str(_l("Not in the registry: I give the country"))),
        ]
        self.country.choices = countries(_l("Choose a country"))
        self.channel.choices = enum_choices(INTAKE_CHANNELS, _l("Choose a channel"))
        self.language.choices = [_placeholder(_l("Choose a language")), *language_choices()]
        self.nationality.choices = countries(_l("Not known"))
        self.gender.choices = enum_choices(Gender, _l("Not known"))
        self.age_band.choices = enum_choices(AgeBand, _l("Not known"))
        self.categories.choices = enum_choices(IssueCategory)
        self.retaliation_risk.choices = enum_choices(RetaliationRisk, _l("Not assessed"))

    def validate_country(self, field: SelectField) -> None:
        if self.site.data == NO_SITE and not field.data:
            raise ValidationError(_l("Choose the country of the workplace."))

    @property
    def site_id(self) -> int | None:
        return optional_int(self.site.data) if self.site.data not in (None, NO_SITE) else None


class OpenForm(FlaskForm):
    """Why the sealed content is opened: recorded in the audit log."""

    reason = SelectField(_l("Why do you open it?"), validators=[DataRequired()])
    reason_text = StringField(_l("If other: why"), validators=[Optional(), Length(max=MAX_REASON_LENGTH)])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.reason.choices = enum_choices(OpenReason, _l("Choose a reason"))


class StatusForm(FlaskForm):
    status = SelectField(_l("New status"), validators=[DataRequired()])

    def __init__(self, statuses: Iterable[ReportStatus], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.status.choices = enum_choices(statuses, _l("Choose a status"))


class ActionForm(FlaskForm):
    """A button that changes one thing (acknowledge, record feedback, revoke): only the CSRF token."""


class ReplyForm(FlaskForm):
    body = TextAreaField(
        _l("Message to the worker"), validators=[DataRequired(), Length(max=MAX_MESSAGE_LENGTH)]
    )
    feedback = BooleanField(
        _l("This message tells the worker what is being done about their report (the feedback that is due)")
    )


class EvidenceForm(FlaskForm):
    file = FileField(
        _l("File"),
        description=_l("A PDF, a photo (JPEG, PNG, WebP), audio (MP3, Ogg, WAV, AMR) or a video (MP4)."),
    )


class ShareForm(FlaskForm):
    user = SelectField(_l("Coordinator"), coerce=optional_int, validators=[DataRequired()])

    def __init__(self, coordinators: Iterable[User], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user.choices = [
            _placeholder(_l("Choose a coordinator")),
            *(SelectChoice(u.id, f"{u.name} ({u.email})") for u in coordinators),
        ]


class CoverageForm(FlaskForm):
    country = SelectField(_l("Country"), validators=[DataRequired()])
    organisation = SelectField(
        _l("Monitoring organisation"), coerce=optional_int, validators=[DataRequired()]
    )

    def __init__(self, organisations: Iterable[Organisation], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.country.choices = countries(_l("Choose a country"))
        self.organisation.choices = [
            _placeholder(_l("Choose an organisation")),
            *(SelectChoice(o.id, o.name) for o in organisations),
        ]


class FallbackForm(FlaskForm):
    organisation = SelectField(_l("Every other country"), coerce=optional_int, validators=[DataRequired()])

    def __init__(self, organisations: Iterable[Organisation], *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "fallback")  # it shares a page with CoverageForm
        super().__init__(*args, **kwargs)
        self.organisation.choices = [
            _placeholder(_l("Choose an organisation")),
            *(SelectChoice(o.id, o.name) for o in organisations),
        ]


class RewrapForm(FlaskForm):
    """Start or continue re-wrapping: only the CSRF token."""


class ReencryptForm(FlaskForm):
    """Start or continue re-encrypting: only the CSRF token."""


class RotateKeyForm(FlaskForm):
    """Make a new key version: only the CSRF token."""


class RecoveryUpgradeForm(FlaskForm):
    recovery_code = StringField(
        _l("Recovery code"),
        validators=[DataRequired(), Length(max=200)],
        description=_l("52 letters and digits in groups of four, as printed when the key was created."),
    )


class SurveyUploadForm(FlaskForm):
    file = FileField(
        _l("Survey export (CSV)"),
        validators=[FileRequired(message=_l("Choose the CSV file exported from KoboToolbox."))],
        description=_l("KoboToolbox: Data, Downloads, CSV, with “XML values and headers”."),
        render_kw={"accept": ".csv,text/csv"},
    )
    site = StringField(
        _l("Workplace of every row (optional)"),
        validators=[Optional(), Length(max=40)],
        description=_l(
            "Open Supply Hub id or site number, for a survey of one workplace. Rows with their own "
            "site_os_id or site_name and country keep theirs."
        ),
    )
    language = SelectField(
        _l("Language of rows that do not say"),
        description=_l("Used for rows without a “language” answer."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.language.choices = language_choices()
