"""Attack: read what a worker searched for and which workplace they chose from browser history or proxy logs.
Defence: the search and the chosen site or country travel in POST bodies only; no worker URL holds them.
"""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qsl, urlsplit

import pytest

from monitoring.accounts.models import User
from monitoring.core.db import db
from monitoring.supplychain import operations as supplychain
from monitoring.supplychain.models import SiteKind
from monitoring.testimony.models import MonitorCoverage

SEARCH = "Lamphun Precision"
_URLS = re.compile(r'(?:href|action)="([^"]+)"')
_HIDDEN = re.compile(
    r'<input type="hidden" name="([^"]+)" value="([^"]*)"|name="([^"]+)" type="hidden" value="([^"]*)"'
)


@pytest.fixture
def site_id(app, monitor_with_keys) -> int:
    with app.app_context():
        monitor = db.session.get(User, monitor_with_keys.id)
        db.session.add(MonitorCoverage(organisation_id=monitor.organisation_id, country="TH"))
        site = supplychain.create_site(
            None,
            supplychain.SiteData(
                name=SEARCH + " Works", country="TH", kind=SiteKind.component, city="Lamphun"
            ),
        )
        db.session.commit()
        return site.id


class Recorder:
    """A worker's browser: every URL it requests, is sent to, or finds in a page."""

    def __init__(self, app) -> None:
        self.client = app.test_client()
        self.urls: list[str] = []

    def _seen(self, url: str, response) -> str:
        self.urls.append(url)
        if "Location" in response.headers:
            self.urls.append(response.headers["Location"])
        page = response.get_data(as_text=True)
        self.urls.extend(unescape(u) for u in _URLS.findall(page))
        return page

    def get(self, url: str) -> str:
        return self._seen(url, self.client.get(url))

    def post(self, url: str, data: dict[str, str]) -> str:
        return self._seen(url, self.client.post(url, data=data, content_type="multipart/form-data"))


def _hidden(page: str) -> dict[str, str]:
    fields = {}
    for match in _HIDDEN.finditer(page):
        name, value = (match.group(1), match.group(2)) if match.group(1) else (match.group(3), match.group(4))
        fields.setdefault(name, unescape(value))
    return fields


def _form_action(page: str, containing: str) -> str:
    for form in re.findall(r"<form[^>]*>.*?</form>", page, re.S):
        if containing in form:
            opening = re.match(r"<form[^>]*>", form).group(0)
            assert 'method="post"' in opening, opening
            return unescape(re.search(r'action="([^"]+)"', opening).group(1))
    raise AssertionError(f"no form with {containing}")


def _assert_no_secret_in(urls: list[str], site: int) -> None:
    for url in urls:
        parts = urlsplit(url)
        query = dict(parse_qsl(parts.query))
        assert set(query) <= {"lang", "after"}, url  # nothing but the language
        assert "Lamphun" not in url and "Precision" not in url, url
        assert f"/{site}" not in parts.path or not parts.path.startswith("/report"), url


def test_search_choice_and_report_leave_nothing_in_any_url(app, site_id):
    worker = Recorder(app)
    page = worker.get("/report/?lang=th")
    page = worker.get("/report/workplace?lang=th")
    # The search is a POST; its answer lists the workplaces as buttons of a POST form.
    action = _form_action(page, 'name="q"')
    page = worker.post(action, {"q": SEARCH, **_hidden(page)})
    assert SEARCH + " Works" in page
    choice = _form_action(page, f'name="site" value="{site_id}"')
    page = worker.post(choice, {"site": str(site_id), "csrf_token": _hidden(page)["csrf_token"]})
    assert 'name="testimony"' in page
    # The report form carries the site in a hidden field of its body.
    fields = _hidden(page)
    assert fields["site"] == str(site_id)
    action = _form_action(page, 'name="testimony"')
    page = worker.post(action, {**fields, "testimony": "They kept our passports."})
    assert 'id="receipt"' in page
    # The country of a described workplace goes the same way.
    page = worker.get("/report/workplace?lang=th")
    country_form = _form_action(page, 'name="country"')
    page = worker.post(country_form, {"country": "TH", "csrf_token": _hidden(page)["csrf_token"]})
    assert _hidden(page)["country"] == "TH"
    _assert_no_secret_in(worker.urls, site_id)


def test_a_search_or_choice_in_a_url_is_not_acted_on(app, site_id):
    """A link with the search or the site (an old bookmark, a crafted link) does nothing with it."""
    client = app.test_client()
    page = client.get("/report/workplace?q=Lamphun+Precision").get_data(as_text=True)
    assert SEARCH + " Works" not in page and 'value="Lamphun' not in page
    response = client.get(f"/report/new?site={site_id}")
    assert response.status_code == 302 and response.headers["Location"].endswith("/report/workplace?lang=en")
    response = client.get("/report/new?country=TH")
    assert response.status_code == 302 and "TH" not in response.headers["Location"]
