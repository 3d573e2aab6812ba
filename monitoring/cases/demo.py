"""Demo data of remediation: findings, cases, corrective actions and the dialogue (all fictional).

The demo monitor organisation files the findings and the demo accounts take every step through
the operations, as they would on the pages, so that events, audit entries and notifications are
what real use leaves behind:

- an *open* case at the printer plant in Chonburi (no buyer's contract reaches it any more);
- a case *in dialogue* at the circuit-board plant in Ayutthaya, with a corrective action
  requested of Lumenbyte Devices whose plan is overdue, and a message of each visibility;
- a case in *remediation* at the battery plant in Dongguan, whose first plan was rejected with a
  reason, then resubmitted and accepted;
- a *closed* case at the semiconductor plant in Penang: recruitment fees repaid in ringgit to 75
  workers and passports returned, confirmed with the workers.

Each step is dated back (days or months ago) once taken, so the timelines read like real ones
and the deadlines are where they would be. Audit entries keep the time they were written.
Notifications the demo queues appear in the app but are never mailed.

Idempotent like the rest of ``flask demo load``: nothing is made while the demo monitor
organisation has any finding.
"""

from __future__ import annotations

import io
import logging
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from monitoring.accounts.models import Organisation
from monitoring.cases import operations
from monitoring.cases.demo_support import (
    EVIDENCE_PDF,
    MONITOR_ORGANISATION,
    SITES,
    SUPPLIER,
    Actors,
    Calendar,
    demo_actors,
    demo_site,
    file_finding,
    organisation_named,
    plan_data,
    report_ids,
    request_data,
    unassigned_findings,
)
from monitoring.cases.models import (
    Case,
    CaseOutcome,
    EvidenceType,
    Finding,
    RemedyKind,
    Severity,
    Visibility,
)
from monitoring.core.db import db
from monitoring.supplychain.models import Site
from monitoring.testimony.models import ReportChannel

# Re-exported: the demo's names, for the tests.
__all__ = ["MONITOR_ORGANISATION", "SITES", "SUPPLIER", "load_cases_demo"]

logger = logging.getLogger(__name__)

# --- the four cases ---------------------------------------------------------------------------


def _open_case(a: Actors, cal: Calendar, org: Organisation, site: Site) -> Case:
    """Chonburi: a monitor has just opened a case; no buyer's contract reaches the site today."""
    today = cal.now.date()
    with cal.days_ago(2):
        file_finding(
            a.monitor,
            site,
            "HS-1",
            Severity.major,
            30,
            EvidenceType.onsite_interviews,
            today - timedelta(days=3),
            "Workers in the cleaning room handle solvents without local exhaust ventilation or "
            "suitable respirators; masks are handed out only on the days of customer audits.",
            report_ids(org, ReportChannel.onsite_interview, site),
        )
        file_finding(
            a.monitor,
            site,
            "WH-3",
            Severity.major,
            None,
            EvidenceType.offsite_interviews,
            today - timedelta(days=10),
            "In the peak season overtime on Sundays is not voluntary: workers who decline it are "
            "moved to the night shift.",
            report_ids(org, ReportChannel.hotline, None),
        )
    with cal.days_ago(1, hour=15):
        findings = unassigned_findings(site, org)
        case = operations.open_case(a.monitor, site.id, [f.id for f in findings])
    return case


