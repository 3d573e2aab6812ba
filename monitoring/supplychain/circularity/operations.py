"""File (or correct) a circularity report, confirm it, query it. Audited with field changes; never commit."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from monitoring.accounts.models import User
from monitoring.core import audit
from monitoring.core.db import db
from monitoring.core.operations import OperationError
from monitoring.core.types import utcnow
from monitoring.supplychain.circularity import events
from monitoring.supplychain.circularity.models import (
    COUNTS,
    FATE_COUNTS,
    SITE_FATES,
    CircularityReport,
    CircularitySite,
    CircularityState,
    TakeBackFate,
)
from monitoring.supplychain.circularity.permissions import (
    can_file_circularity,
    can_review_circularity,
    nameable_sites,
)
from monitoring.supplychain.models import Contract, ContractProduct, Product, Site

logger = logging.getLogger(__name__)

REASON_MAX = 2000
INFO_MAX = 5000
SITES_MAX = 50
# The fields of a report the supplier gives, besides its sites (compared for the audit's changes).
FIELDS = (
    "warranty_years",
    "spare_part_years",
    "os_update_years",
    "repairability_info",
    "repair_median_days",
    *COUNTS,
)


@dataclass
class SiteLine:
    site_id: int
    fate: TakeBackFate
    count: int


@dataclass
class ReportData:
    """What a supplier reports for one product and year (see ``FileCircularityArgs``)."""

    product_id: int
    year: int
    values: dict[str, Any]
    sites: list[SiteLine] = field(default_factory=list)


def fates_exceed(values: dict[str, Any]) -> bool:
    """Whether the fates add up to more devices than were taken back."""
    return sum(int(values.get(name) or 0) for name in FATE_COUNTS) > int(values.get("taken_back") or 0)


FATES_EXCEED_MESSAGE = _l(
    "The fates (reused, refurbished, recycled, disposed of, unknown) add up to more devices than were "
    "taken back."
)


def check_report(
    actor: User, contract: Contract, data: ReportData
) -> tuple[Product, CircularityReport | None]:
    """Refuse what cannot be filed (OperationError naming the field); the product and any earlier report."""
    if not can_file_circularity(actor, contract):
        raise OperationError(_l("Only the contract's supplier files its circularity reports."))
    product = db.session.scalar(
        select(Product)
        .join(ContractProduct, ContractProduct.product_id == Product.id)
        .where(ContractProduct.contract_id == contract.id, Product.id == data.product_id)
    )
    if product is None:
        raise OperationError(_l("Choose a product that the contract covers."), "product_id")
    if fates_exceed(data.values):
        raise OperationError(FATES_EXCEED_MESSAGE, "taken_back")
    if len(data.sites) > SITES_MAX:
        raise OperationError(_l("Name at most %(num)d site lines.", num=SITES_MAX), "sites")
    _check_sites(actor, data)
    earlier = db.session.scalar(
        select(CircularityReport).where(
            CircularityReport.contract_id == contract.id,
            CircularityReport.product_id == product.id,
            CircularityReport.year == data.year,
        )
    )
    if earlier is not None and earlier.state is CircularityState.confirmed:
        raise OperationError(
            _l("The buyer confirmed the report for %(year)d: it can no longer change.", year=data.year),
            "year",
        )
    return product, earlier


def _check_sites(actor: User, data: ReportData) -> None:
    per_fate: Counter[TakeBackFate] = Counter()
    seen: set[tuple[int, TakeBackFate]] = set()
    for line in data.sites:
        if line.fate not in SITE_FATES:
            raise OperationError(_l("A site line needs a known fate."), "sites")
        if line.count <= 0:
            raise OperationError(_l("A site line needs a number of devices above 0."), "sites")
        if (line.site_id, line.fate) in seen:
            raise OperationError(_l("Name each site only once per fate."), "sites")
        seen.add((line.site_id, line.fate))
        per_fate[line.fate] += line.count
    for fate, count in per_fate.items():
        if count > int(data.values.get(fate.value) or 0):
            raise OperationError(
                _l("The sites hold more %(fate)s devices than the report counts.", fate=fate.title), "sites"
            )
    ids = {line.site_id for line in data.sites}
    if ids:
        known = set(
            db.session.scalars(nameable_sites(actor).where(Site.id.in_(ids)).with_only_columns(Site.id))
        )
        if missing := sorted(ids - known):
            raise OperationError(
                _l(
                    "Name repair or recycling sites of the registry (not %(ids)s).",
                    ids=", ".join(map(str, missing)),
                ),
                "sites",
            )


def file_report(actor: User, contract: Contract, data: ReportData) -> CircularityReport:
    """File the report for a product and year, or correct the one filed (not once it is confirmed)."""
    product, report = check_report(actor, contract, data)
    values = {name: data.values.get(name) for name in FIELDS}
    values["repairability_info"] = (values["repairability_info"] or "").strip()
    for name in COUNTS:
        values[name] = int(values[name] or 0)
    now = utcnow()
    changes: dict[str, Any] = {}
    if report is None:
        report = CircularityReport(contract_id=contract.id, product_id=product.id, year=data.year, **values)
        db.session.add(report)
        action = "circularity.file"
    else:
        changes = {k: [getattr(report, k), v] for k, v in values.items() if getattr(report, k) != v}
        for name, value in values.items():
            setattr(report, name, value)
        action = "circularity.resubmit"
    before_sites = sorted((s.site_id, s.fate.value, s.count) for s in report.sites)
    after_sites = sorted((s.site_id, s.fate.value, s.count) for s in data.sites)
    if report.sites:
        report.sites.clear()
        db.session.flush()  # the old lines go before new ones take their (site, fate) places
    report.sites.extend(CircularitySite(site_id=s.site_id, fate=s.fate, count=s.count) for s in data.sites)
    previous_state = report.state
    report.state, report.query_reason = CircularityState.submitted, None
    report.submitted_by_id, report.submitted_dt = actor.id, now
    report.decided_by_id, report.decided_dt = None, None
    db.session.flush()
    if before_sites != after_sites and action == "circularity.resubmit":
        changes["sites"] = [before_sites, after_sites]
    audit.record(
        action,
        f"Filed circularity report {report.id} of contract {contract.id}, product {product.id}, {data.year}",
        actor=actor,
        obj=report,
        data={
            "contract_id": contract.id,
            "product_id": product.id,
            "year": data.year,
            **(
                {"changes": changes, "state_before": previous_state.value if previous_state else None}
                if action == "circularity.resubmit"
                else {**values, "sites": after_sites}
            ),
        },
    )
    events.report_filed.send(report=report, resubmitted=action == "circularity.resubmit")
    logger.info("circularity report %s of contract %s filed (%s)", report.id, contract.id, action)
    return report


def _decide(actor: User, report: CircularityReport) -> None:
    if not can_review_circularity(actor, report.contract):
        raise OperationError(
            _l("Only the contract's buyer or a coordinator confirms or queries its reports.")
        )
    if report.state is not CircularityState.submitted:
        raise OperationError(_l("Only a submitted report can be confirmed or queried."))


def confirm_report(actor: User, report: CircularityReport) -> CircularityReport:
    """The buyer accepts the report as it stands; it is final."""
    _decide(actor, report)
    report.state, report.decided_by_id, report.decided_dt = CircularityState.confirmed, actor.id, utcnow()
    db.session.flush()
    audit.record(
        "circularity.confirm",
        f"Confirmed the circularity report {report.id} of contract {report.contract_id}",
        actor=actor,
        obj=report,
        data={"contract_id": report.contract_id, "year": report.year},
    )
    events.report_decided.send(report=report)
    return report


def query_report(actor: User, report: CircularityReport, reason: str) -> CircularityReport:
    """The buyer asks the supplier to correct the report, saying why."""
    _decide(actor, report)
    reason = (reason or "").strip()
    if not reason:
        raise OperationError(_l("Say what the supplier should check or correct."), "reason")
    report.state, report.query_reason = CircularityState.queried, reason[:REASON_MAX]
    report.decided_by_id, report.decided_dt = actor.id, utcnow()
    db.session.flush()
    audit.record(
        "circularity.query",
        f"Queried the circularity report {report.id} of contract {report.contract_id}",
        actor=actor,
        obj=report,
        data={"contract_id": report.contract_id, "year": report.year, "reason": report.query_reason},
    )
    events.report_decided.send(report=report)
    return report
