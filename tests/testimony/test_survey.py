"""Survey import: KoboToolbox CSV exports become sealed reports, whole or not at all."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy import func, select

from monitoring.accounts.models import Organisation, User, UserRole
from monitoring.core import jobs
from monitoring.core.audit import AuditEntry
from monitoring.core.db import db
from monitoring.supplychain import operations as supplychain
from monitoring.supplychain.models import SiteKind
from monitoring.testimony import sealing, survey
from monitoring.testimony.models import IssueCategory, ReportChannel, SurveyImport, WorkerReport
from tests.conftest import csrf_token, unlocked_as

OS_ID = "TH2024ABCDE0001"
KOBO_META = ["start", "end", "today", "deviceid"]
KOBO_TAIL = [
    "_id",
    "_uuid",
    "_submission_time",
    "_validation_status",
    "_notes",
    "_status",
    "_submitted_by",
    "__version__",
    "_tags",
    "_index",
]


@dataclass
class Setup:
    monitor: User
    organisation_id: int
    organisation_name: str
    site_id: int
    other_site_id: int


@pytest.fixture
def setup(app, monitor_with_keys) -> Setup:
    with app.app_context():
        monitor = db.session.get(User, monitor_with_keys.id)
        site = supplychain.create_site(
            None,
            supplychain.SiteData(
                name="Lanna Electronics Co., Ltd.", country="TH", kind=SiteKind.component, os_id=OS_ID
            ),
        )
        other = supplychain.create_site(
            None, supplychain.SiteData(name="Penang Board Works", country="MY", kind=SiteKind.final_assembly)
        )
        db.session.commit()
        return Setup(monitor_with_keys, monitor.organisation_id, monitor.organisation.name, site.id, other.id)


def kobo_csv(
    rows: list[dict[str, str]], *, questions: list[str], delimiter: str = ";", bom: bool = False
) -> bytes:
    """A file as KoboToolbox exports it: its metadata columns around the form's questions."""
    header = KOBO_META + questions + KOBO_TAIL
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(header)
    for n, row in enumerate(rows, start=1):
        meta = {
            "start": "2025-05-02T09:01:12.123+07:00",
            "end": "2025-05-02T09:30:40.456+07:00",
            "today": "2025-05-02",
            "deviceid": "collect:abc",
            "_id": str(1000 + n),
            "_uuid": f"0c5e7a2c-0000-4000-8000-{n:012d}",
            "_submission_time": "2025-05-03T02:11:09",
            "_validation_status": "",
            "_status": "submitted_via_web",
            "_submitted_by": "enumerator1",
            "__version__": "vAbc",
            "_index": str(n),
        }
        meta.update(row)
        writer.writerow([meta.get(column, "") for column in header])
    data = out.getvalue().encode()
    return (b"\xef\xbb\xbf" + data) if bom else data


GROUPED = [
    "interview/site_os_id",
    "interview/testimony",
    "interview/issues",
    "interview/issues/wages",
    "interview/issues/working_hours",
    "interview/issues/retained_documents",
    "consent/consent_share_buyers",
    "consent/consent_share_supplier",
    "consent/consent_contact",
    "identity/worker_name",
    "identity/worker_contact",
    "identity/gender",
    "identity/age_band",
    "language",
    "retaliation_risk",
]


def valid_file() -> bytes:
    return kobo_csv(
        [
            {
                "interview/site_os_id": OS_ID,
                "interview/testimony": "We work 14 hours a day in the peak season.\nNo day off for weeks.",
                "interview/issues": "working_hours wages",
                "interview/issues/wages": "1",
                "interview/issues/working_hours": "1",
                "interview/issues/retained_documents": "0",
                "consent/consent_share_buyers": "yes",
                "consent/consent_share_supplier": "no",
                "consent/consent_contact": "yes",
                "identity/worker_name": "Mya Thandar",
                "identity/worker_contact": "Viber +66 90 111 2222",
                "identity/gender": "woman",
                "identity/age_band": "18_24",
                "language": "my",
                "retaliation_risk": "high",
            },
            {
                "interview/site_os_id": OS_ID.lower(),
                "interview/testimony": "The agency took 3 months of wages as a fee.",
                "interview/issues": "recruitment_fees",
                "consent/consent_share_buyers": "no",
                "language": "",
                "today": "2025-04-30",
            },
            {
                "interview/site_os_id": OS_ID,
                "interview/testimony": "",
                "interview/issues": "retained_documents",
            },
        ],
        questions=GROUPED,
        bom=True,
    )


