"""``flask import facilities`` and ``flask import disclosures``."""

from __future__ import annotations

import re

from sqlalchemy import select

from monitoring.core.audit import AuditEntry
from monitoring.core.db import db
from monitoring.supplychain.models import Disclosure, Site
from tests.supplychain.helpers import count_rows
from tests.supplychain.test_import_disclosures import disclosure_csv, row
from tests.supplychain.test_import_facilities import facility_csv, facility_row


def _invoke(app, *args):
    return app.test_cli_runner().invoke(args=["import", *args])


def test_facilities_command_imports_with_a_progress_bar(app, tmp_path):
    path = tmp_path / "osh.csv"
    rows = [facility_row(), facility_row(name="Second Co., Ltd.", is_closed="True"), facility_row()]
    path.write_bytes(facility_csv(rows))
    result = _invoke(app, "facilities", str(path))
    assert result.exit_code == 0, result.output
    assert "imported osh.csv: 3 rows, 1 sites created, 0 updated" in result.stdout
    assert "1 closed facilities skipped" in result.stdout
    assert "1 repeated rows merged into the row they repeat" in result.stdout
    assert "Checking" in result.stderr and "Saving" in result.stderr
    assert [s.name for s in _sites(app)] == ["Example Electronics Co., Ltd."]
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).order_by(AuditEntry.id.desc()))
        assert (entry.action, entry.actor_id) == ("site.import", None)
        assert entry.data_dict["cli"].endswith("import facilities")


def test_facilities_command_prints_the_problems_and_exits_1(app, tmp_path):
    path = tmp_path / "bad.csv"
    rows = [
        facility_row(),
        facility_row(name="B Ltd", country_code="XX"),
        facility_row(name="C Ltd", number_of_workers="many"),
    ]
    path.write_bytes(facility_csv(rows))
    before = count_rows(app, Site), count_rows(app, AuditEntry)
    result = _invoke(app, "facilities", str(path))
    assert result.exit_code == 1
    assert "The file was not imported: 2 problems were found. Nothing was saved." in result.stderr
    problems = re.findall(r"^ *(\d+) +(\S+) ", result.stderr, re.MULTILINE)
    assert problems == [("3", "country_code"), ("4", "number_of_workers")]
    assert (count_rows(app, Site), count_rows(app, AuditEntry)) == before


def test_facilities_command_names_a_line_in_another_encoding(app, tmp_path):
    path = tmp_path / "latin1.csv"
    utf8 = "name,address,country_code\nKutná Ltd,1 Road,CZ\n".encode()
    path.write_bytes(utf8 + "Café Ltd,1 Road,FR\n".encode("latin-1"))
    result = _invoke(app, "facilities", str(path))
    assert result.exit_code == 1
    assert "Line 3 is not UTF-8 text" in result.stderr


def test_facilities_command_needs_an_existing_file(app, tmp_path):
    result = _invoke(app, "facilities", str(tmp_path / "missing.csv"))
    assert result.exit_code == 2


def test_disclosures_command(app, world, registry, tmp_path):
    site = registry.get(Site, world.sites["S3"])
    path = tmp_path / "disclosures.csv"
    path.write_bytes(disclosure_csv([row(name=site.name, address=site.address, country_code="CN")]))
    supplier = registry.get(type(world.users["X"].organisation), world.orgs["X"])
    x = world.users["X"]
    result = _invoke(app, "disclosures", str(path), "--supplier", supplier.name.upper(), "--user", x.email)
    assert result.exit_code == 0, result.output
    assert f"imported disclosures.csv for {supplier.name}: 1 rows, 1 disclosures created" in result.stdout
    with app.app_context():
        made = db.session.scalar(select(Disclosure).order_by(Disclosure.id.desc()))
        assert (made.site_id, made.supplier_id, made.disclosed_by_id) == (site.id, supplier.id, x.id)


def test_disclosures_command_refusals(app, world, registry, tmp_path):
    path = tmp_path / "disclosures.csv"
    site = registry.get(Site, world.sites["S3"])
    path.write_bytes(
        disclosure_csv([row(name=site.name, address=site.address, country_code="CN", model="P2 model")])
    )
    x_name = registry.get(type(world.users["X"].organisation), world.orgs["X"]).name
    y_user = world.users["Y"]
    before = count_rows(app, Disclosure)
    result = _invoke(app, "disclosures", str(path), "--supplier", "Nobody Inc", "--user", y_user.email)
    assert result.exit_code == 1 and "no supplier organisation named 'Nobody Inc'" in result.output
    result = _invoke(app, "disclosures", str(path), "--supplier", x_name, "--user", "nobody@example.org")
    assert result.exit_code == 1 and "no active user" in result.output
    result = _invoke(app, "disclosures", str(path), "--supplier", x_name, "--user", y_user.email)
    assert result.exit_code == 1 and "may not disclose for" in result.output
    result = _invoke(app, "disclosures", str(path), "--supplier", x_name, "--user", world.users["X"].email)
    assert result.exit_code == 1
    assert "is not a product of any contract of" in result.stderr
    assert count_rows(app, Disclosure) == before


def _sites(app):
    with app.app_context():
        return list(db.session.scalars(select(Site).order_by(Site.id)))
