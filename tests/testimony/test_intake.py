"""Monitor intake: the form and the API seal identity and testimony to the monitor's organisation."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from monitoring.core.db import db
from monitoring.core.types import utcnow
from monitoring.testimony.models import IssueCategory, ReportChannel, RetaliationRisk, WorkerReport
from tests.testimony.monitor_helpers import (
    audit_since,
    get_report,
    last_audit_id,
    make_site,
    open_as,
    post_intake,
)


def _count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(WorkerReport.id))) or 0


def test_form_seals_a_report_to_the_monitors_organisation(app, client_for, monitor_with_keys):
    since = last_audit_id(app)
    client = client_for(monitor_with_keys)
    response = post_intake(
        client, name="Nok Secretname", contact="line:nok", gender="woman", age_band="18_24"
    )
    assert response.status_code == 302
    report_id = int(response.headers["Location"].rsplit("/", 1)[1])
    report = get_report(app, report_id)
    assert report.organisation_id == monitor_with_keys.organisation_id
    assert report.created_by_id == monitor_with_keys.id
    assert (report.country, report.site_id) == ("TH", None)
    assert report.channel is ReportChannel.offsite_interview
    assert report.collected_date == date(2026, 2, 1)
    assert report.retaliation_risk is RetaliationRisk.high
    assert (report.consent_share_buyers, report.consent_share_supplier, report.consent_contact) == (
        True,
        False,
        False,
    )
    assert [c.category for c in report.categories] == [IssueCategory.retained_documents]
    # Monitor intake is not a direct report: no Whistleblower Directive clocks.
    assert report.acknowledge_due_dt is None and report.feedback_due_dt is None
    for column in ("identity_sealed", "testimony_sealed"):
        blob = getattr(report, column)
        assert blob and b"Secretname" not in blob and b"passports" not in blob
    assert report.workplace_sealed is None
    entries = audit_since(app, since)
    create = [e for e in entries if e.action == "report.create"]
    assert len(create) == 1 and create[0].object_id == str(report_id)
    assert "Secretname" not in create[0].summary + create[0].data
    opened = open_as(app, monitor_with_keys, report_id)
    assert opened.identity.name == "Nok Secretname"
    assert opened.identity.gender == "woman" and opened.identity.age_band == "18_24"
    assert opened.testimony == "The agency keeps our passports."
    page = client.get(f"/testimony/reports/{report_id}").get_data(as_text=True)
    assert "Secretname" not in page and "passports" not in page


def test_the_workplace_is_found_in_the_registry(app, client_for, monitor_with_keys):
    site_id = make_site(app, "Eastern Seaboard Print Systems", "Chon Buri", "TH")
    make_site(app, "Penang Bayan Semiconductor", "Penang", "MY")
    client = client_for(monitor_with_keys)
    page = client.get("/testimony/reports/new?q=seaboard").get_data(as_text=True)
    assert "Eastern Seaboard Print Systems" in page and "Penang" not in page
    page = client.get("/testimony/reports/new?q=chon buri").get_data(as_text=True)
    assert f'value="{site_id}"' in page
    assert "No workplace in the registry matches" in client.get("/testimony/reports/new?q=zzz").get_data(
        as_text=True
    )
    response = post_intake(client, site=str(site_id), country="", q="seaboard")
    assert response.status_code == 302
    report = get_report(app, int(response.headers["Location"].rsplit("/", 1)[1]))
    assert report.site_id == site_id and report.country == "TH"


def test_the_form_refuses_bad_input_and_saves_nothing(app, client_for, monitor_with_keys):
    client = client_for(monitor_with_keys)
    cases = [
        ({"testimony": ""}, "This field is required"),
        ({"country": ""}, "Choose the country of the workplace."),
        ({"site": None}, "Choose the workplace."),
        ({"collected_date": (utcnow() + timedelta(days=3)).date().isoformat()}, "must not be in the future"),
        ({"channel": "web"}, "Not a valid choice"),
        ({"language": "xx"}, "Not a valid choice"),
        ({"site": "999999"}, "Not a valid choice"),
    ]
    for overrides, message in cases:
        response = post_intake(client, **overrides)
        page = response.get_data(as_text=True)
        assert response.status_code == 200, overrides
        assert message in page, (overrides, page[:2000])
    assert _count(app) == 0


def test_an_organisation_without_a_key_cannot_receive(app, client_for, monitor):
    client = client_for(monitor)
    page = client.get("/testimony/reports/new").get_data(as_text=True)
    assert "Your organisation has no key yet" in page and 'href="/account/keys"' in page
    response = post_intake(client)
    assert response.status_code == 200
    assert "cannot receive sealed reports yet" in response.get_data(as_text=True)
    assert _count(app) == 0


def test_the_api_records_a_report(app, api_client, monitor_with_keys):
    since = last_audit_id(app)
    site_id = make_site(app, "Siam Circuit Boards", "Ayutthaya", "TH")
    response = api_client(monitor_with_keys).post(
        "/api/v1/worker-reports",
        json={
            "site_id": site_id,
            "channel": "hotline",
            "collected_date": "2026-02-03",
            "language": "my",
            "identity": {"name": "Api Secretname", "nationality": "MM", "age_band": "25_34"},
            "testimony": "Fees deducted every month",
            "workplace": "Line 4",
            "categories": ["recruitment_fees", "recruitment_fees", "wages"],
            "consent_contact": True,
            "retaliation_risk": "low",
        },
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["site"]["id"] == site_id and body["country"] == "TH"
    assert body["channel"] == "hotline" and body["status"] == "received"
    assert body["categories"] == ["recruitment_fees", "wages"]
    assert body["acknowledge_due_dt"] is not None and body["acknowledge_overdue"] is False
    assert "Secretname" not in response.get_data(as_text=True)
    assert not {"identity", "testimony", "workplace"} & set(body)
    opened = open_as(app, monitor_with_keys, body["id"])
    assert opened.identity.nationality == "MM" and opened.workplace == "Line 4"
    assert [e.action for e in audit_since(app, since)].count("report.create") == 1


def test_the_api_refuses_bad_input(app, api_client, monitor_with_keys):
    client = api_client(monitor_with_keys)
    base = {
        "channel": "offsite_interview",
        "collected_date": "2026-02-03",
        "language": "th",
        "testimony": "x",
    }
    cases = [
        ({**base}, "country"),
        ({**base, "country": "TH", "channel": "web"}, "channel"),
        ({**base, "country": "QQ"}, "country"),
        ({**base, "site_id": 999999}, "site_id"),
        ({**base, "country": "TH", "identity": {"gender": "robot"}}, "identity"),
        ({**base, "country": "TH", "identity": {"nationality": "XX"}}, "identity.nationality"),
        ({**base, "country": "TH", "testimony": ""}, "testimony"),
        ({**base, "country": "TH", "secret": 1}, "secret"),
        ({**base, "country": "TH", "collected_date": "2999-01-01"}, "collected_date"),
    ]
    for body, field in cases:
        response = client.post("/api/v1/worker-reports", json=body)
        assert response.status_code == 422, body
        # A nested field is named by its path (identity.gender).
        errors = response.get_json()["error"]["errors"]
        named = {part for name in errors for part in (name, name.split(".")[0])}
        assert field in named, (body, response.get_json())
    assert _count(app) == 0