def survey_reports(app) -> list[WorkerReport]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(WorkerReport)
                .where(WorkerReport.channel == ReportChannel.survey)
                .order_by(WorkerReport.id)
            )
        )


def counts(app) -> tuple[int, int]:
    with app.app_context():
        return (
            db.session.scalar(select(func.count(WorkerReport.id))),
            db.session.scalar(select(func.count(SurveyImport.id))),
        )


API = "/api/v1/testimony/survey-imports"


def api_upload(api, data: bytes, **fields):
    return api.post(
        API, data={"file": (io.BytesIO(data), "export.csv"), **fields}, content_type="multipart/form-data"
    )


def run_worker(app) -> list[jobs.Outcome]:
    with app.app_context():
        return jobs.work_once()


def api_import_job(app, api, data: bytes, **fields) -> dict:
    """Upload by the API and run the worker; the job's status when it is over."""
    response = api_upload(api, data, **fields)
    assert response.status_code == 202, response.get_json()
    run_worker(app)
    return api.get(f"{API}/jobs/{response.get_json()['id']}").get_json()


def run_import(app, data: bytes, setup: Setup, tmp_path, *extra: str):
    path = tmp_path / "export.csv"
    path.write_bytes(data)
    return app.test_cli_runner().invoke(
        args=[
            "import",
            "survey",
            str(path),
            "--organisation",
            setup.organisation_name,
            "--user",
            setup.monitor.email,
            *extra,
        ]
    )


# --- the command line --------------------------------------------------------------------------


def test_a_kobo_export_becomes_sealed_reports_in_one_import(app, setup, tmp_path):
    result = run_import(app, valid_file(), setup, tmp_path, "--language", "th")
    assert result.exit_code == 0, result.output
    assert "imported 3 reports" in result.output
    assert "Sealing reports" in result.output  # the progress bar
    first, second, third = survey_reports(app)
    with app.app_context():
        [imported] = db.session.scalars(select(SurveyImport)).all()
        assert imported.rows == 3 and imported.imported_by_id == setup.monitor.id
        assert imported.organisation_id == setup.organisation_id
        audit = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "survey.import"))
        assert audit is not None and audit.actor_id == setup.monitor.id
    for report in (first, second, third):
        assert report.survey_import_id == imported.id and report.site_id == setup.site_id
        assert report.created_by_id == setup.monitor.id and report.organisation_id == setup.organisation_id
        assert report.acknowledge_due_dt is None  # the Directive's clocks are for direct reports
    assert first.collected_date == date(2025, 5, 2) and second.collected_date == date(2025, 4, 30)
    assert (first.language, second.language) == ("my", "th")
    assert {c.category for c in first.categories} == {IssueCategory.working_hours, IssueCategory.wages}
    assert (first.consent_share_buyers, first.consent_share_supplier, first.consent_contact) == (
        True,
        False,
        True,
    )
    assert first.retaliation_risk.value == "high" and second.retaliation_risk is None
    assert {c.category for c in third.categories} == {IssueCategory.retained_documents}
    with unlocked_as(app, setup.monitor) as monitor:
        opened = sealing.open_report(monitor, db.session.get(WorkerReport, first.id), reason="test")
        assert opened.testimony.startswith("We work 14 hours a day") and "No day off" in opened.testimony
        assert opened.identity.name == "Mya Thandar" and opened.identity.age_band == "18_24"
        assert (
            sealing.open_report(monitor, db.session.get(WorkerReport, second.id), reason="t").identity is None
        )
    assert b"Mya Thandar" not in first.identity_sealed and b"14 hours" not in first.testimony_sealed


