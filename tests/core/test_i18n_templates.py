"""Messages and formats in templates: Jinja's newstyle gettext, looked up once per locale."""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask import Flask, render_template_string
from flask_babel import force_locale, get_locale, refresh

from monitoring.core.i18n import current_locale, current_translations, force_timezone, format_when


def test_messages_escape_their_variables_and_are_always_format_strings(app: Flask) -> None:
    with app.test_request_context(), force_locale("en"):
        shown = render_template_string(
            '{{ _("Report %(id)s", id=name) }}|{{ _("100%%") }}|'
            '{{ ngettext("overdue by %(num)d day", "overdue by %(num)d days", 3) }}|'
            "{% trans %}Home{% endtrans %}",
            name="<b>",
        )
    assert shown == "Report &lt;b&gt;|100%|overdue by 3 days|Home"


def test_a_text_template_is_not_escaped(app: Flask) -> None:
    with app.test_request_context(), force_locale("en"):
        template = app.jinja_env.from_string(
            '{% autoescape false %}{{ _("Report %(id)s", id=name) }}{% endautoescape %}'
        )
        assert template.render(name="<b>") == "Report <b>"


def test_messages_follow_a_locale_forced_for_a_while(app: Flask) -> None:
    page = '{{ _("Home") }}'
    with app.test_request_context():
        with force_locale("es"):
            spanish = render_template_string(page)
        assert render_template_string(page) == "Home"  # back to the request's own (English)
        with force_locale("es"):
            assert render_template_string(page) == spanish != "Home"
            assert current_locale() is get_locale()
            assert current_translations().ugettext("Home") == spanish


def test_the_locale_is_chosen_again_after_a_refresh(app: Flask) -> None:
    with app.test_request_context(headers={"Accept-Language": "es"}):
        with force_locale("en"):
            assert str(current_locale()) == "en"
        # Flask-Babel leaves no locale chosen once the forced one is over: it chooses again.
        assert str(current_locale()) == "es"
        refresh()
        assert str(current_locale()) == "es"
        assert render_template_string('{{ _("Home") }}') != "Home"


def test_days_are_shown_in_the_readers_zone_and_locale(app: Flask) -> None:
    late = datetime(2025, 1, 5, 23, 30, tzinfo=UTC)
    with app.test_request_context():
        with force_locale("en"):
            assert format_when(late) == "Jan 5, 2025"
            assert format_when(date(2025, 1, 6)) == "Jan 6, 2025"
        with force_locale("es"):
            assert format_when(late) == "5 ene 2025"
        with force_timezone("Asia/Bangkok"), force_locale("en"):
            assert format_when(late) == "Jan 6, 2025"
            assert format_when(late, time=True) == "Jan 6, 2025, 6:30\u202fAM (Asia/Bangkok)"
