"""Facility lists in Open Supply Hub's layout: validation, matching, duplicates, pages and API."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest
from flask_babel.speaklater import LazyString
from sqlalchemy import select

from monitoring.accounts.models import UserRole
from monitoring.core.audit import AuditEntry
from monitoring.core.db import db
from monitoring.supplychain.imports import ImportRefused, import_facilities
from monitoring.supplychain.models import DuplicateState, Site, SiteDuplicate, SiteKind
from tests.conftest import post_form
from tests.jobs.conftest import run_worker
from tests.supplychain.facility_files import OSH_HEADER
from tests.supplychain.helpers import count_rows
from tests.supplychain.test_import_mapping import upload_and_confirm


def facility_row(**values: Any) -> dict[str, Any]:
    row = {
        "os_id": "",
        "contribution_date": "2024-03-01",
        "name": "Example Electronics Co., Ltd.",
        "address": "1 Industrial Road",
        "country_code": "CN",
        "country_name": "China",
        "lat": "",
        "lng": "",
        "sector": "Electronics",
        "contributor (list)": "A Brand (List)",
        "number_of_workers": "",
        "parent_company": "",
        "processing_type_facility_type_raw": "",
        "facility_type": "",
        "processing_type": "",
        "product_type": "",
        "is_closed": "False",
    }
    row.update(values)
    return row


def facility_csv(rows: list[dict[str, Any]], header: list[str] | None = None, bom: bool = False) -> bytes:
    """A facility list as bytes (UTF-8), with the given header (default: Open Supply Hub's)."""
    out = io.StringIO()
    writer = csv.DictWriter(
        out, fieldnames=header or OSH_HEADER, extrasaction="ignore", lineterminator="\r\n"
    )
    writer.writeheader()
    writer.writerows(rows)
    return ("\ufeff" if bom else "").encode() + out.getvalue().encode()


def run_import(app, data: bytes, actor=None, filename: str = "facilities.csv"):
    """Import as a coordinator (or the command line) and commit; return the result."""
    with app.app_context():
        user = db.session.get(type(actor), actor.id) if actor is not None else None
        result = import_facilities(user, io.BytesIO(data), filename=filename)
        db.session.commit()
        return result


def refusal(app, data: bytes) -> ImportRefused:
    """Import and expect a refusal (nothing written); messages render in English here."""
    with app.app_context():
        try:
            import_facilities(None, io.BytesIO(data), filename="bad.csv")
        except ImportRefused as exc:
            db.session.rollback()
            return exc
    pytest.fail("the file was accepted")


def problems(refused: ImportRefused) -> list[tuple[int, str | None]]:
    return [(e.line, e.column) for e in refused.errors]


def sites(app) -> list[Site]:
    with app.app_context():
        return list(db.session.scalars(select(Site).order_by(Site.id)))


def pairs(app) -> list[tuple[int, int, str, DuplicateState]]:
    with app.app_context():
        return [
            (d.site_id, d.candidate_id, d.reason, d.state)
            for d in db.session.scalars(select(SiteDuplicate).order_by(SiteDuplicate.id))
        ]


# --- a good file ----------------------------------------------------------------------------


def test_imports_a_facility_list_in_open_supply_hub_layout(app):
    data = facility_csv(
        [
            facility_row(
                os_id="CN2019303BQ3FZP",
                name="Hon Hai Precision Industry Co., Ltd.",
                address="No. 2 Donghuan Road, Longhua",
                lat="22.65",
                lng="114.03",
                number_of_workers="1001-5000",
                facility_type="Final Product Assembly",
                processing_type="Assembly",
            ),
            facility_row(
                name="Kutná Hora Circuits s.r.o.",
                address="Průmyslová 12",
                country_code="cz",
                number_of_workers="250|1001-5000|400",
                facility_type="Raw Material Processing or Production",
            ),
            facility_row(
                name="Penang Recovery Sdn. Bhd.",
                address="3 Jalan Perindustrian",
                country_code="MY",
                processing_type="Mechanical Recycling",
            ),
        ],
        bom=True,
    )
    before = count_rows(app, AuditEntry)
    result = run_import(app, data)
    assert (result.rows, result.created, result.updated, result.duplicates_proposed) == (3, 3, 0, 0)
    hon_hai, kutna, penang = sites(app)
    assert (hon_hai.os_id, hon_hai.kind, hon_hai.workers_approx) == (
        "CN2019303BQ3FZP",
        SiteKind.final_assembly,
        3000,
    )
    assert (hon_hai.latitude, hon_hai.longitude) == (22.65, 114.03)
    assert (kutna.country, kutna.kind, kutna.workers_approx, kutna.os_id) == (
        "CZ",
        SiteKind.component,
        400,
        None,
    )
    assert (penang.kind, penang.latitude) == (SiteKind.recycling, None)
    assert count_rows(app, AuditEntry) == before + 1
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).order_by(AuditEntry.id.desc()))
        assert entry.action == "site.import"
        assert entry.data_dict["created"] == 3 and entry.data_dict["file"] == "facilities.csv"


