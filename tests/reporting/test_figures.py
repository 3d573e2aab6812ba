"""Each effectiveness figure against values worked out by hand (see conftest.py for the data)."""

from __future__ import annotations

from datetime import date

import time_machine

from monitoring.accounts.models import User
from monitoring.core.db import db
from monitoring.reporting.figures import Breakdown, Figures, Period, compute_figures
from tests.reporting.conftest import NOW, FigureWorld

NOVEMBER = Period.of_days(date(2026, 11, 1), date(2026, 11, 30))
DAY = 86400.0


def figures_for(fw: FigureWorld, who: str, breakdown: Breakdown = Breakdown.total) -> Figures:
    with fw.w.app.app_context(), time_machine.travel(NOW, tick=False):
        user = db.session.get(User, fw.w.users[who].id)
        return compute_figures(user, NOVEMBER, breakdown)


def days(figures: Figures, name: str, group: str | None = None) -> tuple[int, float | None, float | None]:
    figure = figures.duration(name, group)
    assert figure is not None, name
    return figure.count, figure.median_days, figure.p90_days


def share(figures: Figures, name: str, group: str | None = None) -> tuple[int, int]:
    figure = figures.share(name, group)
    assert figure is not None, name
    return figure.count, figure.hits


def test_report_clocks_for_the_coordinator(figure_world: FigureWorld) -> None:
    figures = figures_for(figure_world, "coordinator")
    # acknowledged after 1, 3, 9 (R1-R3) and 2 days (R6); R5 is after the period.
    assert days(figures, "report_acknowledge") == (4, 2.0, 9.0)
    assert days(figures, "report_feedback") == (2, 10.0, 20.0)
    # Direct reports whose deadline passed or were answered: R1, R2 in time, R3 late.
    assert share(figures, "direct_acknowledged_in_time") == (3, 2)
    # R3's feedback is not due yet: only R1 and R2 count.
    assert share(figures, "direct_answered_in_time") == (2, 2)


def test_report_clocks_of_a_monitor_are_its_organisations(figure_world: FigureWorld) -> None:
    figures = figures_for(figure_world, "monitor")
    assert days(figures, "report_acknowledge") == (3, 3.0, 9.0)
    other = figures_for(figure_world, "other_monitor")
    assert days(other, "report_acknowledge") == (1, 2.0, 2.0)


def test_action_clocks_and_shares(figure_world: FigureWorld) -> None:
    figures = figures_for(figure_world, "coordinator")
    assert days(figures, "action_plan") == (2, 2.0, 4.0)
    assert days(figures, "action_accepted_plan") == (2, 4.0, 6.0)
    assert days(figures, "action_verification") == (2, 10.0, 50.0)
    # A1 on time, A2 late, A3 past its deadline without implementation; A4 not due yet.
    assert share(figures, "actions_on_time") == (3, 1)
    # One rejected plan over four actions.
    assert share(figures, "plans_rejected") == (4, 1)


def test_case_clocks_outcomes_and_reopen_rate(figure_world: FigureWorld) -> None:
    figures = figures_for(figure_world, "coordinator")
    assert days(figures, "case_closure") == (3, 20.0, 30.0)
    assert share(figures, "outcome_resolved") == (3, 1)
    assert share(figures, "outcome_partially_resolved") == (3, 1)
    assert share(figures, "outcome_unresolved") == (3, 1)
    assert share(figures, "cases_reopened") == (3, 1)


def test_breakdown_by_country_and_supplier(figure_world: FigureWorld) -> None:
    w = figure_world.w
    by_country = figures_for(figure_world, "coordinator", Breakdown.country)
    assert days(by_country, "case_closure", "CN") == (2, 10.0, 20.0)
    assert days(by_country, "case_closure", "TH") == (1, 30.0, 30.0)
    by_supplier = figures_for(figure_world, "coordinator", Breakdown.supplier)
    assert share(by_supplier, "actions_on_time", str(w.orgs["supplier_x"])) == (2, 1)
    assert share(by_supplier, "actions_on_time", str(w.orgs["supplier_y"])) == (1, 0)
    by_org = figures_for(figure_world, "coordinator", Breakdown.organisation)
    assert days(by_org, "report_acknowledge", str(w.orgs["other_monitors"])) == (1, 2.0, 2.0)


def test_breakdown_by_buyer_severity_and_standard(figure_world: FigureWorld) -> None:
    w = figure_world.w
    by_buyer = figures_for(figure_world, "coordinator", Breakdown.buyer)
    assert days(by_buyer, "case_closure", str(w.orgs["affiliate_a"])) == (2, 10.0, 20.0)
    assert days(by_buyer, "case_closure", str(w.orgs["affiliate_b"])) == (1, 30.0, 30.0)
    by_severity = figures_for(figure_world, "coordinator", Breakdown.severity)
    assert days(by_severity, "case_closure", "major") == (3, 20.0, 30.0)
    by_standard = figures_for(figure_world, "coordinator", Breakdown.standard)
    assert days(by_standard, "case_closure", "FL-1") == (3, 20.0, 30.0)


def test_affiliate_and_supplier_figures_are_their_own(figure_world: FigureWorld) -> None:
    affiliate = figures_for(figure_world, "affiliate")
    assert days(affiliate, "case_closure") == (2, 10.0, 20.0)
    assert affiliate.duration("report_acknowledge") is None  # report clocks: staff only
    affiliate_b = figures_for(figure_world, "affiliate_b")
    assert days(affiliate_b, "case_closure") == (1, 30.0, 30.0)
    supplier_y = figures_for(figure_world, "supplier_y")
    assert share(supplier_y, "actions_on_time") == (1, 0)
    assert supplier_y.share("plans_rejected") == supplier_y.share("plans_rejected", None)
    assert share(supplier_y, "plans_rejected") == (1, 0)
    admin = figures_for(figure_world, "admin")
    assert admin.durations == [] or all(d.count == 0 for d in admin.durations)
