"""The whole remediation path in Chromium, each role logging in in turn.

A worker reports anonymously about the circuit-board plant in Ayutthaya; the demo monitor files
a finding linking the report; the demo coordinator opens a case, starts the dialogue and asks
Lumenbyte Devices (the demo supplier) for a corrective action; the supplier's first plan is
rejected with a reason, the second accepted; the supplier reports it implemented with a PDF;
the monitor verifies it, the coordinator closes the action, and the monitor closes the case with
the remedy and the workers-consulted confirmation. The demo affiliate (City of Northhaven, whose
laptops are made there) follows along; an affiliate without contracts there and a supplier that
was not addressed get 404. Forms are found by their action and field names, so the test holds in
any language. A screenshot per step goes to artefacts/screenshots/.

The server and Chromium come from tests/browser/conftest.py; the demo's two-factor relaxation
lets the demo coordinator and monitor in with their passwords.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from monitoring.demo import LOGINS
from tests.browser.conftest import prepare_demo, run_python, screenshot, serve
from tests.testimony.monitor_helpers import PDF

pytestmark = pytest.mark.browser

LOGIN = {x.role.value: x for x in LOGINS}
SITE = "Siam Circuit Boards Public Co., Ltd."
# Outsiders: a buyer whose contracts do not reach the site, and a supplier not addressed.
OUTSIDE_AFFILIATE = (
    "buyer@harbourview.example.org",
    "a long passphrase for harbourview",
    "Harbourview Council",
)
OTHER_SUPPLIER = ("sales@nordic-it.example.org", "a long passphrase for nordic it", "Nordic Public IT Supply")

TESTIMONY = "The agency took 20,000 baht from each of us and keeps our passports in its office."
SUMMARY = "Workers on the SMT lines paid recruitment fees to the placing agency, which holds their passports."
REQUEST = "Repay every recruitment fee and return every passport to its holder."
REJECTION = "The plan leaves out the agency workers on the night shift."
REMEDY_NOTE = "Fees repaid to 12 workers in two instalments."


@dataclass
class Demo:
    base: str
    database: Path


# Adds the outsiders in the prepared instance, in one process (each `flask users` call would
# start the app again); the same operations as `flask users create-org` and `flask users create`.
OUTSIDERS = """
import sys
from wsgi import app
from monitoring.accounts import operations
from monitoring.accounts.models import Organisation, OrganisationKind, UserRole
from monitoring.core.db import db
from sqlalchemy import select

with app.app_context():
    for email, password, name, role in (sys.argv[1:5], sys.argv[5:9]):
        org = db.session.scalar(select(Organisation).where(Organisation.name == name))
        org = org or operations.create_organisation(
            None, name, OrganisationKind.affiliate, "IE"
        )
        operations.create_user(
            None, email=email, name=name + " staff", role=UserRole(role), organisation=org,
            password=password, must_change_password=False,
        )
    db.session.commit()
"""


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    tmp = tmp_path_factory.mktemp("cases")
    env = prepare_demo(tmp)
    run_python(["-c", OUTSIDERS, *OUTSIDE_AFFILIATE, "affiliate", *OTHER_SUPPLIER, "supplier"], env)
    with serve(env, tmp / "server.log") as base:
        yield Demo(base, tmp / "browser.sqlite3")


def _query(demo: Demo, sql: str, *args: Any) -> Any:
    with sqlite3.connect(demo.database) as connection:
        row = connection.execute(sql, args).fetchone()
    assert row is not None, sql
    return row[0]


class Role:
    """One person's browser window, logged in once."""

    def __init__(self, chromium: Any, demo: Demo, name: str, email: str, password: str) -> None:
        self.name = name
        self.base = demo.base
        self.context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
        self.page = self.context.new_page()
        self.page.goto(f"{self.base}/login")
        self.page.locator("input[name=email]").fill(email)
        self.page.locator("input[name=password]").fill(password)
        with self.page.expect_navigation():
            self.page.locator("main form button[type=submit]").click()
        assert "/login" not in self.page.url, self.main()

    def main(self) -> str:
        return self.page.locator("main").inner_text()

    def goto(self, path: str) -> int:
        response = self.page.goto(f"{self.base}{path}")
        assert response is not None
        return response.status

    def submit(self, form: str) -> str:
        """Click the form's submit button; the answer must be a success page. Return its path."""
        with self.page.expect_navigation() as navigation:
            self.page.locator(f"{form} button[type=submit]").first.click()
        response = navigation.value
        assert response is not None and response.ok, f"{response and response.status}: {self.main()}"
        assert self.page.locator(".flash-error").count() == 0, self.main()
        return self.page.url.removeprefix(self.base)

    def shot(self, step: int, what: str) -> None:
        screenshot(self.page, f"cases-{step:02d}-{self.name}-{what}.png")

    def close(self) -> None:
        self.context.close()