def test_columns_in_any_order_and_only_the_required_ones(app):
    header = ["country_code", "address", "name"]
    result = run_import(app, facility_csv([facility_row(name="Only Three Columns Ltd")], header=header))
    assert result.created == 1
    (site,) = sites(app)
    assert (site.name, site.kind, site.os_id) == ("Only Three Columns Ltd", SiteKind.component, None)


def test_closed_facilities_are_not_added(app):
    result = run_import(app, facility_csv([facility_row(is_closed="True"), facility_row(name="Open Ltd")]))
    assert (result.created, result.skipped_closed) == (1, 1)
    assert [s.name for s in sites(app)] == ["Open Ltd"]


# --- matching -------------------------------------------------------------------------------


def test_matches_by_os_id_first_and_updates(app):
    run_import(app, facility_csv([facility_row(os_id="TH2020001ABCDEF", name="Old Name Co., Ltd.")]))
    again = facility_csv(
        [
            facility_row(
                os_id="th2020001abcdef",
                name="New Name Co., Ltd.",
                address="Elsewhere 5",
                number_of_workers="80",
            )
        ]
    )
    result = run_import(app, again)
    assert (result.created, result.updated) == (0, 1)
    (site,) = sites(app)
    assert (site.name, site.address, site.workers_approx) == ("New Name Co., Ltd.", "Elsewhere 5", 80)
    # The same file again changes nothing.
    assert run_import(app, again).unchanged == 1


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (("Shenzhen Display Co., Ltd.", "No.5 Keji Road"), ("shenzhen display co ltd", "No. 5 Keji Rd.")),
        (("Shenzhen  Display  Limited", "5, Keji Road"), ("SHENZHEN DISPLAY", "5 keji road")),
        (("Pardubice Electronics s.r.o.", "Hradecká 1"), ("Pardubice Electronics, S.R.O.", "Hradecka 1")),
        (
            ("Juárez Ensambles S.A. de C.V.", "Av. Tecnológico 100"),
            ("Juarez Ensambles SA de CV", "Avenue Tecnologico 100"),
        ),
    ],
)
def test_matches_normalised_name_address_and_country(app, first, second):
    run_import(app, facility_csv([facility_row(name=first[0], address=first[1], os_id="CN2019303AAAAAA")]))
    result = run_import(
        app, facility_csv([facility_row(name=second[0], address=second[1], number_of_workers="42")])
    )
    assert (result.created, result.updated, result.duplicates_proposed) == (0, 1, 0)
    (site,) = sites(app)
    # The name and address follow the file; the OS id is kept.
    assert (site.name, site.workers_approx, site.os_id) == (second[0], 42, "CN2019303AAAAAA")


def test_an_os_id_fills_a_site_matched_by_name(app):
    run_import(app, facility_csv([facility_row()]))
    run_import(app, facility_csv([facility_row(os_id="CN2019303BQ3FZP")]))
    (site,) = sites(app)
    assert site.os_id == "CN2019303BQ3FZP"


def test_same_country_is_needed_to_match(app):
    run_import(app, facility_csv([facility_row(country_code="CN")]))
    result = run_import(app, facility_csv([facility_row(country_code="VN")]))
    assert (result.created, result.duplicates_proposed) == (1, 0)