def _dialogue_case(a: Actors, cal: Calendar, org: Organisation, site: Site, supplier: Organisation) -> Case:
    """Ayutthaya: recruitment fees and passports; the plan is overdue; a message of each visibility."""
    today = cal.now.date()
    with cal.days_ago(11):
        fees = file_finding(
            a.monitor,
            site,
            "FL-1",
            Severity.priority,
            46,
            EvidenceType.offsite_interviews,
            today - timedelta(days=12),
            "Migrant workers from Myanmar on the SMT lines paid recruitment fees of about THB 18,000 "
            "each to the agency that placed them; the debt is deducted from their wages every month.",
            report_ids(org, ReportChannel.offsite_interview, site),
        )
        file_finding(
            a.monitor,
            site,
            "FL-2",
            Severity.priority,
            46,
            EvidenceType.offsite_interviews,
            today - timedelta(days=12),
            "The agency keeps the workers' passports 'for safekeeping'; workers cannot get them "
            "back without the agency's permission.",
            report_ids(org, ReportChannel.offsite_interview, site),
        )
    with cal.days_ago(10):
        case = operations.open_case(
            a.coordinator,
            site.id,
            [f.id for f in unassigned_findings(site, org)],
            lead_coordinator_id=a.coordinator.id,
        )
    with cal.days_ago(10, hour=11):
        operations.transition_case(a.coordinator, case, "start_dialogue")
        # A priority finding gives the supplier seven days for its plan: now three days late.
        operations.request_action(
            a.coordinator,
            case,
            request_data(
                case,
                fees,
                supplier,
                "Stop the wage deductions at once, repay every recruitment fee the workers paid, and "
                "send a plan showing how the agency will be held to the employer-pays principle.",
            ),
        )
    with cal.days_ago(9):
        operations.post_message(
            a.monitor,
            case,
            Visibility.internal,
            "The workers we met fear being sent home if the agency learns who spoke to us. Please do "
            "not name the line or the shift to the factory or the brand.",
        )
    with cal.days_ago(8):
        operations.post_message(
            a.affiliate,
            case,
            Visibility.buyers,
            "Northhaven raised the case at this quarter's contract review with our reseller. We "
            "expect the supplier's plan within the deadline and will follow it here.",
        )
    with cal.days_ago(7):
        operations.post_message(
            a.coordinator,
            case,
            Visibility.parties,
            "Please confirm that the agency has been told to stop the deductions while the plan is "
            "prepared, and tell us who at Siam Circuit Boards is responsible for the repayment.",
            supplier_id=supplier.id,
        )
    with cal.days_ago(5, hour=14):
        operations.post_message(
            a.supplier,
            case,
            Visibility.parties,
            "We have asked Siam Circuit Boards for the agency contract and the payroll records and "
            "will send our plan as soon as we have them.",
            supplier_id=supplier.id,
        )
    return case


