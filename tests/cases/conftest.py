"""The world every remediation test starts from (see tests/cases/helpers.py)."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest
from flask import Flask

from monitoring.accounts.models import Organisation, OrganisationKind, User, UserRole
from tests.cases.helpers import CaseWorld
from tests.conftest import give_key_access
from tests.supplychain.helpers import Registry

_counter = itertools.count(1)


@pytest.fixture
def case_world(
    app: Flask,
    create_user: Callable[..., User],
    create_organisation: Callable[..., Organisation],
) -> CaseWorld:
    registry = Registry(app)
    w = CaseWorld(app=app, registry=registry)
    n = next(_counter)
    kinds = {
        "operator": OrganisationKind.operator,
        "monitors": OrganisationKind.monitor,
        "other_monitors": OrganisationKind.monitor,
        "affiliate_a": OrganisationKind.affiliate,
        "affiliate_b": OrganisationKind.affiliate,
        "supplier_x": OrganisationKind.supplier,
        "supplier_y": OrganisationKind.supplier,
    }
    orgs = {key: create_organisation(kind, name=f"{key} {n}") for key, kind in kinds.items()}
    w.orgs = {key: org.id for key, org in orgs.items()}
    w.users = {
        "coordinator": create_user(UserRole.coordinator, organisation=orgs["operator"]),
        "coordinator2": create_user(UserRole.coordinator, organisation=orgs["operator"]),
        "admin": create_user(UserRole.admin, organisation=orgs["operator"]),
        "monitor": create_user(UserRole.monitor, organisation=orgs["monitors"]),
        "other_monitor": create_user(UserRole.monitor, organisation=orgs["other_monitors"]),
        "affiliate": create_user(UserRole.affiliate, organisation=orgs["affiliate_a"]),
        "affiliate_b": create_user(UserRole.affiliate, organisation=orgs["affiliate_b"]),
        "supplier": create_user(UserRole.supplier, organisation=orgs["supplier_x"]),
        "supplier_y": create_user(UserRole.supplier, organisation=orgs["supplier_y"]),
    }
    give_key_access(app, w.users["monitor"])
    w.site = registry.site(f"Assembly Plant {n}", country="CN")
    w.other_site = registry.site(f"Phone Plant {n}", country="TH")
    w.products = {
        "laptop": registry.product(f"Laptop {n}"),
        "phone": registry.product(f"Phone {n}", category="smartphone"),
    }
    w.contracts = {
        "a": registry.contract(w.orgs["affiliate_a"], w.orgs["supplier_x"], [w.products["laptop"]]),
        "b": registry.contract(w.orgs["affiliate_b"], w.orgs["supplier_y"], [w.products["phone"]]),
    }
    registry.disclose(w.users["supplier"].id, w.products["laptop"], w.site)
    registry.disclose(w.users["supplier_y"].id, w.products["phone"], w.other_site)
    return w
