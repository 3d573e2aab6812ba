"""Monitors are told: a new web report, a survey import and a worker's reply notify the members of
the receiving organisation, in the app and by e-mail, each in their language, with metadata only;
the report list (page and API) shows which reports hold worker messages a monitor has not read."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

import pytest
from flask_babel import force_locale, gettext, ngettext
from sqlalchemy import select

from monitoring.accounts.models import User, UserRole
from monitoring.core import jobs
from monitoring.core.db import db
from monitoring.notifications import render
from monitoring.notifications.models import Notification, NotificationKind
from monitoring.supplychain import operations as supplychain
from monitoring.supplychain.models import SiteKind
from monitoring.testimony.models import MonitorCoverage, WorkerReport
from tests.conftest import csrf_token
from tests.testimony.monitor_helpers import share_with
from tests.testimony.test_survey import kobo_csv

TESTIMONY = "The supervisor keeps our passports in a locked drawer."


@dataclass
class Org:
    monitor: User  # holds the key; reads in English
    colleague: User  # reads in Spanish
    site_id: int


@pytest.fixture
def org(app, monitor_with_keys, create_user) -> Org:
    """A monitor organisation with a key and two members that receives Thailand's reports."""
    with app.app_context():
        organisation = db.session.get(User, monitor_with_keys.id).organisation
        db.session.add(MonitorCoverage(organisation_id=organisation.id, country="TH"))
        site = supplychain.create_site(
            None,
            supplychain.SiteData(name="Chonburi Board Works", country="TH", kind=SiteKind.final_assembly),
        )
        db.session.commit()
        site_id = site.id
    colleague = create_user(UserRole.monitor, organisation=organisation, locale="es")
    return Org(monitor_with_keys, colleague, site_id)


def notifications(app, kind: NotificationKind) -> list[Notification]:
    with app.app_context():
        rows = db.session.scalars(
            select(Notification).where(Notification.kind == kind).order_by(Notification.id)
        )
        return list(rows)


def file_web_report(app, site_id: int) -> tuple[int, str]:
    """File a report through the worker pages; the report's id and the receipt shown."""
    client = app.test_client()
    token = csrf_token(client, "/report/workplace")
    page = client.post("/report/new", data={"site": str(site_id), "csrf_token": token}).get_data(as_text=True)
    fields = {
        name: re.search(rf'name="{name}" type="hidden" value="([^"]+)"', page).group(1)
        for name in ("csrf_token", "submission")
    }
    response = client.post(
        "/report/new",
        data={"site": str(site_id), "testimony": TESTIMONY, **fields},
        content_type="multipart/form-data",
    )
    receipt_html = re.search(r'id="receipt" translate="no">(.*?)</p>', response.get_data(as_text=True), re.S)
    assert receipt_html, "no receipt shown"
    with app.app_context():
        report_id = db.session.scalar(select(WorkerReport.id).order_by(WorkerReport.id.desc()))
    return report_id, re.sub(r"\D", "", receipt_html.group(1))


