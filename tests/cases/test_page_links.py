"""The registry's site and contract pages link to factory access and follow-up meetings only for
those who may open them (the cases feature decides, through its permissions modules)."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    ("who", "shown"),
    [("monitor", True), ("coordinator", True), ("affiliate", False), ("supplier", False)],
)
def test_the_site_page_links_to_factory_access(case_world, client_for, who, shown):
    w = case_world
    page = client_for(w.users[who]).get(f"/sites/{w.site}")
    assert page.status_code == 200
    assert (f'href="/sites/{w.site}/access"' in page.get_data(as_text=True)) is shown


@pytest.mark.parametrize(
    ("who", "shown"),
    [("affiliate", True), ("supplier", True), ("coordinator", True), ("monitor", False)],
)
def test_the_contract_page_links_to_its_meetings(case_world, client_for, who, shown):
    w = case_world
    contract = w.contracts["a"]
    page = client_for(w.users[who]).get(f"/contracts/{contract}")
    if page.status_code == 404:
        assert not shown
        return
    assert (f'href="/contracts/{contract}/meetings"' in page.get_data(as_text=True)) is shown