def _remediation_case(
    a: Actors, cal: Calendar, org: Organisation, site: Site, supplier: Organisation
) -> Case:
    """Dongguan: excessive hours; the first plan is rejected, the second accepted."""
    today = cal.now.date()
    with cal.days_ago(60):
        hours = file_finding(
            a.monitor,
            site,
            "WH-1",
            Severity.major,
            340,
            EvidenceType.survey,
            today - timedelta(days=64),
            "For eight weeks of the peak season production workers worked 72 to 80 hours a week, "
            "with one day off in fourteen.",
        )
        file_finding(
            a.monitor,
            site,
            "WB-2",
            Severity.major,
            340,
            EvidenceType.documents,
            today - timedelta(days=64),
            "Overtime on rest days was paid at 150 % of the normal rate instead of the legal 200 %.",
        )
        file_finding(
            a.monitor,
            site,
            "GR-2",
            Severity.major,
            3,
            EvidenceType.offsite_interviews,
            today - timedelta(days=64),
            "Workers who complained to the hotline about the hours were moved to the night shift.",
        )
    with cal.days_ago(58):
        case = operations.open_case(
            a.coordinator,
            site.id,
            [f.id for f in unassigned_findings(site, org)],
            lead_coordinator_id=a.coordinator.id,
        )
    with cal.days_ago(57):
        operations.transition_case(a.coordinator, case, "start_dialogue")
    with cal.days_ago(56):
        action = operations.request_action(
            a.coordinator,
            case,
            request_data(
                case,
                hours,
                supplier,
                "Bring working hours within 60 a week with one day off in seven, pay the overtime "
                "premium owed since January, and show how overtime stays voluntary.",
            ),
        )
    with cal.days_ago(45):
        operations.submit_plan(
            a.supplier,
            action,
            plan_data(
                "Peak-season orders were accepted without checking the plant's capacity.",
                "The plant will cap overtime at 36 hours a month.",
                "Capacity checks before orders are confirmed.",
                today + timedelta(days=90),
            ),
        )
    with cal.days_ago(41):
        operations.reject_plan(
            a.coordinator,
            action,
            "The plan does not say how overtime is kept voluntary, leaves out the agency workers and "
            "does not repay the premium owed. Please add all three and an independent check of hours.",
        )
    with cal.days_ago(34):
        operations.submit_plan(
            a.supplier,
            action,
            plan_data(
                "Peak-season orders were accepted without checking capacity; overtime was assigned "
                "by line leaders, and agency workers were outside the hours policy.",
                "Hours capped at 60 a week with one day off in seven for direct and agency workers; "
                "overtime by written, individual consent; premium owed since January repaid.",
                "Capacity checks before orders are confirmed; monthly time records shared with the "
                "monitor; overtime consent audited by the worker committee.",
                today + timedelta(days=120),
            ),
        )
    with cal.days_ago(30):
        operations.accept_plan(a.coordinator, action)
    with cal.days_ago(29):
        operations.transition_case(a.coordinator, case, "start_remediation")
    with cal.days_ago(20, hour=10):
        operations.post_message(
            a.supplier,
            case,
            Visibility.parties,
            "The first monthly time records are in: the longest week was 58 hours. The back pay of "
            "the overtime premium is in this month's payroll.",
            supplier_id=supplier.id,
        )
    with cal.days_ago(19):
        operations.post_message(
            a.monitor,
            case,
            Visibility.buyers,
            "We will check the time records against a worker survey before the case goes to verification.",
        )
    return case