def worker_writes(app, receipt: str, body: str = "They also took our phones.") -> None:
    client = app.test_client()
    token = csrf_token(client, "/report/follow-up")
    page = client.post("/report/follow-up", data={"receipt": receipt, "csrf_token": token}).get_data(
        as_text=True
    )
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post(
        "/report/follow-up/message",
        data={"receipt": receipt, "body": body, "csrf_token": token},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200


def mail_of(app, notification: Notification) -> render.RenderedMail:
    with app.test_request_context("/"):
        return render.render_mail(db.session.get(Notification, notification.id))


def greeting(app, locale: str, name: str) -> str:
    with app.test_request_context("/"), force_locale(locale):
        return gettext("Hello %(name)s,", name=name)


def test_a_web_report_notifies_every_member_in_their_language_with_metadata_only(
    app, org, create_user, monitor
):
    coordinator = create_user(UserRole.coordinator)
    report_id, receipt = file_web_report(app, org.site_id)

    sent = notifications(app, NotificationKind.report_received)
    assert sorted(n.user_id for n in sent) == sorted([org.monitor.id, org.colleague.id])
    assert all(n.params == {"report_id": report_id, "country": "TH"} for n in sent)
    assert coordinator.id not in {n.user_id for n in sent} and monitor.id not in {n.user_id for n in sent}
    by_user = {n.user_id: n for n in sent}
    spanish = mail_of(app, by_user[org.colleague.id])
    english = mail_of(app, by_user[org.monitor.id])
    assert spanish.locale == "es" and english.locale == "en"
    assert greeting(app, "es", org.colleague.name) in spanish.text
    assert greeting(app, "es", "x") != greeting(app, "en", "x")
    for mail in (spanish, english):
        assert f"/testimony/reports/{report_id}" in mail.text
        for secret in (TESTIMONY, "passports", receipt, receipt[:4] + " " + receipt[4:8], "Chonburi"):
            assert secret not in mail.text and secret not in mail.html and secret not in mail.subject
    assert f"A worker filed report {report_id} about a workplace in Thailand." in english.text

    # In the app, in the reader's language, linking to the report.
    page = app.test_client()
    from tests.conftest import login

    login(page, org.monitor)
    listing = page.get("/notifications/").get_data(as_text=True)
    assert f"A worker filed report {report_id} about a workplace in Thailand." in listing


def test_a_worker_reply_notifies_and_stays_unread_until_each_monitor_opens_the_conversation(
    app, org, api_client, client_for
):
    report_id, receipt = file_web_report(app, org.site_id)
    other_id, _other = file_web_report(app, org.site_id)
    worker_writes(app, receipt)

    sent = notifications(app, NotificationKind.worker_message)
    assert sorted(n.user_id for n in sent) == sorted([org.monitor.id, org.colleague.id])
    assert all(n.params == {"report_id": report_id, "country": "TH"} for n in sent)
    mail = mail_of(app, sent[0])
    assert "They also took our phones" not in mail.text and receipt not in mail.text

    keyholder = api_client(org.monitor, unlocked=True)
    colleague = api_client(org.colleague)

    def unread(script) -> dict[int, bool]:
        items = script.get("/api/v1/worker-reports").get_json()["items"]
        return {i["id"]: i["unread_messages"] for i in items}

    assert unread(keyholder) == {report_id: True, other_id: False}
    assert [i["id"] for i in keyholder.get("/api/v1/worker-reports?unread=true").get_json()["items"]] == [
        report_id
    ]
    page = client_for(org.colleague).get("/testimony/reports?unread=y").get_data(as_text=True)
    assert f'data-id="{report_id}" data-unread="true"' in page and f'data-id="{other_id}"' not in page

    # Opening the report (and its conversation) reads the messages for that monitor only.
    response = keyholder.post(f"/api/v1/worker-reports/{report_id}/open", json={"reason": "follow_up"})
    assert response.status_code == 200
    assert unread(keyholder)[report_id] is False
    assert unread(colleague)[report_id] is True
    assert keyholder.get(f"/api/v1/worker-reports/{report_id}").get_json()["unread_messages"] is False

    # A new message is unread again.
    worker_writes(app, receipt, "One more thing.")
    assert unread(keyholder)[report_id] is True
    home = client_for(org.colleague).get("/").get_data(as_text=True)
    with app.test_request_context(), force_locale(org.colleague.locale):  # the colleague reads Spanish
        line = ngettext(
            "%(num)d report with unread messages from the worker",
            "%(num)d reports with unread messages from workers",
            1,
        )
    assert line in home and "?unread=y" in home


def test_unread_markers_are_for_the_organisations_monitors_only(
    app, org, api_client, create_user, client_for
):
    report_id, receipt = file_web_report(app, org.site_id)
    worker_writes(app, receipt)
    coordinator = create_user(UserRole.coordinator)
    share_with(app, org.monitor, report_id, coordinator)
    shared = api_client(coordinator).get("/api/v1/worker-reports").get_json()["items"]
    assert [(i["id"], i["unread_messages"]) for i in shared] == [(report_id, False)]
    # Another organisation's monitor, an administrator, an affiliate, a supplier: 404, as ever.
    stranger = create_user(UserRole.monitor)
    for user in (stranger, create_user(UserRole.admin), create_user(UserRole.affiliate)):
        assert api_client(user).get(f"/api/v1/worker-reports/{report_id}").status_code == 404
    assert api_client(stranger).get("/api/v1/worker-reports?unread=true").get_json()["items"] == []
    assert client_for(stranger).get(f"/testimony/reports/{report_id}").status_code == 404


def test_a_survey_import_notifies_the_importers_colleagues(app, org, api_client):
    data = kobo_csv(
        [
            {"testimony": "No overtime pay.", "site_name": "Chonburi Board Works", "country": "TH"},
            {"testimony": "Fees of 3,000 USD.", "site_name": "Chonburi Board Works", "country": "TH"},
        ],
        questions=["testimony", "site_name", "country"],
    )
    response = api_client(org.monitor).post(
        "/api/v1/testimony/survey-imports",
        data={"file": (io.BytesIO(data), "survey.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 202, response.get_json()
    with app.app_context():
        jobs.work_once()
    status = api_client(org.monitor).get(f"/api/v1/testimony/survey-imports/jobs/{response.get_json()['id']}")
    import_id = status.get_json()["result"]["survey_import_id"]
    [sent] = notifications(app, NotificationKind.survey_imported)
    assert sent.user_id == org.colleague.id  # the importer knows already
    assert sent.params == {"survey_import_id": import_id, "rows": 2}
    mail = mail_of(app, sent)
    assert mail.locale == "es"
    assert f"/testimony/survey-imports/{import_id}" in mail.text
    assert "overtime" not in mail.text and "Fees" not in mail.text
    with app.test_request_context("/"), force_locale("en"):
        assert render.line(db.session.get(Notification, sent.id)) == (
            "A survey import added 2 reports to your organisation's worker reports."
        )


def test_home_counts_each_report_with_unread_worker_messages_once_and_only_the_organisations(
    app, org, api_client, create_user
):
    from monitoring.testimony.services import home_counts

    report_id, receipt = file_web_report(app, org.site_id)
    file_web_report(app, org.site_id)  # no message: not counted
    worker_writes(app, receipt)
    worker_writes(app, receipt, "And the overtime.")
    stranger = create_user(UserRole.monitor)

    def counted(user: User) -> int:
        with app.app_context():
            return home_counts(db.session.get(User, user.id)).unread_messages

    assert (counted(org.monitor), counted(org.colleague), counted(stranger)) == (1, 1, 0)
    keyholder = api_client(org.monitor, unlocked=True)
    assert (
        keyholder.post(f"/api/v1/worker-reports/{report_id}/open", json={"reason": "follow_up"}).status_code
        == 200
    )
    assert (counted(org.monitor), counted(org.colleague)) == (0, 1)
    worker_writes(app, receipt, "One more thing.")
    assert counted(org.monitor) == 1
