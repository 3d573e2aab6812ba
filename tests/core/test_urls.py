"""Templates' url_for gives Flask's URLs, behind a proxy's prefix too."""

from __future__ import annotations

import pytest
from flask import Flask, render_template_string, url_for
from werkzeug.routing import BuildError

from monitoring.core.urls import url_for as template_url_for

BASES = ["http://localhost/", "http://localhost/monitoring", "https://example.org:8443/a/b"]


@pytest.mark.parametrize("base", BASES)
def test_every_rule_gives_flasks_url(app: Flask, base: str) -> None:
    with app.test_request_context("/", base_url=base):
        for rule in app.url_map.iter_rules():
            for name in [*rule.arguments, "page"]:
                for number in (0, 1, 7, 42, 2**31 - 1, -3):
                    try:
                        expected = url_for(rule.endpoint, **{name: number})
                    except (BuildError, ValueError) as exc:  # ValueError: an <any(...)> converter
                        with pytest.raises(type(exc)):
                            template_url_for(rule.endpoint, **{name: number})
                        continue
                    assert template_url_for(rule.endpoint, **{name: number}) == expected, rule


def test_a_rule_with_defaults_is_built_by_flask(app: Flask) -> None:
    # /organisations/<id>/activate and /deactivate share an endpoint, told apart by a default.
    with app.test_request_context("/"):
        for active in (True, False):
            assert template_url_for("admin.organisation_set_active", org_id=3, active=active) == url_for(
                "admin.organisation_set_active", org_id=3, active=active
            )


def test_templates_link_under_the_proxys_prefix(app: Flask) -> None:
    page = "{% for id in ids %}{{ url_for('cases.case', case_id=id) }} {% endfor %}"
    with app.test_request_context("/", base_url="http://localhost/monitoring"):
        shown = render_template_string(page, ids=[1, 22, 333])
    assert shown == "/monitoring/cases/1 /monitoring/cases/22 /monitoring/cases/333 "
    with app.test_request_context("/"):
        assert render_template_string(page, ids=[4]) == "/cases/4 "
        assert template_url_for("cases.case", case_id=5, _external=True) == "http://localhost/cases/5"
