"""Helpers shared by HTML forms."""

from __future__ import annotations

from flask_wtf import FlaskForm

from monitoring.core.operations import OperationError


def apply_error(form: FlaskForm, error: OperationError) -> None:
    """Show an operation's refusal next to its field, or above the form."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, str(error.message)]
    else:
        form.form_errors.append(str(error.message))
