"""Open Supply Hub's own layouts and files saved by spreadsheets import as they are."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select

from monitoring.accounts.models import User
from monitoring.core.db import db
from monitoring.supplychain import duplicates
from monitoring.supplychain.imports import ImportRefused
from monitoring.supplychain.models import DuplicateState, Site, SiteDuplicate
from tests.jobs.conftest import job_of, run_worker
from tests.supplychain.test_import_facilities import pairs, problems, refusal, run_import, sites
from tests.supplychain.test_import_mapping import upload_and_confirm


def job_id_from(response) -> int:
    return int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])


# Open Supply Hub's list-upload layout (the columns a contributor uploads, in its order).
LIST_HEADER = [
    "country",
    "name",
    "address",
    "sector",
    "lat",
    "lng",
    "number_of_workers",
    "facility_type",
    "processing_type",
    "product_type",
    "parent_company",
]


def list_csv(rows: list[list[str]], *, bom: bool = True, delimiter: str = ",") -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(LIST_HEADER)
    writer.writerows(rows)
    return ("\ufeff" if bom else "") + out.getvalue()


def row(country: str, name: str, address: str, workers: str = "", lat: str = "", lng: str = "") -> list[str]:
    return [country, name, address, "Electronics", lat, lng, workers, "Final Product Assembly", "", "", ""]


GOLDEN_CROWN = ("Golden Crown Electronics Co., Ltd.", "No. 5 Industrial Zone, Yangon")
OSH_LIST = list_csv(
    [
        row("MYANMAR", *GOLDEN_CROWN, "Less than 1000"),
        row("Viet Nam", "Bac Ninh Display Co., Ltd.", "Lot A2, Que Vo IP, Bac Ninh", "More than 10000"),
        row("Türkiye", "Anadolu Kablo A.Ş.", "OSB 3. Cadde No:7, Manisa", "1001-5000", "38.61", "27.38"),
        row("DEU", "Dresden Halbleiter GmbH", "Königsbrücker Str. 180, Dresden", "", "51.1", "13.8"),
        # An exact repeat of the first row, but for the white square an export tool left.
        row("MYANMAR", "Golden Crown □Electronics Co., Ltd.", f"{GOLDEN_CROWN[1]}□", "Less than 1000"),
    ]
).encode()


def _by_name(app) -> dict[str, Site]:
    return {site.name: site for site in sites(app)}


def test_open_supply_hub_list_layout_imports_as_it_is(app):
    result = run_import(app, OSH_LIST)
    assert (result.rows, result.created, result.repeats_merged) == (5, 4, 1)
    found = _by_name(app)
    assert {name: (s.country, s.workers_approx) for name, s in found.items()} == {
        "Golden Crown Electronics Co., Ltd.": ("MM", 500),
        "Bac Ninh Display Co., Ltd.": ("VN", 10001),
        "Anadolu Kablo A.Ş.": ("TR", 3000),
        "Dresden Halbleiter GmbH": ("DE", None),
    }
    assert found["Golden Crown Electronics Co., Ltd."].address == "No. 5 Industrial Zone, Yangon"
    assert (found["Anadolu Kablo A.Ş."].latitude, found["Anadolu Kablo A.Ş."].longitude) == (38.61, 27.38)
    assert pairs(app) == []


def test_the_job_page_and_api_tell_that_repeats_were_merged(app, coordinator, client_for, api_client):
    client = client_for(coordinator)
    job_id = job_id_from(upload_and_confirm(client, OSH_LIST, "osh-list.csv"))
    run_worker(app)
    assert job_of(app, job_id).summary["repeats_merged"] == 1
    page = client.get(f"/imports/jobs/{job_id}").get_data(as_text=True)
    assert "1 repeated row was merged into the row it repeats" in page
    status = api_client(coordinator).get(f"/api/v1/jobs/{job_id}").get_json()
    assert (status["result"]["created"], status["result"]["repeats_merged"]) == (4, 1)


def test_the_direct_api_import_warns_of_merged_repeats(app, coordinator, api_client):
    response = api_client(coordinator).post(
        "/api/v1/imports/facilities",
        data={"file": (io.BytesIO(OSH_LIST), "osh-list.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["created"], body["repeats_merged"]) == (4, 1)
    assert body["warnings"] == [
        "1 repeated row was merged into the row it repeats (same name, address and country)."
    ]


def test_a_semicolon_file_in_windows_1250_with_decimal_commas(app):
    text = (
        "name;address;country;lat;lng;number_of_workers\r\n"
        "Dřevařské závody Čáslav s.r.o.;Průmyslová 1, Čáslav;Czechia;49,91;15,39;10000+\r\n"
        "Elektro Řečany a.s.;Nádražní 12, Řečany nad Labem;CZE;50,08;15,47;250 \u2013 400\r\n"
    )
    assert run_import(app, text.encode("cp1250")).created == 2
    found = _by_name(app)
    first = found["Dřevařské závody Čáslav s.r.o."]
    assert (first.address, first.country, first.latitude, first.longitude, first.workers_approx) == (
        "Průmyslová 1, Čáslav",
        "CZ",
        49.91,
        15.39,
        10000,
    )
    assert (found["Elektro Řečany a.s."].country, found["Elektro Řečany a.s."].workers_approx) == ("CZ", 325)


def test_a_tab_separated_utf16_file(app):
    text = (
        "Name\tAddress\tCountry\tNumber of workers\r\n"
        "Škoda Elektrik s.r.o.\tTylova 1/57, Plzeň\tcz\tLess than 1000\r\n"
    )
    assert run_import(app, text.encode("utf-16")).created == 1
    site = sites(app)[0]
    assert (site.name, site.address, site.country, site.workers_approx) == (
        "Škoda Elektrik s.r.o.",
        "Tylova 1/57, Plzeň",
        "CZ",
        500,
    )


def test_an_unknown_country_name_is_refused_with_its_line(app):
    data = list_csv([row("Viet Nam", "A Ltd", "1 Road"), row("Atlantis", "B Ltd", "2 Road")]).encode()
    refused = refusal(app, data)
    assert isinstance(refused, ImportRefused) and problems(refused) == [(3, "country_code")]
    with app.app_context():
        assert "ATLANTIS is not a country code" in str(refused.errors[0].message)
    assert sites(app) == []


@pytest.fixture
def merged_twins(app, coordinator):
    """A list with two spellings of one factory, imported, proposed and merged by a coordinator."""
    data = list_csv(
        [
            row("MYANMAR", "Golden Crown Electronics Co., Ltd.", "No. 5 Industrial Zone, Yangon"),
            row("MYANMAR", "Golden Crown Electronics", "Plot 5, Industrial Zone 1, Yangon"),
        ]
    ).encode()
    assert run_import(app, data, actor=coordinator).duplicates_proposed == 1
    with app.app_context():
        pair = db.session.scalars(select(SiteDuplicate)).one()
        kept = duplicates.merge_duplicate(db.session.get(User, coordinator.id), pair)
        db.session.commit()
        return data, kept.id


def test_a_reimport_after_a_merge_maps_the_merged_row_to_the_site_that_stays(app, coordinator, merged_twins):
    data, kept_id = merged_twins
    before = [(s.id, s.merged_into_id) for s in sites(app)]
    result = run_import(app, data, actor=coordinator)
    assert (result.created, result.duplicates_proposed) == (0, 0)
    assert [(s.id, s.merged_into_id) for s in sites(app)] == before
    assert [state for *_, state in pairs(app)] == [DuplicateState.merged]
    kept = _by_name(app)["Golden Crown Electronics Co., Ltd."]
    # The merged-away row does not rename the site that stays.
    assert (kept.id, kept.address) == (kept_id, "No. 5 Industrial Zone, Yangon")


def test_a_reimport_after_a_merge_of_two_os_ids_keeps_them_on_one_site(app, coordinator):
    header = ["os_id", "name", "address", "country_code"]
    data = "\r\n".join(
        [
            ",".join(header),
            "MM2021100AAAAAA,Golden Crown Electronics Co. Ltd.,No. 5 Industrial Zone,MM",
            "MM2021100BBBBBB,Golden Crown Electronics Co. Ltd.,Plot 5 Industrial Zone 1,MM",
        ]
    ).encode()
    run_import(app, data, actor=coordinator)
    with app.app_context():
        pair = db.session.scalars(select(SiteDuplicate)).one()
        duplicates.merge_duplicate(db.session.get(User, coordinator.id), pair)
        db.session.commit()
    before = [(s.id, s.os_id, s.merged_into_id, s.address) for s in sites(app)]
    result = run_import(app, data, actor=coordinator)
    assert (result.created, result.duplicates_proposed, result.repeats_merged) == (0, 0, 0)
    assert [(s.id, s.os_id, s.merged_into_id, s.address) for s in sites(app)] == before
    assert len(pairs(app)) == 1
