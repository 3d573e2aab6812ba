"""Reviewing likely duplicate pairs in bulk: merge from one similarity up, dismiss below another."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from monitoring.core.audit import AuditEntry
from monitoring.core.db import db
from monitoring.supplychain import duplicates
from monitoring.supplychain.models import DuplicateState, Site, SiteDuplicate
from tests.conftest import post_form
from tests.supplychain.test_duplicates import get, propose


@pytest.fixture
def proposals(app, world, registry):
    """Four open pairs: a near-identical one (95), a chain through the site it merges (93, and 98
    once that site is merged), a close one (94) and a far one (21)."""
    coordinator = world.users["coordinator"]

    def twin(one: tuple[str, str], other: tuple[str, str]) -> tuple[int, int]:
        return registry.site(one[0], address=one[1]), registry.site(other[0], address=other[1])

    alpha, alpha_twin = twin(
        ("Alpha Circuits Co., Ltd.", "12 Long Road, Shenzhen"),
        ("ALPHA CIRCUITS LIMITED", "12 Long Road, Bao An, Shenzhen"),
    )
    alpha_third = registry.site("Alpha Circuit", address="12 Long Road Shenzhen")
    beta, beta_twin = twin(("Beta Display Co., Ltd.", "5 Park Avenue"), ("Beta Displays", "7 Park Avenue"))
    gamma, omega = twin(("Gamma Power", "1 Road"), ("Omega Optical", "99 Hill Street"))
    return {
        "same": propose(app, coordinator, alpha, alpha_twin),
        # Proposed against the twin: once the twin is merged, it points at alpha.
        "chain": propose(app, coordinator, alpha_twin, alpha_third),
        "close": propose(app, coordinator, beta, beta_twin),
        "far": propose(app, coordinator, gamma, omega),
        "sites": {"alpha": alpha, "alpha_twin": alpha_twin, "alpha_third": alpha_third},
    }


def states(app, proposals) -> dict[str, DuplicateState]:
    return {key: get(app, SiteDuplicate, proposals[key]).state for key in ("same", "chain", "close", "far")}


def audit_count(app, action: str) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).where(AuditEntry.action == action)) or 0


def test_the_list_shows_each_pairs_similarity(world, proposals, client_for):
    text = client_for(world.users["coordinator"]).get("/sites/duplicates").get_data(as_text=True)
    assert all(f"<td>{score}</td>" in text for score in (95, 93, 94, 21))
    assert 'action="/sites/duplicates/review"' in text


def test_page_merges_from_one_similarity_and_dismisses_below_another(app, world, proposals, client_for):
    client = client_for(world.users["coordinator"])
    merges, dismissals = audit_count(app, "site.merge"), audit_count(app, "site.duplicate_dismiss")
    response = post_form(
        client,
        "/sites/duplicates/review",
        {"accept_from": "95", "dismiss_below": "50"},
        form_page="/sites/duplicates",
    )
    assert response.status_code == 302
    assert states(app, proposals) == {
        "same": DuplicateState.merged,
        "chain": DuplicateState.merged,
        "close": DuplicateState.proposed,
        "far": DuplicateState.dismissed,
    }
    # One audit entry per decision, as a single review writes.
    assert (audit_count(app, "site.merge"), audit_count(app, "site.duplicate_dismiss")) == (
        merges + 2,
        dismissals + 1,
    )
    ids = proposals["sites"]
    alpha = ids["alpha"]
    assert [get(app, Site, ids[key]).merged_into_id for key in ("alpha", "alpha_twin", "alpha_third")] == [
        None,
        alpha,
        alpha,
    ]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Pairs merged: 2. Pairs dismissed: 1." in page
    assert "Beta Displays" in page  # the pair in between stays open


def test_page_with_one_threshold_only_decides_that_side(app, world, proposals, client_for):
    client = client_for(world.users["coordinator"])
    post_form(client, "/sites/duplicates/review", {"dismiss_below": "95"}, form_page="/sites/duplicates")
    assert states(app, proposals) == {
        "same": DuplicateState.proposed,
        "chain": DuplicateState.dismissed,
        "close": DuplicateState.dismissed,
        "far": DuplicateState.dismissed,
    }


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Give a similarity to merge from, one to dismiss below, or both."),
        (
            {"accept_from": "60", "dismiss_below": "70"},
            "The similarity to dismiss below cannot be above the one to merge from.",
        ),
        ({"accept_from": "101"}, "Number must be between 0 and 100."),
    ],
)
def test_page_refuses_unclear_thresholds(app, world, proposals, client_for, data, message):
    client = client_for(world.users["coordinator"])
    response = post_form(client, "/sites/duplicates/review", data, form_page="/sites/duplicates")
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert set(states(app, proposals).values()) == {DuplicateState.proposed}


def test_api_reviews_in_bulk(app, world, proposals, api_client):
    api = api_client(world.users["coordinator"])
    close = api.get(f"/api/v1/sites/duplicates/{proposals['close']}").get_json()
    assert (close["state"], close["similarity"]) == ("proposed", 94)
    response = api.post("/api/v1/sites/duplicates/review", json={"accept_from": 95, "dismiss_below": 22})
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {
        "merged": [proposals["same"], proposals["chain"]],
        "dismissed": [proposals["far"]],
        "left": 0,
    }
    # The chained pair was carried over to the site that stayed before it was merged.
    chain = api.get(f"/api/v1/sites/duplicates/{proposals['chain']}").get_json()
    assert (chain["state"], chain["site"]["id"]) == ("merged", proposals["sites"]["alpha"])


def test_api_refuses_unclear_thresholds(world, proposals, api_client):
    api = api_client(world.users["coordinator"])
    response = api.post("/api/v1/sites/duplicates/review", json={})
    assert response.status_code == 422
    assert "accept_from" in response.get_json()["error"]["errors"]
    response = api.post("/api/v1/sites/duplicates/review", json={"accept_from": 50, "dismiss_below": 80})
    assert response.status_code == 422
    assert "dismiss_below" in response.get_json()["error"]["errors"]
    assert api.post("/api/v1/sites/duplicates/review", json={"accept_from": -1}).status_code == 422


@pytest.mark.parametrize("who", ["admin", "monitor", "A", "X"])
def test_only_coordinators_review_in_bulk(app, world, proposals, client_for, api_client, who):
    user = world.users[who]
    # With a valid CSRF token (from a page the user may see), so the refusal is the role's.
    response = post_form(client_for(user), "/sites/duplicates/review", {"accept_from": "0"}, form_page="/")
    assert response.status_code == 404
    response = api_client(user).post("/api/v1/sites/duplicates/review", json={"accept_from": 0})
    assert response.status_code == 404
    assert set(states(app, proposals).values()) == {DuplicateState.proposed}


def test_a_review_decides_at_most_its_limit_and_says_how_many_are_left(
    app, world, proposals, client_for, monkeypatch
):
    monkeypatch.setattr(duplicates, "MAX_BULK_DECISIONS", 2)
    client = client_for(world.users["coordinator"])
    data = {"dismiss_below": "100"}
    response = post_form(client, "/sites/duplicates/review", data, form_page="/sites/duplicates")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Pairs merged: 0. Pairs dismissed: 2." in page
    assert "2 more pairs match: review again to decide them." in page
    assert list(states(app, proposals).values()).count(DuplicateState.dismissed) == 2


@pytest.mark.parametrize("value", [2.5e-42, 90.5, "90", True])
def test_a_similarity_that_is_not_a_whole_number_is_refused(api_client, coordinator, value):
    """Found by schemathesis (seed 20261207): 2.5e-42 was read as 0 and the review ran."""
    response = api_client(coordinator).post("/api/v1/sites/duplicates/review", json={"accept_from": value})
    assert response.status_code == 422
