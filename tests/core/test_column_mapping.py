"""Column mapping: names compared loosely, proposals by name, synonym and values, saved mappings."""

from __future__ import annotations

import re

import pytest
from sqlalchemy.exc import IntegrityError

from monitoring.accounts.models import OrganisationKind, UserRole
from monitoring.core import column_mapping as cm
from monitoring.core.column_mapping import TargetField
from monitoring.core.db import db

ISO = {"CN", "CZ", "TH", "MM", "CHN", "CZE", "THA", "MMR"}
NAMES = {"china", "czechia", "thailand", "myanmar"}


def _country(value: str) -> bool:
    return value.upper() in ISO or value.casefold() in NAMES


def _workers(value: str) -> bool:
    return bool(re.fullmatch(r"(less than|more than)\s+\d+|\d+(-\d+)?", value.casefold()))


FIELDS = (
    TargetField("name", "Name", required=True, synonyms=("facility_name",)),
    TargetField("address", "Address", required=True),
    TargetField("country", "Country", required=True, synonyms=("country_code",), looks_like=_country),
    TargetField("number_of_workers", "Number of workers", looks_like=_workers),
    TargetField("os_id", "Open Supply Hub ID"),
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("\ufeffCountry Code", "country_code"),
        ("  NAME  ", "name"),
        ("Number-of workers", "number_of_workers"),
        ("contributor (list)", "contributor_list"),
        ("group_abc/section_1/consent_given", "consent_given"),
        ("Adresa  závodu", "adresa_zavodu"),
        ("", ""),
        ("???", ""),
    ],
)
def test_names_are_compared_without_case_spacing_punctuation_or_kobo_groups(raw, expected):
    assert cm.normalise(raw) == expected


def test_an_exact_layout_is_proposed_by_name():
    columns = ["name", "address", "country", "number_of_workers", "os_id"]
    mapping = cm.propose(FIELDS, columns, {})
    assert mapping == {key: key for key in columns}
    assert cm.is_exact(FIELDS, columns, mapping)
    assert cm.unmapped_columns(columns, mapping) == []
    assert cm.missing_required(FIELDS, mapping) == []


def test_synonyms_and_labels_are_proposed_and_the_rest_is_listed():
    columns = ["Facility Name", "Address", "Country Code", "sector", "Open Supply Hub ID"]
    mapping = cm.propose(FIELDS, columns, {})
    assert mapping == {
        "name": "Facility Name",
        "address": "Address",
        "country": "Country Code",
        "number_of_workers": None,
        "os_id": "Open Supply Hub ID",
    }
    assert not cm.is_exact(FIELDS, columns, mapping)
    assert cm.unmapped_columns(columns, mapping) == ["sector"]


def test_values_propose_a_column_whose_name_says_nothing():
    columns = ["factory", "street", "land", "staff", "notes"]
    samples = {
        "factory": ["Acme", "Beta"],
        "street": ["1 Road", "2 Road"],
        "land": ["MYANMAR", "cz", "", "tha"],
        "staff": ["Less than 1000", "More than 10000", "1001-5000"],
        "notes": ["cz", "nothing"],  # half country-like: not enough
    }
    mapping = cm.propose(FIELDS, columns, samples)
    assert mapping["country"] == "land"
    assert mapping["number_of_workers"] == "staff"
    assert mapping["name"] is None
    assert [f.key for f in cm.missing_required(FIELDS, mapping)] == ["name", "address"]
    assert cm.unmapped_columns(columns, mapping) == ["factory", "street", "notes"]


def test_a_name_beats_values_and_each_column_serves_one_field():
    columns = ["code", "country"]
    samples = {"code": ["CN", "TH"], "country": ["CN", "TH"]}
    assert cm.propose(FIELDS, columns, samples)["country"] == "country"
    # A column named as one field is not taken for another by its values.
    both = (TargetField("country", "Country", looks_like=_country), TargetField("origin", "Origin"))
    assert cm.propose(both, ["origin"], {"origin": ["CN"]}) == {"country": None, "origin": "origin"}


def test_a_failing_test_on_values_is_no_match():
    def broken(value: str) -> bool:
        raise ValueError(value)

    fields = (TargetField("x", "X", looks_like=broken),)
    assert cm.propose(fields, ["y"], {"y": ["1"]}) == {"x": None}


def test_repeated_and_blank_columns_are_listed_once():
    mapping = {"name": "name"}
    assert cm.unmapped_columns(["name", "", "extra", "extra", " "], mapping) == ["extra"]


def test_clean_mapping_keeps_known_fields_and_columns_only():
    columns = ["a", "b"]
    cleaned = cm.clean_mapping(FIELDS, columns, {"name": "a", "address": "zzz", "bogus": "b", "os_id": 3})
    assert cleaned == {
        "name": "a",
        "address": None,
        "country": None,
        "number_of_workers": None,
        "os_id": None,
    }


def test_samples_are_the_first_non_blank_values():
    samples = cm.sample_values(["a", "b"], [["1", ""], ["2", " x "], ["3"], ["4", "y"]])
    assert samples == {"a": ["1", "2"], "b": ["x", "y"]}


@pytest.fixture
def organisations(app, create_organisation):
    with app.app_context():
        one = create_organisation(OrganisationKind.operator).id
        other = create_organisation(OrganisationKind.operator).id
    return one, other


def test_a_saved_mapping_is_replaced_by_name_and_kept_per_organisation(app, organisations, create_user):
    one, other = organisations
    with app.app_context():
        user = create_user(UserRole.coordinator)
        first = cm.save_mapping(user.id, one, "facilities", " OS  Hub ", {"name": "Facility", "os_id": None})
        again = cm.save_mapping(user.id, one, "facilities", "OS Hub", {"name": "Title"})
        cm.save_mapping(None, other, "facilities", "OS Hub", {"name": "Elsewhere"})
        cm.save_mapping(None, one, "survey", "OS Hub", {"name": "Survey"})
        assert again.id == first.id
        assert again.name == "OS Hub"
        assert again.fields == {"name": "Title"}
        assert [s.fields for s in cm.saved_mappings(one, "facilities")] == [{"name": "Title"}]
        assert cm.saved_mapping(one, "facilities", first.id) is first
        assert cm.saved_mapping(other, "facilities", first.id) is None
        assert cm.saved_mapping(one, "survey", first.id) is None


def test_the_best_saved_mapping_is_one_whose_columns_are_all_in_the_file(app, organisations):
    one, other = organisations
    with app.app_context():
        small = cm.save_mapping(None, one, "facilities", "small", {"name": "Facility"})
        big = cm.save_mapping(None, one, "facilities", "big", {"name": "Facility", "country": "Land"})
        cm.save_mapping(None, one, "facilities", "elsewhere", {"name": "Facility", "country": "Nation"})
        assert cm.best_saved(one, "facilities", ["facility", "LAND", "x"]) is big
        assert big.for_columns(["facility", "LAND", "x"]) == {"name": "facility", "country": "LAND"}
        assert cm.best_saved(one, "facilities", ["Facility", "Other"]) is small
        assert cm.best_saved(one, "facilities", ["Other"]) is None
        assert cm.best_saved(other, "facilities", ["Facility", "Land"]) is None
        assert cm.best_saved(one, "survey", ["Facility", "Land"]) is None


def test_the_database_refuses_two_mappings_of_one_name(app, organisations):
    one, _ = organisations
    with app.app_context():
        db.session.add(cm.SavedMapping(organisation_id=one, kind="k", name="n", mapping="{}"))
        db.session.add(cm.SavedMapping(organisation_id=one, kind="k", name="n", mapping="{}"))
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()
