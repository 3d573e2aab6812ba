"""The remedy ledger: totals with and without a rate, interim remedies, scope and suppression."""

from __future__ import annotations

from decimal import Decimal

import time_machine

from monitoring.accounts.models import User
from monitoring.cases.models import RemedyKind
from monitoring.core.db import db
from monitoring.reporting.ledger import Ledger, ledger_for, remedy_ledger
from monitoring.reporting.suppression import SUPPRESSED
from tests.reporting.conftest import NOW, FigureWorld, add_remedy, at, set_rate


def _remedies(fw: FigureWorld) -> None:
    w, c = fw.w, fw.cases
    add_remedy(w, c["C1"], RemedyKind.fees_repaid, "1000.00", "USD", 12)
    add_remedy(w, c["C1"], RemedyKind.back_pay, "500.00", "EUR", 3)
    add_remedy(w, c["C2"], RemedyKind.fees_repaid, "999.00", "USD", 7, closure=0)  # reopened: not counted
    add_remedy(w, c["C2"], RemedyKind.reinstatement, None, None, 2)
    add_remedy(w, c["C4"], RemedyKind.back_pay, "10000.00", "THB", 20)  # no rate for THB
    add_remedy(w, c["C3"], RemedyKind.fees_repaid, "200.00", "EUR", 6, interim_at=at(11, 20))
    set_rate(w, "USD", "0.9")


def ledger_of(fw: FigureWorld, who: str, *, shown: bool = False) -> Ledger:
    with fw.w.app.app_context(), time_machine.travel(NOW, tick=False):
        user = db.session.get(User, fw.w.users[who].id)
        ledger = remedy_ledger(user)
        return ledger_for(user, ledger) if shown else ledger


def test_totals_convert_with_the_stored_rates_and_list_the_rest_apart(figure_world: FigureWorld) -> None:
    _remedies(figure_world)
    ledger = ledger_of(figure_world, "coordinator")
    assert ledger.remedies == 5
    assert ledger.workers_covered == 12 + 3 + 2 + 20 + 6
    assert ledger.total_eur == Decimal("1600.00")  # 1000 USD x 0.9 + 500 EUR + 200 EUR interim
    assert [(u.currency, u.amount, u.remedies) for u in ledger.unconverted] == [
        ("THB", Decimal("10000.00"), 1)
    ]
    thb = next(row for row in ledger.rows if row.currency == "THB")
    assert (thb.amount, thb.amount_eur, thb.country, thb.year) == (Decimal("10000.00"), None, "TH", 2026)
    assert thb.buyer_id == figure_world.w.orgs["affiliate_b"]
    assert thb.supplier_id == figure_world.w.orgs["supplier_y"]
    usd = next(row for row in ledger.rows if row.currency == "USD")
    assert (usd.remedies, usd.amount, usd.amount_eur, usd.workers_covered) == (
        1,
        Decimal("1000.00"),
        Decimal("900.00"),
        12,
    )


def test_without_any_rate_nothing_is_dropped(figure_world: FigureWorld) -> None:
    _remedies(figure_world)
    with figure_world.w.session() as session:
        from monitoring.supplychain.models import CurrencyRate

        session.query(CurrencyRate).filter_by(currency="USD").delete()
    ledger = ledger_of(figure_world, "coordinator")
    assert ledger.total_eur == Decimal("700.00")
    assert [(u.currency, u.amount) for u in ledger.unconverted] == [
        ("THB", Decimal("10000.00")),
        ("USD", Decimal("1000.00")),
    ]


def test_each_role_sees_its_own_remedies(figure_world: FigureWorld) -> None:
    _remedies(figure_world)
    mine = ledger_of(figure_world, "affiliate")
    assert (mine.remedies, mine.workers_covered, mine.total_eur, mine.unconverted) == (
        4,
        23,
        Decimal("1600.00"),
        [],
    )
    other = ledger_of(figure_world, "affiliate_b")
    assert (other.remedies, other.workers_covered, [u.currency for u in other.unconverted]) == (
        1,
        20,
        ["THB"],
    )
    assert ledger_of(figure_world, "other_monitor").rows == []
    assert ledger_of(figure_world, "admin").remedies == 0
    assert ledger_of(figure_world, "monitor").remedies == 5


def test_rows_under_five_workers_are_suppressed_for_buyers_not_for_monitors(
    figure_world: FigureWorld,
) -> None:
    _remedies(figure_world)
    shown = ledger_of(figure_world, "affiliate", shown=True)
    by_kind = {(row.kind, row.currency): row for row in shown.rows}
    small = by_kind[(RemedyKind.back_pay, "EUR")]  # 3 workers
    assert (small.workers_covered, small.amount, small.amount_eur) == (SUPPRESSED,) * 3
    assert by_kind[(RemedyKind.reinstatement, None)].workers_covered is SUPPRESSED  # 2 workers
    assert by_kind[(RemedyKind.fees_repaid, "USD")].workers_covered == 12
    monitor = ledger_of(figure_world, "monitor", shown=True)
    assert all(row.workers_covered is not SUPPRESSED for row in monitor.rows)
