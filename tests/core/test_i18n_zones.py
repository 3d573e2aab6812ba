"""Times in the reader's zone: the country table, the selector, the date filter and e-mails."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime

import flask_babel
import pytest
from flask import Flask
from flask_babel import force_locale

from monitoring.accounts.models import OrganisationKind, User, UserRole
from monitoring.config import LOCALES, WORKER_LOCALES, WORKER_ONLY_LOCALES
from monitoring.core import time_zones
from monitoring.core.db import db
from monitoring.core.i18n import force_timezone, format_when, select_timezone, staff_locales
from monitoring.notifications import render
from monitoring.notifications.models import Notification, NotificationKind
from tests.notifications.helpers import queue

EVENING = datetime(2026, 12, 7, 20, 30, tzinfo=UTC)  # already 8 December in Bangkok and Tokyo


# --- the country table ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("country", "zone"),
    [
        ("TH", "Asia/Bangkok"),
        ("th", "Asia/Bangkok"),
        ("CN", "Asia/Shanghai"),
        ("VN", "Asia/Ho_Chi_Minh"),
        ("MY", "Asia/Kuala_Lumpur"),
        ("CZ", "Europe/Prague"),
        ("SE", "Europe/Stockholm"),
        ("US", "America/New_York"),
        # Where the database's first zone is a small or disputed part of the country.
        ("UA", "Europe/Kyiv"),
        ("BR", "America/Sao_Paulo"),
        ("XX", None),
        ("", None),
        (None, None),
    ],
)
def test_a_country_has_its_usual_zone(country: str | None, zone: str | None) -> None:
    assert time_zones.country_time_zone(country) == zone


def test_every_zone_of_the_tables_is_valid() -> None:
    assert all(time_zones.is_time_zone(zone) for zone in time_zones.country_zones().values())
    assert all(time_zones.is_time_zone(zone) for zone in time_zones.FALLBACK.values())
    assert all(time_zones.is_time_zone(zone) for zone in time_zones.PREFERRED.values())
    assert len(time_zones.country_zones()) > 200  # zone.tab was found on this system


@pytest.fixture
def without_zone_tab(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """As on a system without zone.tab and without the tzdata package."""
    monkeypatch.setattr(time_zones, "_zone_tab_lines", lambda: iter(()))
    caches = (time_zones._listed_zones, time_zones.country_zones, time_zones.time_zone_names)
    for cached in caches:
        cached.cache_clear()
    yield
    monkeypatch.undo()
    for cached in caches:
        cached.cache_clear()


def test_without_zone_tab_a_short_table_serves(without_zone_tab: None) -> None:
    assert time_zones.country_zones() == time_zones.FALLBACK
    assert time_zones.country_time_zone("KH") == "Asia/Phnom_Penh"
    assert time_zones.country_time_zone("UA") == "Europe/Kyiv"
    assert "UTC" in time_zones.time_zone_names() and "Asia/Bangkok" in time_zones.time_zone_names()


def test_only_real_places_are_zones() -> None:
    valid = time_zones.valid_time_zones()
    assert valid <= zoneinfo.available_timezones()
    assert {"UTC", "Asia/Bangkok", "Europe/Kyiv"} <= valid
    assert not {"Factory", "localtime", "posixrules"} & valid
    assert not time_zones.is_time_zone(None) and not time_zones.is_time_zone("asia/bangkok")
    offered = time_zones.time_zone_names()
    assert list(offered) == sorted(offered) and set(offered) <= valid
    assert "US/Eastern" not in offered  # old aliases are valid but not offered


# --- the selector and the date filter --------------------------------------------------------


def test_the_selector_gives_the_signed_in_users_zone(
    app: Flask, create_organisation, create_user, client_for
):
    org = create_organisation(OrganisationKind.affiliate, country="JP")
    user = create_user(UserRole.affiliate, organisation=org)
    with app.test_request_context("/"):
        assert select_timezone() is None  # nobody signed in: UTC
        assert str(flask_babel.get_timezone()) == "UTC"
    client = client_for(user)
    with client:
        client.get("/account")
        assert select_timezone() == "Asia/Tokyo"
        assert flask_babel.get_timezone().zone == "Asia/Tokyo"
        assert format_when(EVENING, time=True) == "Dec 8, 2026, 5:30\u202fAM (Asia/Tokyo)"
        assert format_when(EVENING) == "Dec 8, 2026"  # the day of the timestamp in Tokyo
        assert format_when(date(2026, 12, 7), time=True) == "Dec 7, 2026"  # a date has no zone


def test_no_zone_is_selected_outside_a_request(app: Flask) -> None:
    with app.app_context():
        assert select_timezone() is None


@pytest.mark.parametrize(
    ("locale", "zone", "shown"),
    [
        ("en", "Asia/Bangkok", "Dec 8, 2026, 3:30\u202fAM (Asia/Bangkok)"),
        ("sv", "Europe/Stockholm", "7 dec. 2026 21:30 (Europe/Stockholm)"),
        ("th", "UTC", "7 ธ.ค. 2026 20:30 น. (UTC)"),
        ("en", "America/New_York", "Dec 7, 2026, 3:30\u202fPM (America/New_York)"),
    ],
)
def test_a_time_is_labelled_with_its_zone(app: Flask, locale: str, zone: str, shown: str) -> None:
    with app.test_request_context("/login"), force_locale(locale), force_timezone(zone):
        assert format_when(EVENING, time=True) == shown


def test_force_timezone_nests_and_restores(app: Flask) -> None:
    with app.app_context():
        with force_timezone("Asia/Bangkok"):
            with force_timezone("Europe/Prague"):
                assert flask_babel.get_timezone().zone == "Europe/Prague"
            assert flask_babel.get_timezone().zone == "Asia/Bangkok"
        assert str(flask_babel.get_timezone()) == "UTC"
        with force_timezone("Not/AZone"):  # an unknown zone falls back to UTC, never an error
            assert str(flask_babel.get_timezone()) == "UTC"


# --- e-mails ---------------------------------------------------------------------------------


def _mail(app: Flask, user: User, params: dict[str, str]) -> render.RenderedMail:
    (notification_id,) = queue(app, [user], NotificationKind.deadline_reminder, params=params)
    with app.app_context():
        notification = db.session.get(Notification, notification_id)
        assert notification is not None
        return render.render_mail(notification)


@pytest.mark.parametrize(
    ("locale", "zone", "expected"),
    [
        ("sv", "Asia/Bangkok", "8 december 2026"),
        ("sv", "UTC", "7 december 2026"),
        ("en", "America/New_York", "December 7, 2026"),
        ("es", "Asia/Tokyo", "8 de diciembre de 2026"),
    ],
)
def test_an_email_shows_its_recipients_day_in_their_language(
    app: Flask, create_user: Callable[..., User], locale: str, zone: str, expected: str
) -> None:
    user = create_user(UserRole.supplier, locale=locale, time_zone=zone)
    params = {"reference": "C-1", "site": "Plant", "supplier": "Acme", "due_date": EVENING.isoformat()}
    mail = _mail(app, user, params)
    assert mail.locale == locale
    assert expected in mail.text
    # A plain date stays the same day for everyone.
    assert "5" in _mail(app, user, {**params, "due_date": "2026-03-05"}).text


def test_the_zone_of_one_email_does_not_leak_into_the_next(
    app: Flask, create_user: Callable[..., User]
) -> None:
    east = create_user(UserRole.supplier, locale="en", time_zone="Asia/Tokyo")
    west = create_user(UserRole.supplier, locale="en", time_zone="America/Los_Angeles")
    params = {"reference": "C-1", "site": "Plant", "supplier": "Acme", "due_date": EVENING.isoformat()}
    ids = [queue(app, [user], NotificationKind.deadline_reminder, params=params)[0] for user in (east, west)]
    with app.app_context():
        texts = [render.render_mail(db.session.get(Notification, i)).text for i in ids]
        assert str(flask_babel.get_timezone()) == "UTC"
    assert "December 8, 2026" in texts[0] and "December 7, 2026" in texts[1]


# --- staff languages: adding one is a line in config.LOCALES ----------------------------------


def test_staff_locales_follow_the_configuration(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    with app.app_context():
        assert staff_locales() == LOCALES
        assert "uk" not in LOCALES  # Ukrainian: worker pages only, today
        monkeypatch.setitem(app.config, "LOCALES", (*LOCALES, "uk"))
        assert "uk" in staff_locales()


def test_an_email_follows_a_newly_added_staff_language(
    app: Flask, create_user: Callable[..., User], monkeypatch: pytest.MonkeyPatch
) -> None:
    user = create_user(UserRole.supplier, locale="uk")
    params = {"reference": "C-1", "site": "Plant", "supplier": "Acme", "due_date": "2026-03-05"}
    assert _mail(app, user, params).locale == "en"  # uk is not a staff language yet: English
    monkeypatch.setitem(app.config, "LOCALES", (*LOCALES, "uk"))
    assert _mail(app, user, params).locale == "uk"


def test_the_worker_only_languages_are_derived() -> None:
    assert set(WORKER_ONLY_LOCALES) == set(WORKER_LOCALES) - set(LOCALES)


def test_the_catalog_test_covers_every_staff_language() -> None:
    """A locale put in LOCALES before its catalog is complete fails tests/core/test_i18n.py."""
    from tests.core import test_i18n

    marks = [m for m in test_i18n.test_catalog_is_complete.pytestmark if m.name == "parametrize"]
    covered = {locale for locale, source in marks[0].args[1] if source == "all"}
    assert covered == set(LOCALES)
