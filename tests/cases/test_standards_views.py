"""The code of labour standards page: every case role reads it, with its ILO and RBA crosswalk."""

from __future__ import annotations

import re

import pytest

from monitoring.cases.standards import RBA_SECTIONS, STANDARDS, groups


def _text(response) -> str:
    return response.get_data(as_text=True)


@pytest.mark.parametrize("who", ["coordinator", "monitor", "affiliate", "supplier"])
def test_every_case_role_reads_the_code_with_its_crosswalk(case_world, client_for, who):
    response = client_for(case_world.users[who]).get("/standards/")
    assert response.status_code == 200
    page = _text(response)
    codes = re.findall(r'<th scope="row">([A-Z]{2}(?:-\d+)?)</th>', page)
    assert codes == [s.code for s in STANDARDS]
    # Each group has a section and a link to it from the index at the top.
    for group in groups():
        assert f'id="standard-{group.code}"' in page and f'href="#standard-{group.code}"' in page
    # The forced-labour group rests on C029 and its protocol and matches RBA A1; passports do too.
    forced = page[page.index('id="standard-FL"') : page.index('id="standard-CL"')]
    assert "C029, P029, C105" in forced
    assert str(RBA_SECTIONS["A1"]).replace("&", "&amp;") in forced
    chemicals = page[page.index('<th scope="row">HS-1</th>') :]
    chemicals = chemicals[: chemicals.index("</tr>")]
    assert "C155, C170" in chemicals and "B4 Industrial Hygiene; C3 Hazardous Substances" in chemicals


def test_administrators_get_404_and_visitors_are_sent_to_log_in(app, case_world, client_for):
    assert client_for(case_world.admin).get("/standards/").status_code == 404
    response = app.test_client().get("/standards/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_finding_form_offers_the_same_standards_grouped(case_world, client_for):
    page = _text(client_for(case_world.monitor).get(f"/findings/new?site={case_world.site}"))
    offered = re.findall(r'<option value="([A-Z]{2}(?:-\d+)?)"', page)
    assert offered == [s.code for s in STANDARDS]
    labels = re.findall(r'<optgroup label="([^"]+)">', page)
    assert labels == [g.label() for g in groups()]
