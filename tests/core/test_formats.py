"""One way to show a date and a number on every page, in the reader's language."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from flask import Flask, render_template_string
from flask_babel import force_locale

from monitoring.config import ROOT
from monitoring.core.i18n import format_number, format_when

DAY = date(2025, 1, 5)
MOMENT = datetime(2025, 1, 5, 14, 3, 9, tzinfo=UTC)
NBSP = "\u00a0"


@pytest.mark.parametrize(
    ("locale", "day", "moment"),
    [
        ("en", "Jan 5, 2025", "Jan 5, 2025, 2:03\u202fPM (UTC)"),
        ("es", "5 ene 2025", "5 ene 2025, 14:03 (UTC)"),
        ("sv", "5 jan. 2025", "5 jan. 2025 14:03 (UTC)"),
    ],
)
def test_a_date_reads_the_same_on_every_page(app: Flask, locale: str, day: str, moment: str) -> None:
    with app.test_request_context(), force_locale(locale):
        assert format_when(DAY) == day
        # A timestamp shows the same day; with its time, the time follows in the locale's way,
        # labelled with the reader's time zone (UTC without a signed-in user).
        assert format_when(MOMENT) == day
        assert format_when(MOMENT, time=True) == moment
        assert format_when(DAY, time=True) == day
        assert format_when(None) == ""


@pytest.mark.parametrize(
    ("locale", "value", "shown"),
    [
        ("en", 1200, "1,200"),
        ("en", 1234567, "1,234,567"),
        ("en", Decimal("240000.5"), "240,000.5"),
        ("sv", 1200, f"1{NBSP}200"),
        ("es", 12000, "12.000"),
        ("en", 7, "7"),
        ("en", None, ""),
    ],
)
def test_numbers_are_grouped_in_the_readers_locale(
    app: Flask, locale: str, value: int | Decimal | None, shown: str
) -> None:
    with app.test_request_context(), force_locale(locale):
        assert format_number(value) == shown


def test_templates_have_the_date_and_number_filters(app: Flask) -> None:
    with app.test_request_context(), force_locale("en"):
        shown = render_template_string(
            "{{ day|date }} / {{ moment|date(time=True) }} / {{ count|number }}",
            day=DAY,
            moment=MOMENT,
            count=1200,
        )
    assert shown == "Jan 5, 2025 / Jan 5, 2025, 2:03\u202fPM (UTC) / 1,200"


def test_no_template_formats_a_date_or_number_another_way() -> None:
    """Flask-Babel's own filters gave the timeline one date format and the lists another."""
    other = re.compile(r"\|\s*(datetimeformat|dateformat|timeformat|numberformat)\b")
    found = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in sorted((ROOT / "monitoring" / "templates").rglob("*.html"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if other.search(line)
    ]
    assert found == []
