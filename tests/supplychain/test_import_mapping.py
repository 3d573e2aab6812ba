"""The column-mapping step of a facility import: pages, API, saved mappings, XLSX and roles."""

from __future__ import annotations

import html
import io
import re
from datetime import date, datetime
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from monitoring.accounts.models import UserRole
from monitoring.core.audit import AuditEntry
from monitoring.core.column_mapping import SavedMapping
from monitoring.core.db import db
from monitoring.core.jobs import Job, JobState
from monitoring.supplychain.models import Site
from tests.conftest import post_form
from tests.jobs.conftest import job_of, run_worker
from tests.supplychain.helpers import count_rows

_SELECT = re.compile(r'<select id="map_(\w+)" name="map_\w+"[^>]*>(.*?)</select>', re.S)
_SELECTED = re.compile(r'<option value="([^"]*)" selected>')

# Open Supply Hub's download layout with its columns renamed, as a spreadsheet user leaves it.
RENAMED_HEADER = ["Factory name", "Location", "Land", "Staff", "OS Hub ID", "Sector", "Remarks"]


def renamed_csv(rows: list[list[str]], header: list[str] = RENAMED_HEADER, delimiter: str = ",") -> bytes:
    lines = [delimiter.join(header), *(delimiter.join(r) for r in rows)]
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode()


RENAMED_ROWS = [
    [
        "Golden Crown Electronics",
        "No. 5 Industrial Zone",
        "MYANMAR",
        "Less than 1000",
        "",
        "Electronics",
        "a",
    ],
    ["Bac Ninh Display", "Lot A2 Que Vo IP", "vn", "More than 10000", "", "Electronics", "b"],
    ["Dresden Halbleiter GmbH", "Koenigsbruecker Str. 180", "DEU", "1001-5000", "", "Semiconductors", ""],
]


