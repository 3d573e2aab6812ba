"""Fixtures of the registry tests: a builder and a small world of two buyers and two suppliers."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest
from flask import Flask

from monitoring.accounts.models import Organisation, OrganisationKind, User, UserRole
from tests.supplychain.helpers import Registry, World

_counter = itertools.count(1)


@pytest.fixture
def registry(app: Flask) -> Registry:
    return Registry(app)


@pytest.fixture
def world(
    registry: Registry,
    create_user: Callable[..., User],
    create_organisation: Callable[..., Organisation],
) -> World:
    w = World()
    for key, kind in (("A", "affiliate"), ("B", "affiliate"), ("X", "supplier"), ("Y", "supplier")):
        w.orgs[key] = create_organisation(OrganisationKind(kind), name=f"Org {key} {next(_counter)}").id
    operator = create_organisation(OrganisationKind.operator)
    w.users = {
        "coordinator": create_user(UserRole.coordinator, organisation=operator),
        "monitor": create_user(UserRole.monitor),
        "admin": create_user(UserRole.admin, organisation=operator),
        "A": create_user(UserRole.affiliate, organisation=registry.get(Organisation, w.orgs["A"])),
        "B": create_user(UserRole.affiliate, organisation=registry.get(Organisation, w.orgs["B"])),
        "X": create_user(UserRole.supplier, organisation=registry.get(Organisation, w.orgs["X"])),
        "Y": create_user(UserRole.supplier, organisation=registry.get(Organisation, w.orgs["Y"])),
    }
    w.products = {key: registry.product(f"{key} model") for key in ("P1", "P2", "P3")}
    w.sites = {key: registry.site(f"Site {key}") for key in ("S1", "S2", "S3", "S4")}
    w.contracts["A1"] = registry.contract(w.orgs["A"], w.orgs["X"], [w.products["P1"]])
    w.contracts["B1"] = registry.contract(w.orgs["B"], w.orgs["Y"], [w.products["P2"]])
    x, y = w.users["X"].id, w.users["Y"].id
    w.disclosures["D1"] = registry.disclose(x, w.products["P1"], w.sites["S1"])
    w.disclosures["D2"] = registry.disclose(y, w.products["P2"], w.sites["S2"], "battery")
    w.disclosures["D3"] = registry.disclose(x, w.products["P1"], w.sites["S4"], "display", withdrawn=True)
    return w
