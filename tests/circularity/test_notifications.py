"""Who hears of a circularity report's steps, and the buyers' lifespan targets as settings."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from monitoring.accounts.models import Organisation, User, UserRole
from monitoring.core.db import db
from monitoring.notifications import render
from monitoring.notifications.models import Notification, NotificationKind
from tests.cases.helpers import CaseWorld
from tests.circularity.test_circularity import file, report

CIRCULARITY_KINDS = (
    NotificationKind.circularity_report_submitted,
    NotificationKind.circularity_report_queried,
    NotificationKind.circularity_report_confirmed,
)


def _told(w: CaseWorld) -> list[tuple[int, NotificationKind, dict[str, Any]]]:
    """Every circularity notification so far: (user id, kind, params), oldest first."""
    with w.session():
        rows = db.session.scalars(
            select(Notification).where(Notification.kind.in_(CIRCULARITY_KINDS)).order_by(Notification.id)
        )
        return [(n.user_id, n.kind, dict(n.params)) for n in rows]


def _mail(w: CaseWorld, user: User, kind: NotificationKind) -> render.RenderedMail:
    with w.session():
        notification = db.session.scalars(
            select(Notification)
            .where(Notification.user_id == user.id, Notification.kind == kind)
            .order_by(Notification.id.desc())
        ).first()
        assert notification is not None
        return render.render_mail(notification)


def test_the_buyer_hears_of_a_report_and_the_supplier_of_the_decision(
    case_world: CaseWorld, api_client: Any, create_user: Callable[..., User], recycler: int
) -> None:
    w = case_world
    with w.session():
        buyer_org = db.session.get(Organisation, w.orgs["affiliate_a"])
        supplier_org = db.session.get(Organisation, w.orgs["supplier_x"])
    colleague = create_user(UserRole.affiliate, organisation=buyer_org)
    supplier_colleague = create_user(UserRole.supplier, organisation=supplier_org)
    buyers = {w.affiliate.id, colleague.id}
    suppliers = {w.supplier.id, supplier_colleague.id}

    filed = file(w, api_client, recycler)
    told = _told(w)
    assert {user for user, _k, _p in told} == buyers
    assert {kind for _u, kind, _p in told} == {NotificationKind.circularity_report_submitted}
    params = told[0][2]
    assert params["circularity_report_id"] == filed["id"] and params["contract_id"] == w.contracts["a"]
    assert params["resubmitted"] is False and params["year"] == 2026
    mail = _mail(w, w.affiliate, NotificationKind.circularity_report_submitted)
    assert "filed its circularity report" in mail.text and "2026" in mail.text
    assert f"/circularity/{filed['id']}" in mail.text

    reason = "Where did the\n5 unknown devices go?"
    buyer = api_client(w.affiliate)
    queried = buyer.post(f"/api/v1/circularity/{filed['id']}/query", json={"reason": reason})
    assert queried.status_code == 200
    told = _told(w)[2:]
    assert {user for user, _k, _p in told} == suppliers
    assert {kind for _u, kind, _p in told} == {NotificationKind.circularity_report_queried}
    mail = _mail(w, w.supplier, NotificationKind.circularity_report_queried)
    assert "Their reason: Where did the 5 unknown devices go?." in mail.text
    assert mail.subject.endswith("Circularity report queried")

    file(w, api_client, recycler, unknown_fate=0, recycled=40, sites=[])
    told = _told(w)[4:]
    assert {user for user, _k, _p in told} == buyers
    assert all(p["resubmitted"] is True for _u, _k, p in told)
    assert (
        "corrected its circularity report"
        in _mail(w, colleague, NotificationKind.circularity_report_submitted).text
    )

    # A coordinator may decide too: the supplier's users are told, not the coordinator.
    confirmed = api_client(w.coordinator).post(f"/api/v1/circularity/{filed['id']}/confirm")
    assert confirmed.status_code == 200
    told = _told(w)[6:]
    assert {user for user, _k, _p in told} == suppliers
    assert {kind for _u, kind, _p in told} == {NotificationKind.circularity_report_confirmed}
    assert (
        "confirmed the circularity report"
        in _mail(w, supplier_colleague, NotificationKind.circularity_report_confirmed).text
    )

    # Nobody outside the contract heard of any of it.
    everyone = {user for user, _k, _p in _told(w)}
    outsiders = ("affiliate_b", "supplier_y", "coordinator", "coordinator2", "monitor", "admin")
    assert everyone == buyers | suppliers
    assert not everyone & {getattr(w, name).id for name in outsiders}


def test_a_refused_report_or_decision_tells_nobody(
    case_world: CaseWorld, api_client: Any, recycler: int
) -> None:
    w = case_world
    bad = report(w.products["laptop"], taken_back=10)  # fates above the devices taken back
    response = api_client(w.supplier).post(f"/api/v1/contracts/{w.contracts['a']}/circularity", json=bad)
    assert response.status_code == 422
    filed = file(w, api_client, recycler)
    assert api_client(w.supplier_y).post(f"/api/v1/circularity/{filed['id']}/confirm").status_code == 404
    blank = api_client(w.affiliate).post(f"/api/v1/circularity/{filed['id']}/query", json={"reason": " "})
    assert blank.status_code == 422
    assert [kind for _u, kind, _p in _told(w)] == [NotificationKind.circularity_report_submitted]


def test_another_contracts_supplier_hears_only_of_its_own(
    case_world: CaseWorld, api_client: Any, recycler: int
) -> None:
    w = case_world
    filed = file(w, api_client, recycler)
    api_client(w.affiliate).post(f"/api/v1/circularity/{filed['id']}/confirm")
    phone = report(w.products["phone"], sites=[])
    other = api_client(w.supplier_y).post(f"/api/v1/contracts/{w.contracts['b']}/circularity", json=phone)
    assert other.status_code == 201, other.get_json()
    told = _told(w)
    by_user: dict[int, set[NotificationKind]] = {}
    for user, kind, _p in told:
        by_user.setdefault(user, set()).add(kind)
    assert by_user == {
        w.affiliate.id: {NotificationKind.circularity_report_submitted},
        w.supplier.id: {NotificationKind.circularity_report_confirmed},
        w.affiliate_b.id: {NotificationKind.circularity_report_submitted},
    }


@pytest.mark.parametrize(
    ("parts", "os_years", "below"),
    [(7, 5, ["(below 7)"]), (4, 5, []), (6, 8, ["(below 6)", "(below 8)"])],
)
def test_the_lifespan_targets_are_settings(
    app: Flask,
    case_world: CaseWorld,
    api_client: Any,
    client_for: Callable[[User], Any],
    recycler: int,
    monkeypatch: pytest.MonkeyPatch,
    parts: int,
    os_years: int,
    below: list[str],
) -> None:
    w = case_world
    monkeypatch.setitem(app.config, "CIRCULARITY_SPARE_PART_YEARS", parts)
    monkeypatch.setitem(app.config, "CIRCULARITY_OS_UPDATE_YEARS", os_years)
    file(w, api_client, recycler)  # spare parts 5 years, OS updates 6 years
    loop = api_client(w.affiliate).get("/api/v1/circularity/loop?year=2026").get_json()
    assert (loop["spare_part_years_ambition"], loop["os_update_years_ambition"]) == (parts, os_years)
    text = client_for(w.affiliate).get("/dashboard/?to=2026-12-31").get_data(as_text=True)
    section = text[text.index('id="circularity"') :]
    assert re.findall(r"\(below \d+\)", section) == below  # spare parts first, then OS updates
    assert f"spare parts for at least {parts} years" in section
    assert f"operating-system updates for at least {os_years} years" in section
