"""A page's form is validated by the action's Args schema, with the schema's messages translated."""

from __future__ import annotations

from flask import Flask
from flask_babel import force_locale
from flask_wtf import FlaskForm
from marshmallow import Schema, fields
from wtforms import StringField

from monitoring.core.forms import form_args


class CountArgs(Schema):
    count = fields.Integer(required=True)


class CountForm(FlaskForm):
    count = StringField()


def test_schema_messages_appear_next_to_the_field_in_the_users_language(app: Flask) -> None:
    with app.test_request_context("/", method="POST", data={"count": "many"}):
        form = CountForm(meta={"csrf": False})
        with force_locale("es"):
            assert form_args(CountArgs, form) is None
            message = form.count.errors[-1]
    assert message != "Not a valid integer."
    assert message


def test_valid_data_passes_through_the_schema(app: Flask) -> None:
    with app.test_request_context("/", method="POST", data={"count": "12"}):
        form = CountForm(meta={"csrf": False})
        assert form_args(CountArgs, form) == {"count": 12}
