"""Forms of the administration pages."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, EmailField, Field, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from monitoring.accounts.forms import time_zone_choices
from monitoring.accounts.models import Organisation, OrganisationKind, UserRole
from monitoring.core.forms import optional_int
from monitoring.core.i18n import language_choices


def _placeholder(label: Any) -> SelectChoice:
    return SelectChoice("", str(label))


def role_choices() -> list[SelectChoice]:
    return [SelectChoice(role.value, role.title) for role in UserRole]


def kind_choices() -> list[SelectChoice]:
    return [SelectChoice(kind.value, kind.title) for kind in OrganisationKind]


def organisation_choices(organisations: Iterable[Organisation]) -> list[SelectChoice]:
    """Organisations grouped by kind, in the order of the kinds."""
    by_kind: dict[OrganisationKind, list[Organisation]] = {kind: [] for kind in OrganisationKind}
    for org in organisations:
        by_kind[org.kind].append(org)
    return [
        SelectChoice(str(org.id), org.name, optgroup=kind.title)
        for kind, orgs in by_kind.items()
        for org in sorted(orgs, key=lambda o: o.name.lower())
    ]


class OrganisationForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    kind = SelectField(
        _l("Kind"),
        validators=[DataRequired()],
        description=_l("Decides which role its people can have."),
    )
    country = StringField(
        _l("Country (optional)"),
        validators=[Optional(), Length(max=2)],
        description=_l("Two-letter ISO code, e.g. CN, TH or SE."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kind.choices = [_placeholder(_l("Choose a kind")), *kind_choices()]


class UserForm(FlaskForm):
    email = EmailField(_l("E-mail address"), validators=[DataRequired(), Length(max=254)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    role = SelectField(_l("Role"), validators=[DataRequired()])
    organisation = SelectField(
        _l("Organisation"),
        coerce=optional_int,
        validators=[DataRequired()],
        description=_l("Administrators and coordinators belong to the operating organisation."),
    )
    locale = SelectField(
        _l("Language"),
        validators=[Optional()],
        description=_l("The person can change it later."),
    )
    time_zone = SelectField(
        _l("Time zone"),
        validators=[Optional()],
        validate_choice=False,  # CreateUserArgs says which zones exist
        description=_l("The person can change it later."),
    )

    def __init__(self, organisations: Iterable[Organisation], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.role.choices = [_placeholder(_l("Choose a role")), *role_choices()]
        self.organisation.choices = [
            _placeholder(_l("Choose an organisation")),
            *organisation_choices(organisations),
        ]
        self.locale.choices = [
            _placeholder(_l("The language of their browser")),
            *(SelectChoice(code, name) for code, name in language_choices()),
        ]
        self.time_zone.choices = time_zone_choices(_l("The time zone of the organisation's country"))


def _valid(field: Field) -> Any:
    """A filter field's value, or None when it did not validate (it is shown with its error)."""
    return None if field.errors else field.data


def day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def until_end_of(day: date) -> datetime:
    """The last instant of a day (UTC), for an inclusive ``until``."""
    return day_start(day + timedelta(days=1)) - timedelta(microseconds=1)


class _FilterForm(FlaskForm):
    """A GET form that narrows a list; it changes nothing, so it carries no CSRF token."""

    class Meta:
        csrf = False


ACTIVE_CHOICES = {"active": True, "inactive": False}


def active_choices() -> list[SelectChoice]:
    return [
        _placeholder(_l("Active or not")),
        SelectChoice("active", str(_l("Active"))),
        SelectChoice("inactive", str(_l("Deactivated"))),
    ]


class UserFilterForm(_FilterForm):
    role = SelectField(_l("Role"), default="")
    organisation = SelectField(_l("Organisation"), coerce=optional_int, default="")
    active = SelectField(_l("Status"), default="")

    def __init__(self, organisations: Iterable[Organisation], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.role.choices = [_placeholder(_l("Any role")), *role_choices()]
        self.organisation.choices = [
            _placeholder(_l("Any organisation")),
            *organisation_choices(organisations),
        ]
        self.active.choices = active_choices()

    def values(self) -> dict[str, Any]:
        """The filters under the names of ``ListUsersArgs``."""
        return {
            "role": _valid(self.role),
            "organisation_id": _valid(self.organisation),
            "is_active": ACTIVE_CHOICES.get(_valid(self.active) or ""),
        }


class OrganisationFilterForm(_FilterForm):
    kind = SelectField(_l("Kind"), default="")
    active = SelectField(_l("Status"), default="")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kind.choices = [_placeholder(_l("Any kind")), *kind_choices()]
        self.active.choices = active_choices()

    def values(self) -> dict[str, Any]:
        """The filters under the names of ``ListOrganisationsArgs``."""
        return {"kind": _valid(self.kind), "is_active": ACTIVE_CHOICES.get(_valid(self.active) or "")}


class AuditFilterForm(_FilterForm):
    action = SelectField(_l("Action"), default="")
    actor = EmailField(_l("Actor's e-mail address"), validators=[Optional(), Length(max=254)])
    object_type = SelectField(_l("Object type"), default="")
    object_id = StringField(_l("Object id"), validators=[Optional(), Length(max=64)])
    date_from = DateField(_l("From (UTC)"), validators=[Optional()])
    date_to = DateField(_l("To (UTC, inclusive)"), validators=[Optional()])

    def __init__(
        self, actions: Iterable[str], object_types: Iterable[str], *args: Any, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        # Audit vocabulary is English by design, like the summaries.
        self.action.choices = [_placeholder(_l("Any action")), *(SelectChoice(a) for a in actions)]
        self.object_type.choices = [
            _placeholder(_l("Any type")),
            *(SelectChoice(t) for t in object_types),
        ]

    def values(self) -> dict[str, Any]:
        """The filters under the names of ``ListAuditArgs`` but the actor, named by e-mail here."""
        date_from, date_to = _valid(self.date_from), _valid(self.date_to)
        return {
            "action": _valid(self.action),
            "object_type": _valid(self.object_type),
            "object_id": (_valid(self.object_id) or "").strip(),
            "since": day_start(date_from).isoformat() if date_from else None,
            "until": until_end_of(date_to).isoformat() if date_to else None,
        }

    def validate_date_to(self, field: DateField) -> None:
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_l("The end date must not be before the start date."))
