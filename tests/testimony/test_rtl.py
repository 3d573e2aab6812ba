"""Fifteen worker languages; Urdu pages are right to left (`dir="rtl"`; left to right is the default and
needs no attribute) and the worker stylesheet mirrors with them."""

from __future__ import annotations

import re

import pytest
from babel import Locale
from flask import Flask
from flask_babel import force_locale, gettext
from markupsafe import escape

from monitoring.config import LOCALES, ROOT, WORKER_LOCALES
from monitoring.core.i18n import html_dir

NEW_LANGUAGES = ("id", "km", "bn", "fil", "uk", "ur")
# A physical side in a property name or value: margin-left, border-right-width, left: 0,
# text-align: right, float: left, clear: right. Logical properties (inline-start/end) mirror.
PHYSICAL = re.compile(
    r"(?:^|[\s;{])(?:margin|padding|border|inset|scroll-margin|scroll-padding)-(?:left|right)\b"
    r"|(?:^|[\s;{])(?:left|right)\s*:"
    r"|\b(?:text-align|float|clear|caption-side)\s*:\s*(?:left|right)\b"
    r"|\bborder-(?:top|bottom)-(?:left|right)-radius\b",
    re.MULTILINE,
)


def _page(app: Flask, path: str) -> str:
    response = app.test_client().get(path)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def _translated(app: Flask, locale: str, message: str) -> str:
    with app.test_request_context("/report/"), force_locale(locale):
        return str(escape(gettext(message)))


def test_fifteen_worker_languages() -> None:
    assert len(WORKER_LOCALES) >= 15
    assert set(NEW_LANGUAGES) <= set(WORKER_LOCALES)


def test_urdu_worker_page_is_right_to_left(app: Flask) -> None:
    page = _page(app, "/report/?lang=ur")
    assert re.search(r'<html lang="ur" dir="rtl">', page)
    heading = _translated(app, "ur", "Report a problem at work")
    assert heading != "Report a problem at work" and heading in page


@pytest.mark.parametrize("locale", [code for code in NEW_LANGUAGES if code != "ur"])
def test_other_new_languages_are_left_to_right_and_translated(app: Flask, locale: str) -> None:
    page = _page(app, f"/report/?lang={locale}")
    assert f'<html lang="{locale}">' in page  # left to right, the default
    start = _translated(app, locale, "Start a report")
    assert start != "Start a report" and start in page


def test_urdu_is_chosen_from_the_browser(app: Flask) -> None:
    response = app.test_client().get("/report/", headers={"Accept-Language": "ur-PK,ur;q=0.9"})
    assert 'lang="ur" dir="rtl"' in response.get_data(as_text=True)


def test_urdu_follow_up_page_is_right_to_left(app: Flask) -> None:
    page = _page(app, "/report/follow-up?lang=ur")
    assert 'lang="ur" dir="rtl"' in page
    assert _translated(app, "ur", "Your receipt number") in page


def test_language_picker_names_each_language_in_itself(app: Flask) -> None:
    page = _page(app, "/report/?lang=en")
    for code in NEW_LANGUAGES:
        name = Locale.parse(code).get_display_name(code)
        assert name, code
        shown = name[:1].upper() + name[1:]
        assert re.search(
            rf'<a href="[^"]*lang={code}" lang="{code}" hreflang="{code}">{re.escape(shown)}</a>', page
        ), (
            code,
            shown,
        )


def test_staff_pages_carry_the_direction_too(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """Staff pages are left to right today; were Urdu ever an interface language, they would turn."""
    assert '<html lang="en">' in _page(app, "/login")
    monkeypatch.setitem(app.config, "LOCALES", (*LOCALES, "ur"))
    response = app.test_client().get("/login", headers={"Accept-Language": "ur"})
    assert '<html lang="ur" dir="rtl">' in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("locale", "direction"), [("ur", "rtl"), ("en", "ltr"), ("th", "ltr"), ("uk", "ltr")]
)
def test_html_dir_follows_the_locale(app: Flask, locale: str, direction: str) -> None:
    with app.test_request_context("/"), force_locale(locale):
        assert html_dir() == direction


def test_worker_stylesheet_uses_logical_properties_only() -> None:
    css = (ROOT / "monitoring" / "static" / "report.css").read_text(encoding="utf-8")
    code = re.sub(r"/\*.*?\*/", "", css, flags=re.DOTALL)  # comments may say "left"
    assert PHYSICAL.findall(code) == []
    assert "margin-inline-start" in code and "border-inline-start" in code and "text-align: start" in code


@pytest.mark.parametrize(
    "snippet",
    [
        "margin-left: 1rem",
        ".a { left: 0 }",
        "text-align: right",
        "padding-right:0",
        "float: left",
        "border-left: 1px",
    ],
)
def test_the_stylesheet_check_catches_physical_sides(snippet: str) -> None:
    assert PHYSICAL.search(snippet)


@pytest.mark.parametrize(
    "snippet",
    ["margin-inline-start: 1rem", "inset-inline-start: 0", "text-align: start", "border-inline-end: 0"],
)
def test_the_stylesheet_check_lets_logical_sides_pass(snippet: str) -> None:
    assert not PHYSICAL.search(snippet)
