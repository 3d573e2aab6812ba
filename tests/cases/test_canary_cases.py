"""The canary, carried into remediation: what a worker said never reaches buyers or suppliers.

A worker report holds the canary in its sealed identity and testimony; a monitor files a finding
that links the report, a case is opened, a corrective action is requested of supplier X, who
reports it implemented with a file, and the dialogue has a message of each visibility. Then
every GET route of the cases, findings, actions and notifications features is crawled as
affiliate A and supplier X, who both see the case: no answer holds the canary, a link to the
worker report or the report's id, and none holds what is not meant for that reader.
"""

from __future__ import annotations

import io
import re

import pytest

from monitoring.cases import operations
from monitoring.cases.models import ActionState, Case, CaseFile, CaseMessage, CorrectiveAction, Visibility
from monitoring.core.db import db
from monitoring.testimony import operations as testimony
from monitoring.testimony.sealing import Identity
from tests.cases.helpers import CaseWorld
from tests.testimony.monitor_helpers import PDF, intake_data
from tests.testimony.test_canary import CANARY, leaks

INTERNAL = "Internal-only note 4417"
BUYERS = "Buyers-only note 5528"
PARTIES = "Parties note 6639"
SUMMARY = "Summary for buyers 7740"
FEATURES = re.compile(r"^/(api/v1/)?(cases|findings|actions|requests|verifications|standards|notifications)")


@pytest.fixture
def planted(case_world: CaseWorld) -> dict[str, int]:
    w = case_world
    with w.session():
        from monitoring.supplychain.models import Site

        report = testimony.record_report(
            w.user("monitor"),
            intake_data(
                site=db.session.get(Site, w.site),
                country="CN",
                identity=Identity(name=CANARY, contact=f"{CANARY}@example.org", gender="woman"),
                testimony=f"The agent said: {CANARY}",
            ),
        )
        report_id = report.id
    finding_id = w.finding(report_ids=[report_id], summary=SUMMARY, severity="priority")
    case_id = w.case(findings=[finding_id])
    action_id = w.action(case_id)
    w.advance_action(action_id, ActionState.plan_accepted)
    with w.session():
        action = db.session.get(CorrectiveAction, action_id)
        upload = operations.Upload("receipts.pdf", "application/pdf", io.BytesIO(PDF), len(PDF))
        operations.report_implemented(w.user("supplier"), action, "Fees repaid.", [upload])
        case = db.session.get(Case, case_id)
        for author, visibility, body, supplier in (
            ("monitor", Visibility.internal, INTERNAL, None),
            ("coordinator", Visibility.buyers, BUYERS, None),
            ("coordinator", Visibility.parties, PARTIES, w.orgs["supplier_x"]),
        ):
            files = [operations.Upload("note.pdf", None, io.BytesIO(PDF), len(PDF))]
            operations.post_message(w.user(author), case, visibility, body, supplier_id=supplier, files=files)
    with w.app.app_context():
        files = {f.message_id: f.id for f in db.session.query(CaseFile).filter(CaseFile.case_id == case_id)}
        messages = {m.visibility: m.id for m in db.session.query(CaseMessage).filter_by(case_id=case_id)}
        action_file = next(fid for mid, fid in files.items() if mid is None)
    return {
        "report_id": report_id,
        "finding_id": finding_id,
        "case_id": case_id,
        "action_id": action_id,
        "action_file": action_file,
        "internal_file": files[messages[Visibility.internal]],
        "buyers_file": files[messages[Visibility.buyers]],
        "parties_file": files[messages[Visibility.parties]],
    }


def _urls(app, planted: dict[str, int]) -> list[str]:
    file_ids = [planted[k] for k in ("action_file", "internal_file", "buyers_file", "parties_file")]
    urls = set()
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or not FEATURES.match(rule.rule):
            continue
        for file_id in file_ids if "<int:file_id>" in rule.rule else [0]:
            values = {**planted, "file_id": file_id}
            urls.add(re.sub(r"<int:(\w+)>", lambda m, values=values: str(values[m.group(1)]), rule.rule))
    urls |= {"/cases/?state=in_dialogue", "/api/v1/cases?limit=200", "/api/v1/actions?limit=200"}
    return sorted(urls)


@pytest.mark.parametrize("reader", ["affiliate", "supplier"])
def test_buyers_and_suppliers_never_see_testimony_or_report_links(
    app, case_world, planted, client_for, api_client, reader
):
    w = case_world
    user = w.users[reader]
    page_client, script_client = client_for(user), api_client(user)
    report_link = re.compile(
        rf"/testimony/reports/{planted['report_id']}\b|worker-reports/{planted['report_id']}\b"
    )
    forbidden = [INTERNAL] if reader == "affiliate" else [INTERNAL, BUYERS, SUMMARY]
    statuses = {}
    for url in _urls(app, planted):
        response = (script_client if url.startswith("/api/") else page_client).get(url)
        statuses[url] = response.status_code
        body = response.get_data()
        assert response.status_code < 500, (url, response.status_code)
        assert not leaks(body), (reader, url)
        assert not report_link.search(body.decode("utf-8", "replace")), (reader, url)
        for text in forbidden:
            assert text.encode() not in body, (reader, url, text)
        if url.startswith("/api/") and response.is_json:
            assert "report_ids" not in response.get_data(as_text=True), (reader, url)
        response.close()
    # The crawl reached the case, its action and the files each reader may download.
    case, action = planted["case_id"], planted["action_id"]
    assert statuses[f"/cases/{case}"] == statuses[f"/api/v1/cases/{case}"] == 200
    assert statuses[f"/actions/{action}"] == statuses[f"/api/v1/actions/{action}"] == 200
    assert statuses[f"/cases/{case}/files/{planted['parties_file']}"] == 200
    assert statuses[f"/actions/{action}/files/{planted['action_file']}"] == 200
    assert statuses[f"/cases/{case}/files/{planted['internal_file']}"] == 404
    expected_buyers = 200 if reader == "affiliate" else 404
    assert statuses[f"/cases/{case}/files/{planted['buyers_file']}"] == expected_buyers
    # Shown where it is meant for: the parties message to both, the summary to the affiliate.
    page = page_client.get(f"/cases/{case}").get_data(as_text=True)
    assert PARTIES in page and (SUMMARY in page) is (reader == "affiliate")


def test_the_monitor_sees_the_report_link(case_world, planted, client_for):
    page = client_for(case_world.monitor).get(f"/findings/{planted['finding_id']}").get_data(as_text=True)
    assert f"/testimony/reports/{planted['report_id']}" in page