def _id(path: str, prefix: str) -> int:
    match = re.search(rf"{prefix}/(\d+)", path)
    assert match, path
    return int(match.group(1))


def _worker_reports(chromium: Any, demo: Demo) -> int:
    """A worker reports anonymously about the site; returns the report's id."""
    context = chromium.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, locale="en-GB")
    worker = context.new_page()
    try:
        worker.goto(f"{demo.base}/report/workplace")
        worker.locator("input[name=q]").fill("Siam Circuit")
        worker.locator("form[role=search] button[type=submit]").click()
        worker.locator("main form.choose button[name=site]").first.click()
        worker.locator("textarea[name=testimony]").fill(TESTIMONY)
        worker.locator("input[name=categories][value=recruitment_fees]").check()
        worker.locator("input[name=consent_share_buyers]").check()
        worker.locator("main form[enctype] button[type=submit]").click()
        assert len(re.sub(r"\D", "", worker.locator("#receipt").inner_text())) == 20
        screenshot(worker, "cases-01-worker-receipt.png")
    finally:
        context.close()
    return int(_query(demo, "SELECT max(id) FROM worker_report WHERE receipt_lookup IS NOT NULL"))


def test_the_whole_path_in_the_browser(chromium, demo: Demo) -> None:
    today = date.today()
    site_id = _query(demo, "SELECT id FROM site WHERE name = ?", SITE)
    report_id = _worker_reports(chromium, demo)

    people = {
        role: Role(chromium, demo, role, LOGIN[role].email, LOGIN[role].password)
        for role in ("monitor", "coordinator", "supplier", "affiliate")
    }
    monitor, coordinator, supplier, affiliate = (
        people[r] for r in ("monitor", "coordinator", "supplier", "affiliate")
    )
    try:
        # The monitor files a finding linking the worker's report.
        monitor.goto(f"/findings/new?site={site_id}")
        form = "form[method=post][action^='/findings/new']"
        monitor.page.locator(f"{form} select[name=standard]").select_option("FL-1")
        monitor.page.locator(f"{form} select[name=severity]").select_option("priority")
        monitor.page.locator(f"{form} input[name=workers_affected]").fill("12")
        monitor.page.locator(f"{form} select[name=evidence_type]").select_option("offsite_interviews")
        monitor.page.locator(f"{form} textarea[name=summary]").fill(SUMMARY)
        monitor.page.locator(f"{form} input[name=reports][value='{report_id}']").check()
        monitor.shot(2, "finding-form")
        finding_id = _id(monitor.submit(form), "/findings")
        assert f"/testimony/reports/{report_id}" in monitor.page.content()

        # The coordinator opens the case, starts the dialogue and requests an action of Lumenbyte.
        coordinator.goto(f"/cases/new?site={site_id}&finding={finding_id}")
        form = "form[method=post][action^='/cases/new']"
        assert coordinator.page.locator(f"{form} input[name=findings][value='{finding_id}']").is_checked()
        case_path = coordinator.submit(form)
        case_id = _id(case_path, "/cases")
        transition = "form.transition:has(input[name=transition][value={}])"
        coordinator.submit(transition.format("start_dialogue"))
        coordinator.goto(f"/cases/{case_id}/actions/new?finding={finding_id}")
        form = f"form[action='/cases/{case_id}/actions/new']"
        coordinator.page.locator(f"{form} select[name=supplier_id]").select_option(label="Lumenbyte Devices")
        coordinator.page.locator(f"{form} textarea[name=request]").fill(REQUEST)
        coordinator.shot(3, "request-form")
        action_path = coordinator.submit(form)
        action_id = _id(action_path, "/actions")
        coordinator.goto(f"/cases/{case_id}")
        form = f"form[action='/cases/{case_id}/messages']"
        coordinator.page.locator(f"{form} input[name=visibility][value=parties]").check()
        coordinator.page.locator(f"{form} select[name=supplier]").select_option(label="Lumenbyte Devices")
        coordinator.page.locator(f"{form} textarea[name=body]").fill("Please confirm the deductions stopped.")
        coordinator.submit(form)
        coordinator.shot(4, "case-in-dialogue")

        # The supplier finds the request and submits a plan, which the coordinator rejects.
        supplier.goto("/requests/")
        assert supplier.page.locator(f"main a[href='{action_path}']").count() >= 1
        supplier.shot(5, "requests")

        def plan(root_cause: str) -> None:
            supplier.goto(action_path)
            form = f"form[action='{action_path}/plan']"
            supplier.page.locator(f"{form} textarea[name=root_cause]").fill(root_cause)
            supplier.page.locator(f"{form} textarea[name=corrective]").fill(
                "Repay all fees; return passports."
            )
            supplier.page.locator(f"{form} textarea[name=preventive]").fill(
                "Employer-pays clause for agents."
            )
            supplier.page.locator(f"{form} input[name=target_date]").fill(
                (today + timedelta(days=45)).isoformat()
            )
            supplier.submit(form)

        plan("Fees were left to the agency.")
        coordinator.goto(action_path)
        form = f"form[action='{action_path}/decision']"
        coordinator.page.locator(f"{form} input[name=decision][value=reject]").check()
        coordinator.page.locator(f"{form} textarea[name=reason]").fill(REJECTION)
        coordinator.submit(form)
        supplier.goto(action_path)
        assert REJECTION in supplier.main()
        supplier.shot(6, "plan-rejected")
        plan("Fees were left to the agency; night-shift agency workers were not covered.")
        coordinator.goto(action_path)
        coordinator.page.locator(f"{form} input[name=decision][value=accept]").check()
        coordinator.submit(form)
        coordinator.shot(7, "plan-accepted")
        coordinator.goto(f"/cases/{case_id}")
        coordinator.submit(transition.format("start_remediation"))

        # The supplier reports the action implemented, with the signed repayment schedule.
        supplier.goto(action_path)
        form = f"form[action='{action_path}/implementation']"
        supplier.page.locator(f"{form} textarea[name=description]").fill(
            "All fees repaid; schedule attached."
        )
        supplier.page.locator(f"{form} input[name=files]").set_input_files(
            {"name": "repayment-schedule.pdf", "mimeType": "application/pdf", "buffer": PDF}
        )
        supplier.submit(form)
        assert "repayment-schedule.pdf" in supplier.main()
        supplier.shot(8, "implemented")

        # The monitor verifies it; the coordinator closes the action.
        monitor.goto(action_path)
        form = f"form[action='{action_path}/verification']"
        monitor.page.locator(f"{form} input[name=result][value=verified]").check()
        monitor.page.locator(f"{form} textarea[name=note]").fill("Ten workers confirmed the repayment.")
        monitor.submit(form)
        monitor.shot(9, "verified")
        coordinator.goto(action_path)
        coordinator.submit(f"form[action='{action_path}/close']")

        # The monitor moves the case to verification and closes it with the remedy.
        monitor.goto(f"/cases/{case_id}")
        monitor.submit(transition.format("start_verification"))
        monitor.goto(f"/cases/{case_id}/close")
        form = "form[method=post]:has(input[name=workers_consulted])"
        monitor.page.locator(f"{form} input[name=outcome][value=resolved]").check()
        monitor.page.locator(f"{form} textarea[name=note]").fill(REMEDY_NOTE)
        monitor.page.locator(f"{form} select[name='remedies-0-kind']").select_option("fees_repaid")
        monitor.page.locator(f"{form} input[name='remedies-0-amount']").fill("240000.00")
        monitor.page.locator(f"{form} input[name='remedies-0-currency']").fill("THB")
        monitor.page.locator(f"{form} input[name='remedies-0-workers_covered']").fill("12")
        monitor.page.locator(f"{form} select[name='remedies-1-kind']").select_option("passports_returned")
        monitor.page.locator(f"{form} input[name='remedies-1-workers_covered']").fill("12")
        monitor.page.locator(f"{form} input[name=workers_consulted]").check()
        monitor.page.locator(f"{form} textarea[name=no_validation_reason]").fill(
            "The workers were interviewed offsite; none holds a receipt."
        )
        monitor.shot(10, "close-form")
        assert monitor.submit(form) == f"/cases/{case_id}"
        assert _query(demo, "SELECT state FROM remediation_case WHERE id = ?", case_id) == "closed"
        assert _query(demo, "SELECT state FROM corrective_action WHERE id = ?", action_id) == "closed"

        # The affiliate follows the case: closed, with the remedy, without the report link.
        affiliate.goto("/cases/")
        reference = _query(demo, "SELECT reference FROM remediation_case WHERE id = ?", case_id)
        assert reference in affiliate.main()
        affiliate.goto(f"/cases/{case_id}")
        page = affiliate.main()
        assert SUMMARY in page and REJECTION in page and "240,000.00" in page
        assert f"/testimony/reports/{report_id}" not in affiliate.page.content()
        affiliate.shot(11, "case-closed")

        # Outsiders get 404.
        for name, (email, password, _org) in (
            ("outsider", OUTSIDE_AFFILIATE),
            ("other-supplier", OTHER_SUPPLIER),
        ):
            outsider = Role(chromium, demo, name, email, password)
            try:
                assert outsider.goto(f"/cases/{case_id}") == 404
                assert outsider.goto(action_path) == 404
            finally:
                outsider.close()
    finally:
        for person in people.values():
            person.close()