def test_same_name_other_address_is_a_new_site_and_a_proposal_never_a_merge(app):
    run_import(app, facility_csv([facility_row(name="Lumen Optics Co., Ltd.", address="1 North Road")]))
    result = run_import(
        app,
        facility_csv(
            [
                facility_row(name="LUMEN OPTICS CO LTD", address="99 South Road"),
                facility_row(name="Lumen Optics Limited", address="7 East Road"),
            ]
        ),
    )
    assert (result.created, result.duplicates_proposed) == (2, 2)
    first, second, third = sites(app)
    assert all(s.merged_into_id is None for s in (first, second, third))
    # Each new site is paired with the oldest site of that name, never merged.
    assert pairs(app) == [
        (first.id, second.id, "same_name_other_address", DuplicateState.proposed),
        (first.id, third.id, "same_name_other_address", DuplicateState.proposed),
    ]
    # Importing again proposes nothing new.
    again = facility_csv([facility_row(name="Lumen Optics Limited", address="7 East Road")])
    assert run_import(app, again).duplicates_proposed == 0


def test_same_place_under_another_os_id_is_proposed(app):
    run_import(app, facility_csv([facility_row(os_id="CN2019303AAAAAA")]))
    result = run_import(app, facility_csv([facility_row(os_id="CN2019303BBBBBB")]))
    assert (result.created, result.duplicates_proposed) == (1, 1)
    first, second = sites(app)
    assert pairs(app) == [(first.id, second.id, "same_name_and_address_other_os_id", DuplicateState.proposed)]


def test_an_os_id_of_a_merged_site_updates_the_site_it_went_into(app, registry):
    kept = registry.site("Kept Site Ltd", address="1 Road")
    merged = registry.site("Merged Site Ltd", address="2 Road", os_id="CN2019303CCCCCC")
    with app.app_context():
        from monitoring.core.types import utcnow

        db.session.get(Site, merged).merged_into_id = kept
        db.session.get(Site, merged).merged_dt = utcnow()
        db.session.commit()
    result = run_import(app, facility_csv([facility_row(os_id="CN2019303CCCCCC", number_of_workers="77")]))
    assert (result.created, result.updated) == (0, 1)
    assert registry.get(Site, kept).workers_approx == 77


def test_batches_of_more_than_a_thousand_rows(app):
    rows = [facility_row(name=f"Batch Factory {i}", address=f"{i} Road") for i in range(2500)]
    rows.append(facility_row(name="batch factory 7", address="9999 Other Road"))
    result = run_import(app, facility_csv(rows))
    assert (result.created, result.duplicates_proposed) == (2501, 1)
    updated = [
        facility_row(name=f"Batch Factory {i}", address=f"{i} Road", number_of_workers="10")
        for i in range(2500)
    ]
    assert run_import(app, facility_csv(updated)).updated == 2500


# --- refusals: the whole file, with the lines named ------------------------------------------


def _nothing_written(app, before):
    assert (count_rows(app, Site), count_rows(app, SiteDuplicate), count_rows(app, AuditEntry)) == before


def _counts(app):
    return count_rows(app, Site), count_rows(app, SiteDuplicate), count_rows(app, AuditEntry)


def test_a_line_in_another_encoding_is_named_in_a_utf8_file(app):
    good = facility_csv(
        [facility_row(name="Kutná Hora Ltd"), facility_row(name="Café Ltd"), facility_row(name="Other Ltd")]
    )
    mixed = good.replace("Café".encode(), "Café".encode("latin-1"))
    before = _counts(app)
    refused = refusal(app, mixed)
    assert problems(refused) == [(3, None)]
    # Messages are translated when shown, in the language of whoever reads them.
    assert isinstance(refused.errors[0].message, LazyString)
    with app.app_context():
        assert "Line 3 is not UTF-8" in str(refused.errors[0].message)
        assert "CSV UTF-8" in str(refused.errors[0].message)
    _nothing_written(app, before)


def test_a_file_in_a_windows_code_page_is_read_as_such(app):
    data = "name,address,country_code\nÉlectronique SA,1 rue,FR\nZürich AG,2 Strasse,CH\n".encode("cp1252")
    assert run_import(app, data).created == 2
    assert [s.name for s in sites(app)] == ["Électronique SA", "Zürich AG"]


def test_missing_columns_are_named(app):
    data = facility_csv([facility_row()], header=["os_id", "name", "lat", "lng"])
    refused = refusal(app, data)
    assert problems(refused) == [(1, "address"), (1, "country_code")]
    with app.app_context():
        assert [str(e.message) for e in refused.errors] == [
            "The required column address is missing.",
            "The required column country_code is missing.",
        ]


