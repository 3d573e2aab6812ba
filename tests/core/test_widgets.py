"""Select fields render the same HTML through render_field as through WTForms' own widget."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask, render_template_string
from markupsafe import Markup
from werkzeug.datastructures import MultiDict
from wtforms import Form, SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice

from monitoring.core.widgets import render_field

CHOICES: list[Any] = [
    SelectChoice("", "Any country"),
    SelectChoice("TH", "Thailand"),
    SelectChoice('a"b<c>&', 'Quote " and <b>tags</b> & more'),
    SelectChoice("safe", Markup("<em>already safe</em>")),
    SelectChoice("kw", "With attributes", render_kw={"data_x": "1", "disabled": True}),
    SelectChoice("nolabel", ""),
]


class ExampleForm(Form):
    country = SelectField(choices=CHOICES, default="")
    flag = SelectField(
        choices=[SelectChoice(True, "Yes"), SelectChoice(False, "No")], coerce=lambda v: v in (True, "True")
    )
    many = SelectMultipleField(
        choices=[SelectChoice("a", "A"), SelectChoice("b", "B & C"), SelectChoice("c", "C")]
    )
    styled = SelectField(choices=[SelectChoice("x", "X")], render_kw={"class": "wide", "data_role": "picker"})
    text = StringField()


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"country": "TH", "flag": "True", "many": ["a", "c"], "styled": "x", "text": "<b>"},
        {"country": 'a"b<c>&', "flag": "False", "many": ["b"]},
        {"country": "kw"},
    ],
)
@pytest.mark.parametrize(
    "attributes",
    [{}, {"aria_describedby": "country-hint", "aria_invalid": "true", "autocomplete": False}],
)
def test_render_field_gives_wtforms_html(data: dict[str, Any], attributes: dict[str, Any]) -> None:
    form = ExampleForm(MultiDict(list(_pairs(data))))
    for field in form:
        assert render_field(field, **attributes) == field(**attributes), field.name


def test_the_field_macro_renders_a_select(app: Flask) -> None:
    form = ExampleForm(MultiDict([("country", "TH")]))
    with app.test_request_context():
        shown = render_template_string(
            '{% from "macros/forms.html" import field %}{{ field(form.country) }}', form=form
        )
    assert '<select aria-invalid="false"' not in shown
    assert '<select id="country" name="country"><option value="">Any country</option>' in shown
    assert '<option selected value="TH">Thailand</option>' in shown


def _pairs(data: dict[str, Any]) -> Any:
    for key, value in data.items():
        for item in value if isinstance(value, list) else [value]:
            yield key, item
