"""The finding form's site and report pickers and the findings list's site filter are searches:
their pages stay small and their queries few however many sites there are."""

from __future__ import annotations

import re
from urllib.parse import quote

from sqlalchemy import func, insert, select

from monitoring.cases.models import Finding
from monitoring.core.db import db
from monitoring.core.types import utcnow
from monitoring.supplychain.models import Site, SiteKind, search_key
from monitoring.supplychain.pickers import PICKER_PAGE
from tests.cases.helpers import CaseWorld
from tests.cases.test_finding_views import _finding_data, _report
from tests.conftest import post_form
from tests.supplychain.test_query_counts import counting

MANY = 5_000
# The page size the issue sets for the finding form and every picker with 100k sites.
MAX_PAGE = 200_000
NEEDLE = "Kowloon Precision Works"


def _text(response) -> str:
    return response.get_data(as_text=True)


def add_sites(world: CaseWorld, n: int = MANY) -> int:
    """``n`` sites in one Core insert (one of them named ``NEEDLE``); the needle's id."""
    now = utcnow()
    rows = []
    for i in range(n):
        name = f"{NEEDLE} {i}" if i == n // 2 else f"Bulk Electronics Plant {i:05d}"
        rows.append(
            {
                "name": name,
                "address": f"{i} Industrial Road",
                "city": "Penang",
                "country": "MY",
                "kind": SiteKind.component,
                "match_key": f"bulk {i}",
                "name_key": f"bulk {i}",
                "search_key": search_key(name),
                "created_dt": now,
                "updated_dt": now,
            }
        )
    with world.app.app_context():
        db.session.execute(insert(Site), rows)
        db.session.commit()
        return db.session.scalar(select(Site.id).where(Site.name == f"{NEEDLE} {n // 2}"))


def _radios(page: str, name: str, kind: str = "radio") -> list[int]:
    return [int(v) for v in re.findall(rf'name="{name}" type="{kind}" value="(\d+)"', page)]


def _findings(world: CaseWorld) -> int:
    with world.app.app_context():
        return db.session.scalar(select(func.count()).select_from(Finding)) or 0


def test_the_site_chooser_stays_small_and_searches(case_world, client_for):
    w = case_world
    needle = add_sites(w)
    client = client_for(w.monitor)
    with counting(w.app) as count:
        first = client.get("/findings/new")
    assert first.status_code == 200
    assert len(first.data) < MAX_PAGE and count[0] <= 12
    page = _text(first)
    assert len(_radios(page, "site")) == PICKER_PAGE and 'name="site_more"' in page
    assert 'name="summary"' not in page
    # A part of the name finds the site among thousands.
    found = _text(client.get("/findings/new?site_q=" + quote("precision works")))
    assert _radios(found, "site") == [needle]
    # "More" pages on through the matches, none twice.
    more = _text(client.get("/findings/new?site_q=plant&site_more=1&site_next=20"))
    further = _radios(more, "site")
    # Without "more", the next page's offset sent along (by a new search) starts again at the first.
    again = _text(client.get("/findings/new?site_q=plant&site_next=20"))
    assert _radios(again, "site") == _radios(_text(client.get("/findings/new?site_q=plant")), "site")
    assert len(further) == PICKER_PAGE and not set(further) & set(_radios(page, "site"))
    nothing = _text(client.get("/findings/new?site_q=zzzz-nowhere"))
    assert "Nothing matches “zzzz-nowhere”." in nothing and not _radios(nothing, "site")