def test_bad_country_codes_are_refused_line_by_line(app):
    rows = [
        facility_row(name="A Ltd"),
        facility_row(name="B Ltd", country_code="XX"),
        facility_row(name="C Ltd", country_code="Chinaland"),
        facility_row(name="D Ltd", country_code="EU"),
        facility_row(name="E Ltd", country_code="th"),
        facility_row(name="F Ltd", country_code="China"),
    ]
    before = _counts(app)
    refused = refusal(app, facility_csv(rows))
    assert problems(refused) == [(3, "country_code"), (4, "country_code"), (5, "country_code")]
    with app.app_context():
        assert "XX is not a country code" in str(refused.errors[0].message)
    _nothing_written(app, before)


def test_rows_repeating_an_os_id_or_a_facility_with_another_os_id_are_refused(app):
    rows = [
        facility_row(os_id="CN2019303AAAAAA", name="One Ltd", address="1 Road"),
        facility_row(os_id="CN2019303BBBBBB", name="Two Ltd", address="2 Road"),
        facility_row(os_id="CN2019303AAAAAA", name="Three Ltd", address="3 Road"),
        facility_row(os_id="CN2019303CCCCCC", name="two limited", address="2, Road"),
        facility_row(os_id="CN2019303AAAAAA", name="One Ltd", address="1 Road"),
    ]
    before = _counts(app)
    refused = refusal(app, facility_csv(rows))
    assert problems(refused) == [(4, "os_id"), (5, "name")]
    with app.app_context():
        messages = [str(e.message) for e in refused.errors]
    assert messages[0] == "Line 4 repeats the OS ID of line 2."
    assert messages[1] == "Line 5 repeats the facility of line 3 (same name, address and country)."
    _nothing_written(app, before)


def test_exact_repeats_within_the_file_are_merged(app):
    rows = [
        facility_row(name="One Ltd", address="1 Road"),
        facility_row(os_id="CN2019303BBBBBB", name="Two Ltd", address="2 Road"),
        facility_row(os_id="CN2019303AAAAAA", name="ONE LIMITED", address="1, Road"),
        facility_row(name="two limited", address="2 Road"),
        facility_row(name="One Ltd", address="1 Road"),
    ]
    result = run_import(app, facility_csv(rows))
    assert (result.rows, result.created, result.repeats_merged) == (5, 2, 3)
    assert [(s.name, s.os_id) for s in sites(app)] == [
        ("One Ltd", "CN2019303AAAAAA"),
        ("Two Ltd", "CN2019303BBBBBB"),
    ]


def test_a_repeat_of_a_bad_line_is_still_found(app):
    rows = [facility_row(os_id="CN2019303AAAAAA", country_code="ZZ"), facility_row(os_id="CN2019303AAAAAA")]
    assert problems(refusal(app, facility_csv(rows))) == [(2, "country_code"), (3, "os_id")]


def test_bad_numbers_coordinates_dates_and_ids(app):
    rows = [
        facility_row(number_of_workers="about 500"),
        facility_row(name="B Ltd", lat="91", lng="10"),
        facility_row(name="C Ltd", lat="10", lng=""),
        facility_row(name="D Ltd", contribution_date="31/01/2024"),
        facility_row(name="E Ltd", os_id="not-an-id"),
        facility_row(name="F Ltd", number_of_workers="5000-1000"),
        facility_row(name="G Ltd", is_closed="maybe"),
        facility_row(name="H Ltd", lat="nan", lng="1"),
    ]
    assert problems(refusal(app, facility_csv(rows))) == [
        (2, "number_of_workers"),
        (3, "lat"),
        (4, "lng"),
        (5, "contribution_date"),
        (6, "os_id"),
        (7, "number_of_workers"),
        (8, "is_closed"),
        (9, "lat"),
    ]


def test_required_values_and_lengths(app):
    rows = [facility_row(name=""), facility_row(name="x" * 301), facility_row(name="B Ltd", address=" ")]
    assert problems(refusal(app, facility_csv(rows))) == [(2, "name"), (3, "name"), (4, "address")]