def xlsx_bytes(header: list[str], rows: list[list[Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for values in rows:
        sheet.append(values)
    book.create_sheet("Other").append(["ignored"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --- helpers (other import tests use them too) ------------------------------------------------


def upload(client: Any, data: bytes, filename: str = "facilities.csv") -> Any:
    url = "/imports/facilities"
    return post_form(
        client, url, {"file": (io.BytesIO(data), filename)}, form_page=url, content_type="multipart/form-data"
    )


def proposed(page_text: str) -> dict[str, str]:
    """The column selected for each field on the mapping page."""
    chosen = {}
    for key, options in _SELECT.findall(page_text):
        found = _SELECTED.search(options)
        chosen[key] = html.unescape(found.group(1)) if found else ""
    return chosen


def confirm(client: Any, columns_url: str, changes: dict[str, str] | None = None, **extra: str) -> Any:
    """Post the proposed mapping (with ``changes``) from the mapping page."""
    page = client.get(columns_url)
    assert page.status_code == 200, page.get_data(as_text=True)
    chosen = {**proposed(page.get_data(as_text=True)), **(changes or {})}
    data = {f"map_{key}": value for key, value in chosen.items()}
    return post_form(client, columns_url, {**data, "action": "confirm", **extra}, form_page=columns_url)


def upload_and_confirm(client: Any, data: bytes, filename: str = "facilities.csv") -> Any:
    """Upload through the page and confirm the proposed columns: the answer sends to the job."""
    uploaded = upload(client, data, filename)
    assert uploaded.status_code == 302, uploaded.get_data(as_text=True)
    confirmed = confirm(client, uploaded.headers["Location"])
    assert confirmed.status_code == 302, confirmed.get_data(as_text=True)
    return confirmed


def _job_id(location: str) -> int:
    return int(re.search(r"/imports/jobs/(\d+)", location).group(1))


def _sites(app) -> dict[str, Site]:
    with app.app_context():
        return {s.name: s for s in db.session.scalars(select(Site))}


# --- pages ---------------------------------------------------------------------------------


def test_an_upload_waits_for_its_columns_and_nothing_is_imported_before(app, coordinator, client_for):
    client = client_for(coordinator)
    uploaded = upload(client, renamed_csv(RENAMED_ROWS))
    assert uploaded.status_code == 302
    location = uploaded.headers["Location"]
    assert location.endswith("/columns")
    job_id = _job_id(location)
    assert job_of(app, job_id).state == JobState.waiting
    run_worker(app)  # a held job is not claimed
    assert job_of(app, job_id).state == JobState.waiting
    assert count_rows(app, Site) == 0
    # The job's own page sends to the mapping step while it waits.
    job_page = client.get(f"/imports/jobs/{job_id}")
    assert job_page.status_code == 302 and job_page.headers["Location"].endswith("/columns")


def test_renamed_os_hub_columns_are_proposed_and_unmapped_ones_listed(app, coordinator, client_for):
    client = client_for(coordinator)
    location = upload(client, renamed_csv(RENAMED_ROWS)).headers["Location"]
    page = client.get(location)
    text = page.get_data(as_text=True)
    chosen = proposed(text)
    assert chosen["name"] == "Factory name"
    assert chosen["country_code"] == "Land"  # by its values: country names and codes in any case
    assert chosen["number_of_workers"] == "Staff"  # OS Hub's worker ranges
    assert chosen["os_id"] == "OS Hub ID"
    assert chosen["address"] == ""  # "Location" is not a name we know
    assert "No column is matched to these required fields: Address." in text
    unmapped = re.search(r'<ul class="unmapped-columns">(.*?)</ul>', text, re.S).group(1)
    assert re.findall(r"<code>(.*?)</code>", unmapped) == ["Location", "Sector", "Remarks"]
    # Two sample values of the chosen column.
    assert '<span class="sample">MYANMAR</span>; <span class="sample">vn</span>' in text


def test_missing_required_fields_are_named_and_nothing_is_queued(app, coordinator, client_for):
    client = client_for(coordinator)
    location = upload(client, renamed_csv(RENAMED_ROWS)).headers["Location"]
    response = confirm(client, location)
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "Choose the column that holds Address: it is required." in text
    assert job_of(app, _job_id(location)).state == JobState.waiting
    run_worker(app)
    assert count_rows(app, Site) == 0


def test_a_corrected_mapping_imports_and_is_saved_for_the_next_file(app, coordinator, client_for):
    client = client_for(coordinator)
    location = upload(client, renamed_csv(RENAMED_ROWS)).headers["Location"]
    confirmed = confirm(client, location, {"address": "Location"}, save_as="Our OS Hub export")
    assert confirmed.status_code == 302, confirmed.get_data(as_text=True)
    job_id = _job_id(confirmed.headers["Location"])
    assert job_of(app, job_id).state == JobState.queued
    run_worker(app)
    assert job_of(app, job_id).state == JobState.done, job_of(app, job_id).error
    sites = _sites(app)
    assert sites["Golden Crown Electronics"].country == "MM"
    assert sites["Golden Crown Electronics"].address == "No. 5 Industrial Zone"
    assert sites["Bac Ninh Display"].country == "VN"
    assert sites["Dresden Halbleiter GmbH"].country == "DE"
    assert sites["Dresden Halbleiter GmbH"].workers_approx == 3000
    with app.app_context():
        saved = db.session.scalars(select(SavedMapping)).all()
        assert [(s.name, s.kind, s.organisation_id) for s in saved] == [
            ("Our OS Hub export", "facilities", coordinator.organisation_id)
        ]
        actions = set(db.session.scalars(select(AuditEntry.action)))
        assert {"import.columns_confirmed", "import.mapping_saved", "site.import"} <= actions

    # The next export of the same form (other rows, columns in another order) gets the saved mapping.
    order = [4, 0, 1, 2, 3, 5, 6]
    header = [RENAMED_HEADER[i] for i in order]
    again = renamed_csv([[r[i] for i in order] for r in RENAMED_ROWS[:1]], header, delimiter=";")
    location = upload(client, again).headers["Location"]
    text = client.get(location).get_data(as_text=True)
    assert "as in the saved mapping “Our OS Hub export”" in text
    assert proposed(text)["address"] == "Location"


def test_an_exact_layout_is_confirmed_in_one_click(app, coordinator, client_for):
    client = client_for(coordinator)
    data = b"name,address,country_code\r\nOne Ltd,1 Road,CN\r\n"
    location = upload(client, data).headers["Location"]
    page = client.get(location).get_data(as_text=True)
    assert "Every column of the file is a field, by its own name: confirm to import." in page
    assert "None: every column of the file is imported." in page
    response = post_form(
        client,
        location,
        {**{f"map_{k}": v for k, v in proposed(page).items()}, "action": "confirm"},
        form_page=location,
    )
    assert response.status_code == 302
    run_worker(app)
    assert set(_sites(app)) == {"One Ltd"}


def test_a_column_chosen_twice_or_not_in_the_file_is_refused(app, coordinator, client_for):
    client = client_for(coordinator)
    location = upload(client, renamed_csv(RENAMED_ROWS)).headers["Location"]
    response = confirm(client, location, {"address": "Factory name", "city": "Nowhere"})
    assert response.status_code == 422
    text = html.unescape(response.get_data(as_text=True))
    assert "The column Factory name is already chosen for Name." in text
    assert "Nowhere is not a column of the file." in text
    assert job_of(app, _job_id(location)).state == JobState.waiting


def test_a_held_import_can_be_cancelled(app, coordinator, client_for):
    client = client_for(coordinator)
    location = upload(client, renamed_csv(RENAMED_ROWS)).headers["Location"]
    response = post_form(client, location, {"action": "cancel"}, form_page=location)
    assert response.status_code == 302
    job = job_of(app, _job_id(location))
    assert job.state == JobState.failed and job.storage_key is None
    assert client.get(location).status_code == 302  # no longer waiting: to the job's page


def test_a_saved_mapping_can_be_chosen(app, coordinator, client_for):
    from monitoring.core import column_mapping

    with app.app_context():
        chosen = column_mapping.save_mapping(
            None,
            coordinator.organisation_id,
            "facilities",
            "Odd",
            {"name": "Remarks", "address": "Sector", "country_code": "Land"},
        )
        db.session.commit()
    client = client_for(coordinator)
    location = upload(client, renamed_csv(RENAMED_ROWS)).headers["Location"]
    text = client.get(f"{location}?saved={chosen.id}").get_data(as_text=True)
    assert proposed(text)["name"] == "Remarks"


# --- XLSX ----------------------------------------------------------------------------------


def test_a_workbook_imports_with_dates_and_numbers_as_text(app, coordinator, client_for):
    client = client_for(coordinator)
    data = xlsx_bytes(
        ["name", "address", "country", "lat", "lng", "number_of_workers", "contribution_date", "extra"],
        [
            ["Book One Ltd", "1 Road", "Thailand", 13.75, 100.5, 1200, datetime(2024, 3, 1), None],
            ["Book Two Ltd", "2 Road", "cz", None, None, "1001-5000", date(2024, 3, 2), "x"],
            [None, None, None, None, None, None, None, None],
        ],
    )
    location = upload(client, data, "list.xlsx").headers["Location"]
    text = client.get(location).get_data(as_text=True)
    assert proposed(text)["country_code"] == "country"
    assert "1200" in text  # samples read as text, a whole number without ".0"
    confirmed = confirm(client, location)
    assert confirmed.status_code == 302, confirmed.get_data(as_text=True)
    run_worker(app)
    job = job_of(app, _job_id(confirmed.headers["Location"]))
    assert job.state == JobState.done, job.error
    sites = _sites(app)
    assert sites["Book One Ltd"].country == "TH" and sites["Book One Ltd"].workers_approx == 1200
    assert float(sites["Book One Ltd"].latitude) == pytest.approx(13.75)
    assert sites["Book Two Ltd"].country == "CZ"


def test_a_workbook_is_recognised_by_its_content_not_its_name(app, coordinator, client_for):
    client = client_for(coordinator)
    data = xlsx_bytes(["name", "address", "country_code"], [["Named Ltd", "1 Road", "MX"]])
    location = upload(client, data, "list.csv").headers["Location"]
    assert proposed(client.get(location).get_data(as_text=True))["name"] == "name"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"PK\x03\x04not really a zip file at all", "is a ZIP archive but not an Excel workbook"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "old Excel workbook (.xls)"),
    ],
)
def test_a_file_that_is_not_a_workbook_is_refused_clearly(app, coordinator, client_for, data, message):
    client = client_for(coordinator)
    location = upload(client, data, "list.xlsx").headers["Location"]
    page = client.get(location)
    text = html.unescape(page.get_data(as_text=True))
    assert message in text
    assert "Confirm and import" not in text
    response = confirm(client, location, {"name": "x"})
    assert response.status_code == 422
    assert job_of(app, _job_id(location)).state == JobState.waiting


# --- roles ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [UserRole.monitor, UserRole.affiliate, UserRole.supplier, UserRole.admin])
def test_only_coordinators_import_facility_lists(app, coordinator, client_for, create_user, role):
    owner = client_for(coordinator)
    location = upload(owner, renamed_csv(RENAMED_ROWS)).headers["Location"]
    job_id = _job_id(location)
    other = client_for(create_user(role))
    assert other.get("/imports/facilities").status_code == 404
    assert other.get(location).status_code == 404
    assert other.get(f"/imports/jobs/{job_id}").status_code == 404
    assert job_of(app, job_id).state == JobState.waiting


def test_another_coordinator_does_not_see_the_job(app, coordinator, client_for, create_user):
    owner = client_for(coordinator)
    location = upload(owner, renamed_csv(RENAMED_ROWS)).headers["Location"]
    other = client_for(create_user(UserRole.coordinator))
    assert other.get(location).status_code == 404
    assert other.get(f"/imports/jobs/{_job_id(location)}").status_code == 404
    assert post_form(other, location, {"action": "cancel"}, form_page="/").status_code == 404


# --- API -----------------------------------------------------------------------------------


def _api_upload(client: Any, data: bytes, filename: str = "facilities.csv") -> Any:
    return client.post(
        "/api/v1/imports/facilities/jobs",
        data={"file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def test_api_proposes_the_mapping_and_takes_the_confirmed_one(app, coordinator, api_client):
    client = api_client(coordinator)
    uploaded = _api_upload(client, renamed_csv(RENAMED_ROWS))
    assert uploaded.status_code == 201, uploaded.get_json()
    body = uploaded.get_json()
    job_id = body["job_id"]
    assert body["state"] == "waiting"
    assert body["mapping"]["country_code"] == "Land"
    assert body["missing_fields"] == ["address"]
    assert body["unmapped_columns"] == ["Location", "Sector", "Remarks"]
    assert {"name": "Land", "samples": ["MYANMAR", "vn"]} in body["columns"]
    assert client.get(f"/api/v1/jobs/{job_id}/columns").get_json()["mapping"] == body["mapping"]

    refused = client.post(f"/api/v1/jobs/{job_id}/columns", json={"mapping": body["mapping"]})
    assert refused.status_code == 422
    errors = refused.get_json()["error"]["errors"]
    assert errors["mapping.address"] == ["Choose the column that holds Address: it is required."]
    assert job_of(app, job_id).state == JobState.waiting

    mapping = {**body["mapping"], "address": "Location"}
    confirmed = client.post(f"/api/v1/jobs/{job_id}/columns", json={"mapping": mapping, "save_as": "API"})
    assert confirmed.status_code == 202, confirmed.get_json()
    assert confirmed.get_json()["state"] == "queued"
    run_worker(app)
    assert client.get(f"/api/v1/jobs/{job_id}").get_json()["state"] == "done"
    assert len(_sites(app)) == 3

    # The next file with the same columns: the saved mapping is proposed.
    again = _api_upload(client, renamed_csv(RENAMED_ROWS[:1])).get_json()
    assert again["saved_mapping_id"] is not None
    assert again["mapping"]["address"] == "Location"
    assert again["saved_mappings"] == [{"id": again["saved_mapping_id"], "name": "API"}]
    cancelled = client.post(f"/api/v1/jobs/{again['job_id']}/cancel")
    assert cancelled.status_code == 200 and cancelled.get_json()["state"] == "failed"
    assert client.get(f"/api/v1/jobs/{again['job_id']}/columns").status_code == 422


def test_api_refuses_unknown_fields_and_other_users(app, coordinator, api_client, create_user):
    client = api_client(coordinator)
    job_id = _api_upload(client, renamed_csv(RENAMED_ROWS)).get_json()["job_id"]
    bad = client.post(f"/api/v1/jobs/{job_id}/columns", json={"mapping": {"colour": "Land"}})
    assert bad.status_code == 422
    assert any("colour is not a field" in m for m in bad.get_json()["error"]["errors"]["mapping"])
    for role in (UserRole.coordinator, UserRole.monitor):
        other = api_client(create_user(role))
        assert other.get(f"/api/v1/jobs/{job_id}/columns").status_code == 404
        assert other.post(f"/api/v1/jobs/{job_id}/columns", json={"mapping": {}}).status_code == 404
    monitor = api_client(create_user(UserRole.monitor))
    assert _api_upload(monitor, renamed_csv(RENAMED_ROWS)).status_code == 404
    with app.app_context():
        assert db.session.get(Job, job_id).state == JobState.waiting


# --- reading --------------------------------------------------------------------------------


class _OneWay(io.RawIOBase):
    """A stream that cannot seek (as a decrypted upload is)."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def readinto(self, buffer) -> int:
        chunk = self._data.read(min(len(buffer), 7))  # short reads, as a stream may give
        buffer[: len(chunk)] = chunk
        return len(chunk)


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_files_are_read_from_streams_that_cannot_seek(app, kind):
    from monitoring.supplychain.import_reading import ErrorLog, Progress
    from monitoring.supplychain.import_workbook import open_table

    header, rows = ["name", "address", "country_code"], [["Ünï Ltd", "1 Road", "CZ"], ["Two", "2 Road", "TH"]]
    if kind == "csv":
        data = ("\ufeff" + "\r\n".join(";".join(r) for r in [header, *rows]) + "\r\n").encode()
    else:
        data = xlsx_bytes(header, rows)
    errors = ErrorLog()
    with app.test_request_context():
        records = list(open_table(io.BufferedReader(_OneWay(data)), errors, Progress()).records())
    assert errors.total == 0
    assert [cells for _line, cells in records] == [header, *rows]
    assert [line for line, _cells in records] == [1, 2, 3]


def test_cells_read_as_a_csv_export_would_hold_them():
    from monitoring.supplychain.import_workbook import cell_text

    assert cell_text(None) == ""
    assert cell_text(1200.0) == "1200"
    assert cell_text(16.5) == "16.5"
    assert cell_text(True) == "True"
    assert cell_text(datetime(2024, 3, 1)) == "2024-03-01"
    assert cell_text(datetime(2024, 3, 1, 8, 30)) == "2024-03-01 08:30:00"
    assert cell_text(date(2024, 3, 2)) == "2024-03-02"


def test_the_worker_refuses_a_mapped_column_that_appears_twice(app):
    from monitoring.supplychain.import_mapping import read_mapped_header
    from monitoring.supplychain.import_reading import ErrorLog

    errors = ErrorLog()
    records = iter([(1, ["Name", "Address", "Name", "Land"])])
    mapping = {"name": "Name", "address": "Address", "country_code": "Land"}
    with app.test_request_context():
        assert read_mapped_header(records, errors, mapping) is None
        assert [str(e.message) for e in errors.errors] == ["The column Name appears twice."]
        header = read_mapped_header(iter([(1, ["Land", "Name", "Address", "x"])]), ErrorLog(), mapping)
    assert header is not None and header.columns == {"name": 1, "address": 2, "country_code": 0}


def test_columns_without_a_name_that_hold_values_are_named_before_import(app, coordinator, api_client):
    data = b"name,address,,country_code,???,\r\nOne Ltd,1 Road,lost,CN,kept,\r\n"
    body = _api_upload(api_client(coordinator), data).get_json()
    assert body["nameless_columns"] == [3]
    assert body["unmapped_columns"] == ["???"]


def test_the_page_names_columns_without_a_name(app, coordinator, client_for):
    client = client_for(coordinator)
    location = upload(client, b"name,address,,country_code\r\nOne Ltd,1 Road,lost,CN\r\n").headers["Location"]
    text = client.get(location).get_data(as_text=True)
    assert "Column 3 of the file has values but no name in the header line" in text
