"""Workers and monitors find a workplace by any of its names, in any script."""

from __future__ import annotations

import pytest

from monitoring.core.db import db
from monitoring.supplychain import operations as supplychain
from monitoring.supplychain.models import SiteKind
from monitoring.testimony import operations
from tests.conftest import csrf_token

CHINESE = "重庆富士康科技有限公司"
THAI = "บริษัท สยาม เซอร์กิต จำกัด"
CYRILLIC = "Завод Электроника Полтава"


@pytest.fixture
def sites(app) -> dict[str, int]:
    """Three sites with names in other scripts, and one merged into the first."""
    with app.app_context():
        made = {}
        for key, name, country, city, other in (
            ("cn", "Hongfujin Precision Electronics", "CN", "Chongqing", CHINESE),
            ("th", "Siam Circuit Works", "TH", "Ayutthaya", THAI),
            ("ua", "Poltava Electronics Plant", "UA", "Poltava", CYRILLIC),
            ("old", "Chongqing Foxconn Old Campus", "CN", "Chongqing", "旧厂区"),
        ):
            site = supplychain.create_site(
                None,
                supplychain.SiteData(name=name, country=country, kind=SiteKind.final_assembly, city=city),
            )
            supplychain.add_alternative_name(None, site, other)
            made[key] = site.id
        old = db.session.get(type(site), made["old"])
        old.merged_into_id, old.merged_dt = made["cn"], old.created_dt
        db.session.commit()
        return made


def search(client, query: str, lang: str = "en") -> str:
    token = csrf_token(client, "/report/workplace")
    response = client.post(f"/report/workplace?lang={lang}", data={"q": query, "csrf_token": token})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def found(page: str, site_id: int) -> bool:
    return f'name="site" value="{site_id}"' in page


def test_a_site_found_by_its_chinese_name_from_the_worker_page(app, sites):
    page = search(app.test_client(), "重庆", lang="zh_Hans")
    assert found(page, sites["cn"]) and "Hongfujin Precision Electronics" in page
    assert not found(page, sites["old"])  # merged sites are never offered
    # The full name, and two of its words typed apart, find it too.
    assert found(search(app.test_client(), CHINESE), sites["cn"])
    assert found(search(app.test_client(), "富士康 科技"), sites["cn"])


@pytest.mark.parametrize(
    ("key", "query"),
    [
        ("th", "สยาม"),  # Thai
        ("th", "เซอร์กิต"),
        ("ua", "ЗАВОД"),  # Cyrillic in capitals finds the name in small letters
        ("ua", "электроника полтава"),
        ("ua", "poltava"),  # and the Latin name still works
    ],
)
def test_thai_and_cyrillic_names_find_the_site(app, sites, key, query):
    page = search(app.test_client(), query)
    assert found(page, sites[key])
    assert sum(found(page, site_id) for site_id in sites.values()) == 1


def test_nothing_found_for_a_name_no_site_bears(app, sites):
    page = search(app.test_client(), "北京")
    assert not any(found(page, site_id) for site_id in sites.values())


def test_monitors_intake_search_finds_the_other_names(app, sites):
    with app.app_context():
        assert [site.id for site in operations.search_sites("重庆")] == [sites["cn"]]
        assert [site.id for site in operations.search_sites("ЭЛЕКТРОНИКА")] == [sites["ua"]]
        assert [site.id for site in operations.search_sites("สยาม ayutthaya")] == [sites["th"]]