def test_a_chosen_site_files_the_finding_and_a_forged_one_is_refused(case_world, client_for):
    w = case_world
    needle = add_sites(w)
    client = client_for(w.monitor)
    url = f"/findings/new?site={needle}"
    with counting(w.app) as count:
        response = client.get(url)
    form = _text(response)
    assert len(response.data) < MAX_PAGE and count[0] <= 15
    assert f"{NEEDLE} {MANY // 2}" in form and 'name="summary"' in form
    # The site chosen stays offered, checked, when another is searched for.
    assert re.search(rf'checked id="site-0" name="site" type="radio" value="{needle}"', form)
    before = _findings(w)
    filed = post_form(client, url, _finding_data(w, site=str(needle)), form_page=url)
    assert filed.status_code == 302 and _findings(w) == before + 1
    forged = client.get("/findings/new?site=999999999")
    assert "Not a valid choice." in _text(forged) and 'name="summary"' not in _text(forged)
    posted = post_form(client, "/findings/new", _finding_data(w, site="999999999"), form_page=url)
    assert posted.status_code == 422 and "Choose a site." in _text(posted)
    assert _findings(w) == before + 1


def test_the_report_picker_offers_the_latest_pages_and_searches(app, case_world, grant_keys, client_for):
    w = case_world
    grant_keys(w.other_monitor)
    ours = [_report(w) for _ in range(PICKER_PAGE + 2)]
    theirs = _report(w, "other_monitor")
    client = client_for(w.monitor)
    url = f"/findings/new?site={w.site}"
    form = _text(client.get(url))
    offered = _radios(form, "reports", "checkbox")
    assert len(offered) == PICKER_PAGE and set(offered) <= set(ours) and 'name="reports_more"' in form
    more = _text(client.get(f"{url}&reports_more=1&reports_next={PICKER_PAGE}"))
    assert sorted(offered + _radios(more, "reports", "checkbox")) == sorted(ours)
    # The form's first button saves (the picker's are inputs), as a browser test clicks it.
    posted_form = form[form.index('<form method="post"') :]
    assert re.search(r'<button type="submit"[^>]*>\s*File the finding', posted_form)
    assert posted_form.index("<button") == posted_form.index('<button type="submit" class="primary"')
    # Searching by number keeps what was typed and ticked, and saves nothing.
    before = _findings(w)
    data = _finding_data(w, reports=[ours[0]], reports_q=str(ours[1]), reports_search="1")
    searched = post_form(client, url, data, form_page=url)
    page = _text(searched)
    assert searched.status_code == 200 and _findings(w) == before
    assert _radios(page, "reports", "checkbox") == [ours[0], ours[1]]
    assert re.search(rf'checked id="reports-0" name="reports" type="checkbox" value="{ours[0]}"', page)
    assert "Dormitory managers hold the passports" in page and "Not a valid choice" not in page
    # A report of another organisation is refused as before; ours are linked.
    refused = post_form(client, url, _finding_data(w, reports=[theirs]), form_page=url)
    assert refused.status_code == 422 and 'id="reports-error"' in _text(refused)
    filed = post_form(client, url, _finding_data(w, reports=[ours[0], ours[-1]]), form_page=url)
    assert filed.status_code == 302 and _findings(w) == before + 1


def test_the_findings_filter_searches_its_sites(case_world, client_for):
    w = case_world
    needle = add_sites(w)
    w.finding(site_id=needle)
    other = w.finding()
    client = client_for(w.monitor)
    with counting(w.app) as count:
        response = client.get("/findings/")
    assert response.status_code == 200 and len(response.data) < MAX_PAGE and count[0] <= 15
    found = _text(client.get("/findings/?site_q=" + quote("kowloon")))
    assert _radios(found, "site") == [needle]
    filtered = _text(client.get(f"/findings/?site={needle}"))
    assert f'href="/findings/{other}"' not in filtered
    assert re.search(rf'checked id="site-0" name="site" type="radio" value="{needle}"', filtered)
    # Sites without a finding the user lists are not offered.
    assert not _radios(_text(client.get("/findings/?site_q=" + quote("bulk electronics"))), "site")


def test_the_pickers_keep_each_roles_access(case_world, client_for):
    w = case_world
    for who in ("affiliate", "supplier"):
        if who in w.users:
            assert client_for(w.users[who]).get("/findings/new?site_q=plant").status_code == 404
    assert client_for(w.coordinator).get("/findings/new?site_q=plant").status_code == 404