def test_answers_imported_before_are_skipped_when_the_survey_is_exported_again(app, setup, tmp_path):
    first = kobo_csv(
        [{"testimony": "No day off for weeks.", "site_os_id": OS_ID}],
        questions=["site_os_id", "testimony"],
    )
    assert run_import(app, first, setup, tmp_path).exit_code == 0
    # A week later the export holds the old answer and a new one.
    grown = kobo_csv(
        [
            {"testimony": "No day off for weeks.", "site_os_id": OS_ID},
            {"testimony": "The dormitory has no fire exit.", "site_os_id": OS_ID},
        ],
        questions=["site_os_id", "testimony"],
    )
    result = run_import(app, grown, setup, tmp_path)
    assert result.exit_code == 0, result.output
    assert "imported 1 reports" in result.output and "1 answers imported before were skipped" in result.output
    assert len(survey_reports(app)) == 2
    with app.app_context():
        latest = db.session.scalars(select(SurveyImport).order_by(SurveyImport.id.desc())).first()
        assert (latest.rows, latest.skipped) == (1, 1)
        # Kobo's id is not stored, only a digest of it.
        digests = db.session.scalars(select(WorkerReport.source_digest)).all()
        assert all(d and len(d) == 64 and "0c5e7a2c" not in d for d in digests)
    # Nothing new: refused with a clear message, nothing written.
    again = run_import(app, grown, setup, tmp_path)
    assert again.exit_code != 0 and "imported before" in again.output
    assert len(survey_reports(app)) == 2


def test_the_same_answer_twice_in_one_file_is_refused(app, setup, tmp_path):
    data = kobo_csv(
        [{"testimony": "A", "site_os_id": OS_ID, "_uuid": "same"}, {"testimony": "B", "site_os_id": OS_ID}],
        questions=["site_os_id", "testimony"],
    ).replace(b"0c5e7a2c-0000-4000-8000-000000000002", b"same")
    result = run_import(app, data, setup, tmp_path)
    assert result.exit_code != 0
    assert re.search(r"^\s+3\s+_uuid\s+This answer \(_uuid same\) is also on line 2", result.output, re.M)
    assert survey_reports(app) == []


def test_comma_separated_detail_columns_and_named_workplaces(app, setup, tmp_path):
    questions = ["testimony", "issues/wages", "issues/child_labour", "site_name", "country", "collected_date"]
    data = kobo_csv(
        [
            {
                "testimony": "Pay slips are wrong.",
                "issues/wages": "1",
                "issues/child_labour": "0",
                "site_name": "LANNA ELECTRONICS",
                "country": "th",
                "today": "",
            },
            {
                "testimony": "Children work at night.",
                "issues/wages": "0",
                "issues/child_labour": "1",
                "site_name": "Small workshop behind the market",
                "country": "TH",
                "collected_date": "2025-01-15",
            },
        ],
        questions=questions,
        delimiter=",",
    )
    result = run_import(app, data, setup, tmp_path)
    assert result.exit_code == 0, result.output
    matched, described = survey_reports(app)
    assert matched.site_id == setup.site_id  # legal form and case do not matter
    assert {c.category for c in matched.categories} == {IssueCategory.wages}
    assert matched.collected_date == date(2025, 5, 2)  # "today" empty: the date of "start"
    assert described.site_id is None and described.country == "TH"
    assert described.collected_date == date(2025, 1, 15)
    with unlocked_as(app, setup.monitor) as monitor:
        opened = sealing.open_report(monitor, db.session.get(WorkerReport, described.id), reason="test")
    assert opened.workplace == "Small workshop behind the market"


def test_the_site_of_the_whole_import(app, setup, tmp_path):
    data = kobo_csv([{"testimony": "Night shifts without pay."}], questions=["testimony"])
    result = run_import(app, data, setup, tmp_path, "--site", str(setup.other_site_id))
    assert result.exit_code == 0, result.output
    [report] = survey_reports(app)
    assert report.site_id == setup.other_site_id and report.country == "MY"
    with app.app_context():
        assert db.session.scalar(select(SurveyImport.site_id)) == setup.other_site_id
    result = run_import(app, data, setup, tmp_path, "--site", "XX0000000000000")
    assert result.exit_code == 1 and "no site" in result.output


