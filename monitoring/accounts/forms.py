"""Forms of the accounts pages."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from monitoring.core.time_zones import time_zone_names


def time_zone_choices(default_label: Any) -> list[SelectChoice]:
    """The empty choice (the organisation's country's zone), then every zone grouped by region."""
    return [
        SelectChoice("", str(default_label)),
        *(SelectChoice(name, name, optgroup=name.partition("/")[0]) for name in time_zone_names()),
    ]


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail address"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)])


class ConfirmPasswordForm(FlaskForm):
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)])


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])
    password = PasswordField(
        _l("New password"),
        validators=[DataRequired(), Length(min=12, max=1024)],
        description=_l(
            "At least 12 characters. A few unrelated words make a good password; common and breached "
            "passwords are refused."
        ),
    )
    confirm = PasswordField(
        _l("New password again"),
        validators=[DataRequired(), EqualTo("password", message=_l("The two passwords differ."))],
    )


class TokenForm(FlaskForm):
    name = StringField(
        _l("Token name"),
        validators=[DataRequired(), Length(max=100)],
        description=_l("What will use this token, e.g. “monthly report script”."),
    )


class LanguageForm(FlaskForm):
    locale = SelectField(_l("Language"), choices=[])


class TimeZoneForm(FlaskForm):
    time_zone = SelectField(
        _l("Time zone"),
        validators=[Optional()],
        validate_choice=False,  # UpdateAccountArgs says which zones exist
        description=_l("Dates and times on these pages are shown in this time zone."),
    )

    def __init__(self, default_zone: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.time_zone.choices = time_zone_choices(
            _l("The time zone of your organisation's country (%(zone)s)", zone=default_zone)
        )


# --- keys and access ----------------------------------------------------------------------------


class ButtonForm(FlaskForm):
    """Only the CSRF token: a button that creates the organisation's key, approves or refuses."""


class ConfirmRecoveryCodeForm(FlaskForm):
    stored = BooleanField(
        _l("I have stored the recovery code somewhere safe, away from this computer."),
        validators=[DataRequired(message=_l("Please confirm that you have stored the recovery code."))],
    )


class GrantForm(FlaskForm):
    fingerprint = HiddenField(validators=[DataRequired(), Length(max=64)])


class RecoverForm(FlaskForm):
    recovery_code = StringField(
        _l("Recovery code"),
        validators=[DataRequired(), Length(max=200)],
        description=_l("52 letters and digits in groups of four, as printed when the key was created."),
    )


# --- two-factor sign-in -------------------------------------------------------------------------


class CodeForm(FlaskForm):
    code = StringField(
        _l("Six-digit code"),
        validators=[DataRequired(), Length(max=20)],
        description=_l("The code your authenticator app shows now for this account."),
        render_kw={"inputmode": "numeric", "pattern": "[0-9 ]*", "maxlength": "20", "spellcheck": "false"},
    )