def test_empty_files_and_a_header_alone(app):
    for data in (b"", "\ufeff".encode(), b"\r\n\r\n"):
        refused = refusal(app, data)
        assert problems(refused) == [(1, None)]
    refused = refusal(app, b"name,address,country_code\r\n")
    assert problems(refused) == [(1, None)]
    with app.app_context():
        assert str(refused.errors[0].message) == "The file has a header but no rows."


def test_too_many_columns_on_a_line(app):
    data = b"name,address,country_code\r\nA Ltd,1 Road,CN\r\nB Ltd,2 Road,CN,extra\r\n"
    refused = refusal(app, data)
    assert problems(refused) == [(3, None)]
    with app.app_context():
        assert str(refused.errors[0].message) == "Line 3 has 4 values but the header has 3 columns."


def test_a_column_twice_and_a_broken_csv(app):
    assert problems(refusal(app, b"name,name,address,country_code\r\nA,A,1,CN\r\n")) == [(1, "name")]
    assert problems(refusal(app, b"name,address,country_code\r\nA Ltd,1 Road,CN\r\nB\x00,2,CN\r\n")) == [
        (3, None)
    ]


def test_multiline_quoted_values_keep_line_numbers(app):
    data = b'name,address,country_code\r\n"A Ltd","1 Road\r\nBlock B",CN\r\nB Ltd,2 Road,XX\r\n'
    assert problems(refusal(app, data)) == [(4, "country_code")]


def test_only_the_first_hundred_problems_are_listed_with_the_total(app):
    rows = [facility_row(name=f"F{i} Ltd", country_code="XX") for i in range(150)]
    refused = refusal(app, facility_csv(rows))
    assert refused.total == 150
    assert len(refused.errors) == 100
    assert [e.line for e in refused.errors] == list(range(2, 102))
    with app.app_context():
        assert "150 problems were found, the first 100 are listed" in refused.message


# --- pages and API --------------------------------------------------------------------------


def _upload(client, url, data: bytes, filename="facilities.csv", **fields):
    return post_form(
        client,
        url,
        {**fields, "file": (io.BytesIO(data), filename)},
        form_page=url,
        content_type="multipart/form-data",
    )


def _upload_and_work(app, client, data: bytes):
    """Upload, confirm the proposed columns (the job is queued and the page sends to it), run the
    worker once, show the job."""
    queued = upload_and_confirm(client, data)
    run_worker(app)
    return client.get(queued.headers["Location"])


def test_page_imports_and_shows_the_counts(app, coordinator, client_for):
    client = client_for(coordinator)
    page = client.get("/imports/facilities")
    assert page.status_code == 200
    assert 'enctype="multipart/form-data"' in page.get_data(as_text=True)
    data = facility_csv([facility_row(), facility_row(name="Second Ltd")])
    response = _upload_and_work(app, client, data)
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "The file facilities.csv was imported" in text
    assert re.search(r"Sites added</th><td class=\"number\">2<", text)
    assert count_rows(app, Site) == 2


def test_page_shows_the_problems_and_saves_nothing(app, coordinator, client_for):
    client = client_for(coordinator)
    before = _counts(app)
    data = facility_csv([facility_row(), facility_row(name="B Ltd", country_code="XX")])
    response = _upload_and_work(app, client, data)
    assert response.status_code == 200  # the job's page: the job failed
    text = response.get_data(as_text=True)
    assert "The file was not imported" in text
    assert re.search(r'<th scope="row" class="number">3</th>\s*<td><code>country_code</code></td>', text)
    # Only the confirmation of the columns is recorded.
    sites, pairs_before, entries = before
    _nothing_written(app, (sites, pairs_before, entries + 1))
    with app.app_context():
        last = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1)).one()
        assert last.action == "import.columns_confirmed"


def test_page_requires_a_file(coordinator, client_for):
    client = client_for(coordinator)
    response = post_form(client, "/imports/facilities", {}, form_page="/imports/facilities")
    assert response.status_code == 422
    assert "Choose a file to import." in response.get_data(as_text=True)


def test_page_refuses_files_over_the_size_limit(app, coordinator, client_for):
    client = client_for(coordinator)
    limit = app.config["MAX_CONTENT_LENGTH"]
    app.config["MAX_CONTENT_LENGTH"] = 2000  # a small limit keeps the test's own upload in memory
    try:
        response = _upload(client, "/imports/facilities", facility_csv([facility_row()] * 40))
    finally:
        app.config["MAX_CONTENT_LENGTH"] = limit
    assert response.status_code == 413
    assert "What you sent is too large." in response.get_data(as_text=True)
    assert count_rows(app, Site) == 0