def _refusal(result) -> list[tuple[str, str]]:
    """(line, column) of each problem in the command's table."""
    assert result.exit_code == 1, result.output
    rows = re.findall(r"^\s*(\d+|-)\s{2}(\S+)\s{2}", result.output, re.M)
    return [(line, column) for line, column in rows if line != "line"]


def test_bad_values_refuse_the_whole_file_with_line_numbers(app, setup, tmp_path):
    questions = ["site_os_id", "testimony", "issues", "consent_contact", "language", "gender"]
    data = kobo_csv(
        [
            {"site_os_id": OS_ID, "testimony": "Fine row,\nwith two lines."},
            {"site_os_id": "TH0000000000000", "testimony": "x", "today": "02/05/2025"},
            {"site_os_id": OS_ID, "testimony": "x", "issues": "wages overtime", "consent_contact": "maybe"},
            {"site_os_id": OS_ID, "testimony": "", "issues": "", "language": "klingon", "gender": "f"},
            {"testimony": "no workplace"},
        ],
        questions=questions,
    )
    result = run_import(app, data, setup, tmp_path)
    problems = _refusal(result)
    assert ("4", "site_os_id") in problems and ("4", "today") in problems
    assert ("5", "issues") in problems and ("5", "consent_contact") in problems
    assert ("6", "testimony") in problems and ("6", "language") in problems and ("6", "gender") in problems
    assert ("7", "site_os_id") in problems
    assert not [p for p in problems if p[0] in ("1", "2", "3")]  # the first row spans lines 2 and 3
    assert "nothing was imported" in result.output
    assert counts(app) == (0, 0)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "The file is empty."),
        (b'"start";"today";"testimony"\r\n', "no answers"),
        (
            b'"start";"today";"story"\r\n"x";"2025-01-01";"y"\r\n',
            "The column \u201ctestimony\u201d is missing",
        ),
        (b'"testimony";"site_os_id"\r\n"x";"' + OS_ID.encode() + b'"\r\n', "No date column"),
        ('"today";"testimony"\r\n"2025-01-01";"caf\u00e9"\r\n'.encode("latin-1"), "not UTF-8"),
        (b'"today";"testimony";"issues/overtime"\r\n"2025-01-01";"x";"1"\r\n', "not an issue category"),
        (b'"today";"testimony"\r\n"2025-01-01";"x";"extra"\r\n', "this row has 3 values"),
        (b'"today";"testimony"\r\n"2025-01-01";"unterminated\r\n', "not valid CSV"),
        (b'"today";"testimony";"testimony"\r\n"2025-01-01";"x";"y"\r\n', "appears twice"),
        (b'"today";"testimony"\r\n"2999-01-01";"x"\r\n', "in the future"),
    ],
)
def test_malformed_files_are_refused(app, setup, tmp_path, data, expected):
    result = run_import(app, data, setup, tmp_path, "--site", OS_ID)
    assert result.exit_code == 1
    assert expected.lower() in result.output.lower()
    assert counts(app) == (0, 0)


def test_too_many_rows(app, setup, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "SURVEY_MAX_ROWS", 2)
    data = kobo_csv([{"testimony": f"row {n}"} for n in range(3)], questions=["testimony"])
    result = run_import(app, data, setup, tmp_path, "--site", OS_ID)
    assert result.exit_code == 1 and "at most 2" in result.output
    assert counts(app) == (0, 0)


def test_only_a_monitor_of_the_organisation_imports(app, setup, tmp_path, create_user):
    data = kobo_csv([{"testimony": "x"}], questions=["testimony"])
    outsider = create_user(UserRole.monitor)
    path = tmp_path / "f.csv"
    path.write_bytes(data)
    for email in (outsider.email, create_user(UserRole.admin).email):
        result = app.test_cli_runner().invoke(
            args=[
                "import",
                "survey",
                str(path),
                "--organisation",
                setup.organisation_name,
                "--user",
                email,
                "--site",
                OS_ID,
            ]
        )
        assert result.exit_code == 1 and "Only monitors of this organisation" in result.output
    assert counts(app) == (0, 0)


