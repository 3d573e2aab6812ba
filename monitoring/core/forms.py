"""Helpers shared by HTML forms: the bridge from a form to an action's ``Args`` schema.

A page's form stays for CSRF and for rendering; its data is validated by the same marshmallow
schema the JSON API uses (one ``<Action>Args`` per action, in the feature's ``schemas``)::

    form = ReopenForm()
    args = form_args(ReopenCaseArgs, form)
    if args is None:
        return render(form, status=422)
    try:
        attempt(operations.reopen_case, user, case, args["reason"])
    except OperationError as exc:
        apply_error(form, exc)
        return render(form, status=422)

The schema's messages appear next to the form's fields (``rename`` maps an ``Args`` field to
the form field of another name), and an operation's refusal next to the field it names.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from flask_wtf import FlaskForm
from marshmallow import Schema, ValidationError
from wtforms import Field, FieldList, FormField

from monitoring.core.operations import OperationError

# Form fields that carry no input of the action.
_NOT_INPUT = frozenset({"csrf_token", "submit"})


def optional_int(value: Any) -> int | None:
    """Coerce a submitted id; the empty placeholder becomes None."""
    if value in (None, ""):
        return None
    return int(value)


def form_data(form: FlaskForm, rename: Mapping[str, str] | None = None) -> dict[str, Any]:
    """A form's submitted values under the ``Args`` schema's names, empty ones left out."""
    to_form = dict(rename or {})
    to_args = {form_name: args_name for args_name, form_name in to_form.items()}
    data: dict[str, Any] = {}
    for name, value in form.data.items():
        if name in _NOT_INPUT or value is None or value == "" or value == []:
            continue
        data[to_args.get(name, name)] = value
    return data


def form_args(
    schema: type[Schema] | Schema,
    form: FlaskForm,
    *,
    rename: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
    validate_form: bool = True,
) -> dict[str, Any] | None:
    """Validate a posted form with the action's ``Args`` schema; None when it does not pass.

    The form's own validation runs first (CSRF and its choices) unless ``validate_form`` is
    false. The schema's messages are put next to the form's fields, the others above it.
    """
    if validate_form and not form.validate_on_submit():
        return None
    loader = schema() if isinstance(schema, type) else schema
    data = {**form_data(form, rename), **(extra or {})}
    try:
        return dict(loader.load(data))
    except ValidationError as exc:
        # marshmallow's own messages ("Not a valid integer.") in the user's language, as the API gives them
        from monitoring.core.api import translate_errors

        show_messages(form, translate_errors(exc.normalized_messages()), rename)
        return None


def show_messages(
    form: FlaskForm, messages: Mapping[str, Any] | list[Any] | str, rename: Mapping[str, str] | None = None
) -> None:
    """Put a schema's messages next to the form fields they name, or above the form."""
    if not isinstance(messages, Mapping):
        form.form_errors.extend(_flatten(messages))
        return
    to_form = dict(rename or {})
    for name, value in messages.items():
        field = field_at(form, to_form.get(str(name), str(name)))
        if field is None:
            form.form_errors.extend(_flatten(value))
        else:
            field.errors = [*field.errors, *_flatten(value)]


def apply_error(form: FlaskForm, error: OperationError, rename: Mapping[str, str] | None = None) -> None:
    """Show an operation's refusal next to its field, or above the form."""
    name = (rename or {}).get(error.field or "", error.field)
    field = field_at(form, name)
    if field is None:
        form.form_errors.append(str(error.message))
    else:
        field.errors = [*field.errors, str(error.message)]


def field_at(form: FlaskForm, path: str | None) -> Field | None:
    """The field a path names, also inside repeated rows (``remedies-1-amount``, ``remedies.1.amount``)."""
    if not path:
        return None
    node: Any = form
    for part in re.split(r"[.\-]", path):
        if isinstance(node, FieldList):
            node = node.entries[int(part)] if part.isdigit() and int(part) < len(node.entries) else None
        elif isinstance(node, FormField):
            node = node.form._fields.get(part)
        elif hasattr(node, "_fields"):
            node = node._fields.get(part)
        else:
            node = None
        if node is None:
            return None
    return None if isinstance(node, FieldList | FormField) else node


def _flatten(value: Any) -> list[str]:
    if isinstance(value, Mapping):
        return [m for v in value.values() for m in _flatten(v)]
    if isinstance(value, list | tuple):
        return [m for v in value for m in _flatten(v)]
    return [str(value)]