def test_page_in_another_language_keeps_the_structure(app, create_user, client_for):
    coordinator = create_user(UserRole.coordinator, locale="es")
    client = client_for(coordinator)
    data = facility_csv(
        [facility_row(), facility_row(name="B Ltd", country_code="XX"), facility_row(name="C", lat="x")]
    )
    response = _upload_and_work(app, client, data)
    assert response.status_code == 200  # the job's page: the job failed
    text = response.get_data(as_text=True)
    assert '<html lang="es">' in text
    lines = re.findall(r'<th scope="row" class="number">(\d+)</th>\s*<td><code>(\w+)</code></td>', text)
    assert lines == [("3", "country_code"), ("4", "lat"), ("4", "lng")]


@pytest.mark.parametrize("role", ["admin", "monitor", "affiliate", "supplier"])
def test_other_roles_get_404(create_user, client_for, api_client, role):
    user = create_user(role)
    client = client_for(user)
    assert client.get("/imports/facilities").status_code == 404
    response = api_client(user).post(
        "/api/v1/imports/facilities",
        data={"file": (io.BytesIO(facility_csv([facility_row()])), "f.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 404


def test_api_imports_a_file(app, coordinator, api_client):
    client = api_client(coordinator)
    data = facility_csv([facility_row(os_id="MX2021100ABCDEF", country_code="MX")])
    response = client.post(
        "/api/v1/imports/facilities",
        data={"file": (io.BytesIO(data), "f.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {
        "rows": 1,
        "created": 1,
        "updated": 0,
        "unchanged": 0,
        "skipped_closed": 0,
        "duplicates_proposed": 0,
        "names_added": 0,
        "repeats_merged": 0,
        "warnings": [],
    }
    assert [s.os_id for s in sites(app)] == ["MX2021100ABCDEF"]


def test_api_refusal_lists_problems_by_line_and_column(app, coordinator, api_client):
    client = api_client(coordinator)
    before = _counts(app)
    rows = [
        facility_row(os_id="CN2019303AAAAAA"),
        facility_row(name="B Ltd", country_code="XX"),
        facility_row(os_id="CN2019303AAAAAA", name="C Ltd"),
    ]
    response = client.post(
        "/api/v1/imports/facilities",
        data={"file": (io.BytesIO(facility_csv(rows)), "f.csv")},
        content_type="multipart/form-data",
        headers={"Accept-Language": "es"},
    )
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == 422
    assert sorted(error["errors"]) == ["3.country_code", "4.os_id"]
    assert all(isinstance(m, str) and m for messages in error["errors"].values() for m in messages)
    _nothing_written(app, before)


def test_api_needs_a_multipart_file(coordinator, api_client):
    client = api_client(coordinator)
    response = client.post("/api/v1/imports/facilities", json={"file": "name,address"})
    assert response.status_code == 400
    response = client.post(
        "/api/v1/imports/facilities", data={"other": "x"}, content_type="multipart/form-data"
    )
    assert response.status_code == 422
    assert set(response.get_json()["error"]["errors"]) == {"file", "other"}


def test_openapi_documents_the_upload(app):
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    operation = document["paths"]["/api/v1/imports/facilities"]["post"]
    body = operation["requestBody"]
    assert list(body["content"]) == ["multipart/form-data"] and body["required"] is True
    ref = body["content"]["multipart/form-data"]["schema"]["$ref"].rsplit("/", 1)[1]
    schema = document["components"]["schemas"][ref]
    assert (schema["properties"]["file"]["type"], schema["properties"]["file"]["format"]) == (
        "string",
        "binary",
    )
    assert operation["x-roles"] == ["coordinator"]
    assert "422" in operation["responses"]


def test_the_api_reads_the_upload_itself(coordinator, api_client):
    # The route leaves the body to the view (raw_body): it is never parsed as JSON.
    response = api_client(coordinator).post(
        "/api/v1/imports/facilities", data=b"{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert response.get_json()["error"]["errors"] == {"file": ["Send the file as multipart/form-data."]}