def test_an_organisation_without_a_key_cannot_import(app, create_user, tmp_path):
    monitor = create_user(UserRole.monitor)
    with app.app_context():
        supplychain.create_site(
            None, supplychain.SiteData(name="X", country="TH", kind=SiteKind.component, os_id=OS_ID)
        )
        name = db.session.get(Organisation, monitor.organisation_id).name
        db.session.commit()
    path = tmp_path / "f.csv"
    path.write_bytes(kobo_csv([{"testimony": "x"}], questions=["testimony"]))
    result = app.test_cli_runner().invoke(
        args=["import", "survey", str(path), "--organisation", name, "--user", monitor.email, "--site", OS_ID]
    )
    assert result.exit_code == 1 and "has no key" in result.output


# --- the pages -----------------------------------------------------------------------------------


def _upload(client, data: bytes, **fields):
    token = csrf_token(client, "/testimony/survey-imports/new")
    return client.post(
        "/testimony/survey-imports/new",
        data={"csrf_token": token, "language": "th", **fields, "file": (io.BytesIO(data), "export.csv")},
        content_type="multipart/form-data",
    )


def test_monitor_uploads_a_survey_and_sees_the_result(app, setup, client_for):
    client = client_for(setup.monitor)
    page = client.get("/testimony/survey-imports/new").get_data(as_text=True)
    for question in ("testimony", "site_os_id", "consent_share_buyers", "issues"):
        assert f"<code>{question}</code>" in page
    assert "<code>recruitment_fees</code>" in page
    response = _upload(client, valid_file())
    assert response.status_code == 302
    job_url = response.headers["Location"]
    assert counts(app) == (0, 0)  # queued, not imported
    page = client.get(job_url).get_data(as_text=True)
    assert '<meta http-equiv="refresh" content="2">' in page and "<progress" in page
    run_worker(app)
    page = client.get(job_url).get_data(as_text=True)
    assert "http-equiv" not in page
    assert "3 reports were sealed and imported" in page
    link = re.search(r'href="(/testimony/survey-imports/\d+)"', page)
    assert link is not None
    assert "<strong>3</strong>" in client.get(link.group(1)).get_data(as_text=True)
    page = client.get("/testimony/survey-imports/").get_data(as_text=True)
    assert re.search(r'<td class="number">3</td>', page)
    assert counts(app) == (3, 1)


def test_a_refused_upload_shows_the_problems_by_line(app, setup, client_for):
    client = client_for(setup.monitor)
    data = kobo_csv(
        [{"site_os_id": OS_ID, "testimony": "ok"}, {"site_os_id": OS_ID, "testimony": "x", "issues": "nope"}],
        questions=["site_os_id", "testimony", "issues"],
    )
    response = _upload(client, data)
    assert response.status_code == 302  # the rows are checked by the worker
    run_worker(app)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "The file was refused; nothing was imported" in page
    assert re.search(r'<th scope="row">3</th><td><code>issues</code></td><td>[^<]*nope', page)
    assert counts(app) == (0, 0)
    # A file without a testimony column goes to the column-mapping step, which says so.
    response = _upload(client, b"today;site_os_id\r\n2024-01-01;" + OS_ID.encode())
    assert response.status_code == 302 and response.headers["Location"].endswith("/columns")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert '<a href="#map_testimony"><code>testimony</code></a>' in page
    # An empty file is refused at once, with nothing stored.
    response = _upload(client, b"", site="XX0000000000000")
    assert response.status_code == 422
    response = _upload(client, b"")
    assert response.status_code == 422 and "The file is empty" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(jobs.Job.id))) == 2


@pytest.mark.parametrize(
    "role", [UserRole.admin, UserRole.coordinator, UserRole.affiliate, UserRole.supplier]
)
def test_other_roles_get_404(app, setup, client_for, create_user, role, tmp_path):
    assert run_import(app, valid_file(), setup, tmp_path).exit_code == 0
    with app.app_context():
        import_id = db.session.scalar(select(SurveyImport.id))
    client = client_for(create_user(role))
    for url in (
        "/testimony/survey-imports/",
        "/testimony/survey-imports/new",
        f"/testimony/survey-imports/{import_id}",
    ):
        assert client.get(url).status_code == 404


