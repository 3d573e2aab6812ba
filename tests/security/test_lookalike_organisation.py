"""Attack: create a monitor organisation that only looks like a real one (zero-width, Cyrillic, bidi marks).
Defence: names are normalised (NFKC, no invisible characters) and compared on a TR39 skeleton kept unique.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from monitoring.accounts import operations
from monitoring.accounts.models import Organisation, OrganisationKind
from monitoring.core import names
from monitoring.core.db import db
from monitoring.core.operations import OperationError
from tests.conftest import post_form

GENUINE = "Straits Labour Watch"
LOOKALIKES = {
    "zero-width space": "Straits Labour\u200b Watch",
    "zero-width joiner at the end": "Straits Labour Watch\u200d",
    "Cyrillic a": "Str\u0430its Labour Watch",
    "Cyrillic S and a": "\u0405traits Labour W\u0430tch",
    "Greek omicron": "Straits Lab\u03bfur Watch",
    "right-to-left mark": "\u200fStraits Labour Watch",
    "bidi isolate and override": "\u2066Straits Labour Watch\u202e\u2069",
    "fullwidth letters": "\uff33\uff54\uff52\uff41\uff49\uff54\uff53 Labour Watch",
    "no-break and ideographic spaces": "Straits\u00a0Labour\u3000Watch",
    "capital I for l": "Straits Iabour Watch",
    "digit zero for o": "Straits Lab0ur Watch",
}


def _count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Organisation.id))) or 0


@pytest.fixture
def genuine(create_organisation):
    return create_organisation(OrganisationKind.monitor, name=GENUINE)


@pytest.mark.parametrize("disguise", list(LOOKALIKES))
def test_the_admin_page_refuses_a_lookalike_and_names_the_original(app, client_for, admin, genuine, disguise):
    client = client_for(admin)
    before = _count(app)
    response = post_form(
        client,
        "/admin/organisations/new",
        {"name": LOOKALIKES[disguise], "kind": "monitor"},
        form_page="/admin/organisations/new",
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "looks the same" in page and GENUINE in page
    assert 'id="name-error"' in page
    assert _count(app) == before


@pytest.mark.parametrize("disguise", list(LOOKALIKES))
def test_the_api_refuses_a_lookalike(app, api_client, admin, genuine, disguise):
    before = _count(app)
    response = api_client(admin).post(
        "/api/v1/organisations", json={"name": LOOKALIKES[disguise], "kind": "monitor"}
    )
    assert response.status_code == 422
    errors = response.get_json()["error"]["errors"]
    assert "name" in errors and GENUINE in errors["name"][0]
    assert _count(app) == before


def test_a_genuinely_different_name_is_accepted_and_stored_clean(app, api_client, admin, genuine):
    name = "\u200bStraits\u00a0Labour  Watch Penang\u200e"
    response = api_client(admin).post("/api/v1/organisations", json={"name": name, "kind": "monitor"})
    assert response.status_code == 201
    assert response.get_json()["name"] == "Straits Labour Watch Penang"


def test_the_database_refuses_a_lookalike_written_past_the_application(app, genuine):
    """Even a row inserted without the operation's check cannot share the skeleton."""
    with app.app_context():
        db.session.add(
            Organisation(
                name=LOOKALIKES["Cyrillic a"],
                name_skeleton=names.name_skeleton(LOOKALIKES["Cyrillic a"]),
                kind=OrganisationKind.monitor,
                is_active=True,
            )
        )
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()


def test_a_puppet_member_cannot_take_a_colleagues_name(app, create_user, genuine):
    real = create_user("monitor", organisation=genuine)
    with app.app_context():
        org = db.session.get(Organisation, genuine.id)
        with pytest.raises(OperationError, match="looks like that of"):
            operations.create_user(
                None,
                email="puppet@example.org",
                name=real.name.replace("o", "\u043e") + "\u200b",
                role=real.role,
                organisation=org,
                password="a long enough passphrase",
            )
        db.session.rollback()