def _closed_case(a: Actors, cal: Calendar, org: Organisation, site: Site, supplier: Organisation) -> Case:
    """Penang: fees repaid in ringgit to 75 workers, passports returned; closed after verification."""
    today = cal.now.date()
    with cal.days_ago(150):
        fees = file_finding(
            a.monitor,
            site,
            "FL-1",
            Severity.priority,
            75,
            EvidenceType.offsite_interviews,
            today - timedelta(days=155),
            "Seventy-five migrant workers from Nepal and Myanmar paid recruitment fees of MYR 4,500 "
            "to 6,000 to agents in their home countries and borrowed to pay them.",
        )
        passports = file_finding(
            a.monitor,
            site,
            "FL-2",
            Severity.priority,
            75,
            EvidenceType.documents,
            today - timedelta(days=155),
            "The human-resources office held the passports of the same workers; getting one back "
            "took a written request and a manager's signature.",
        )
    with cal.days_ago(148):
        case = operations.open_case(
            a.coordinator, site.id, [fees.id, passports.id], lead_coordinator_id=a.coordinator.id
        )
    with cal.days_ago(147):
        operations.transition_case(a.coordinator, case, "start_dialogue")
    with cal.days_ago(146):
        repay = operations.request_action(
            a.coordinator,
            case,
            request_data(
                case,
                fees,
                supplier,
                "Repay every recruitment fee in full to each worker concerned, including the "
                "interest on their loans, and adopt the employer-pays principle.",
            ),
        )
        lockers = operations.request_action(
            a.coordinator,
            case,
            request_data(
                case,
                passports,
                supplier,
                "Return every passport to its holder and give each worker a lockable place to keep it.",
            ),
        )
    with cal.days_ago(141):
        operations.submit_plan(
            a.supplier,
            repay,
            plan_data(
                "Recruitment was left to agents abroad without checks on what they charged.",
                "Fees repaid in two instalments against the workers' own statements of what they paid.",
                "Employer-pays clause in every agent contract; fee checks in the onboarding interview.",
                today + timedelta(days=41),  # moved back with the step: 100 days ago
            ),
        )
        operations.submit_plan(
            a.supplier,
            lockers,
            plan_data(
                "A site rule meant to prevent absconding.",
                "Passports returned at once; a lockable locker for every worker in the dormitory.",
                "The rule is withdrawn and the HR policy says documents are never held.",
                today + timedelta(days=11),  # moved back with the step: 130 days ago
            ),
        )
    with cal.days_ago(139):
        operations.accept_plan(a.monitor, repay)
        operations.accept_plan(a.monitor, lockers)
    with cal.days_ago(138):
        operations.transition_case(a.coordinator, case, "start_remediation")
    with cal.days_ago(128):
        operations.report_implemented(
            a.supplier, lockers, "All 75 passports returned; lockers installed.", []
        )
    with cal.days_ago(100):
        evidence = operations.Upload(
            name="repayment-schedule-signed.pdf",
            content_type="application/pdf",
            stream=io.BytesIO(EVIDENCE_PDF),
            size=len(EVIDENCE_PDF),
        )
        operations.report_implemented(
            a.supplier,
            repay,
            "Second instalment paid; the signed repayment schedule is attached.",
            [evidence],
        )
    with cal.days_ago(95):
        operations.verify_action(
            a.monitor, lockers, True, "Twenty workers interviewed offsite all hold their passports."
        )
        operations.verify_action(
            a.monitor,
            repay,
            True,
            "Twenty workers interviewed offsite confirmed both instalments, matching the schedule.",
        )
    with cal.days_ago(94):
        operations.close_action(a.coordinator, repay)
        operations.close_action(a.coordinator, lockers)
        operations.transition_case(a.coordinator, case, "start_verification")
    with cal.days_ago(90):
        operations.close_case(
            a.monitor,
            case,
            operations.ClosureData(
                outcome=CaseOutcome.resolved,
                note="Fees repaid and passports returned; the workers we consulted confirmed both.",
                remedies=[
                    operations.RemedyData(
                        kind=RemedyKind.fees_repaid,
                        amount=Decimal("393750.00"),
                        currency="MYR",
                        workers_covered=75,
                        description="Recruitment fees and loan interest, in two instalments.",
                    ),
                    operations.RemedyData(
                        kind=RemedyKind.passports_returned,
                        amount=None,
                        currency=None,
                        workers_covered=75,
                        description="Each worker has a lockable locker in the dormitory.",
                    ),
                ],
                workers_consulted=True,
                no_validation_reason=(
                    "The workers were interviewed offsite before the follow-up page could ask them; "
                    "none of them filed a report with a receipt."
                ),
            ),
        )
    return case


def load_cases_demo() -> int:
    """Create the demo findings and cases unless the demo monitor organisation has findings.

    Returns how many cases were made. Flushes, never commits.
    """
    org = organisation_named(MONITOR_ORGANISATION)
    supplier = organisation_named(SUPPLIER)
    if org is None or supplier is None or not org.is_active or not supplier.is_active:
        return 0
    if db.session.scalar(select(Finding.id).where(Finding.organisation_id == org.id).limit(1)) is not None:
        return 0
    actors = demo_actors()
    sites = {key: demo_site(key) for key in SITES}
    if actors is None or any(site is None for site in sites.values()):
        logger.warning("demo: the demo registry or logins are incomplete, so no demo cases")
        return 0
    calendar = Calendar()
    cases = [
        _closed_case(actors, calendar, org, sites["penang"], supplier),  # type: ignore[arg-type]
        _remediation_case(actors, calendar, org, sites["dongguan"], supplier),  # type: ignore[arg-type]
        _dialogue_case(actors, calendar, org, sites["ayutthaya"], supplier),  # type: ignore[arg-type]
        _open_case(actors, calendar, org, sites["chonburi"]),  # type: ignore[arg-type]
    ]
    logger.info("demo: %d cases (%s)", len(cases), ", ".join(c.reference for c in cases))
    return len(cases)