def test_imports_of_another_organisation_are_invisible(
    app, setup, client_for, create_user, tmp_path, api_client
):
    assert run_import(app, valid_file(), setup, tmp_path).exit_code == 0
    with app.app_context():
        import_id = db.session.scalar(select(SurveyImport.id))
    outsider = create_user(UserRole.monitor)
    client = client_for(outsider)
    assert client.get(f"/testimony/survey-imports/{import_id}").status_code == 404
    assert "has not imported a survey yet" in client.get("/testimony/survey-imports/").get_data(as_text=True)
    api = api_client(outsider)
    assert api.get(f"/api/v1/testimony/survey-imports/{import_id}").status_code == 404
    assert api.get("/api/v1/testimony/survey-imports").get_json()["items"] == []
    colleague_api = api_client(setup.monitor)
    assert colleague_api.get(f"/api/v1/testimony/survey-imports/{import_id}").get_json()["rows"] == 3


# --- the API -----------------------------------------------------------------------------------


def test_api_imports_a_survey(app, setup, api_client):
    api = api_client(setup.monitor)
    status = api_import_job(app, api, valid_file(), language="th", site_id=str(setup.site_id))
    assert (status["state"], status["rows_done"], status["result"]["rows"]) == ("done", 3, 3)
    body = api.get(f"{API}/{status['result']['survey_import_id']}").get_json()
    assert (
        body["rows"] == 3 and body["site_id"] == setup.site_id and body["imported_by_id"] == setup.monitor.id
    )
    listing = api.get("/api/v1/testimony/survey-imports").get_json()
    assert [item["id"] for item in listing["items"]] == [body["id"]] and listing["next"] is None
    assert len(survey_reports(app)) == 3


def test_api_refuses_a_bad_file_with_line_numbers(app, setup, api_client):
    api = api_client(setup.monitor)
    data = kobo_csv(
        [{"site_os_id": OS_ID, "testimony": "x", "consent_contact": "perhaps"}],
        questions=["site_os_id", "testimony", "consent_contact"],
    )
    status = api_import_job(app, api, data)
    assert (status["state"], status["errors_total"]) == ("failed", 1)
    assert status["errors"] == [
        {"line": 2, "column": "consent_contact", "message": "\u201cperhaps\u201d is not yes or no."}
    ]
    # A file without the testimony column waits for its columns: the required question is named.
    response = api_upload(api, b"today,site_os_id\n")
    assert response.status_code == 202 and response.get_json()["state"] == "waiting"
    proposal = api.get(f"{API}/jobs/{response.get_json()['id']}/columns").get_json()
    assert proposal["problems"]["testimony"] == [
        "Choose the column that holds this question: it is required."
    ]
    response = api.post("/api/v1/testimony/survey-imports", json={"language": "th"})
    assert response.status_code == 422 and "file" in response.get_json()["error"]["errors"]
    response = api.post(
        "/api/v1/testimony/survey-imports",
        data={"file": (io.BytesIO(data), "e.csv"), "language": "xx"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422 and "language" in response.get_json()["error"]["errors"]
    assert counts(app) == (0, 0)


@pytest.mark.parametrize(
    "role", [UserRole.admin, UserRole.coordinator, UserRole.affiliate, UserRole.supplier]
)
def test_api_other_roles_get_404(app, setup, api_client, create_user, role):
    api = api_client(create_user(role))
    response = api.post(
        "/api/v1/testimony/survey-imports",
        data={"file": (io.BytesIO(valid_file()), "export.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 404
    assert api.get("/api/v1/testimony/survey-imports").status_code == 404
    assert counts(app) == (0, 0)


def test_openapi_describes_the_multipart_upload(app):
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    operation = document["paths"]["/api/v1/testimony/survey-imports"]["post"]
    schema = operation["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert operation["x-roles"] == ["monitor"]
    assert schema  # a reference to the args schema with the file field
    assert "get" in document["paths"]["/api/v1/testimony/survey-imports"]


def test_parse_survey_reports_every_problem(app):
    with app.app_context(), pytest.raises(survey.SurveyRefused) as refused:
        survey.parse_survey(b'"today";"testimony"\r\n' + b'"bad";"x"\r\n' * 250)
    assert len(refused.value.errors) == survey.MAX_ERRORS and refused.value.more > 0
