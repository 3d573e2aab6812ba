"""Likely duplicate sites: who reviews them, proposing a pair by hand, merging and dismissing.

Imports propose pairs (see :mod:`monitoring.supplychain.imports`); a coordinator decides.
Merging keeps the merged site's row as history (``merged_into_id``), moves its disclosures to
the site that stays and never happens without that decision.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, or_, select, update

from monitoring.accounts.models import User
from monitoring.core import audit, hooks
from monitoring.core.db import db
from monitoring.core.operations import OperationError
from monitoring.core.types import utcnow
from monitoring.supplychain.import_staging import REASON_OTHER_OS_ID, REASON_SAME_AS_OS_ID, REASON_SAME_NAME
from monitoring.supplychain.matching import site_similarity
from monitoring.supplychain.models import Disclosure, DuplicateState, Site, SiteDuplicate
from monitoring.supplychain.operations_names import REASON_ALTERNATIVE_NAME, carry_names
from monitoring.supplychain.permissions import can_review_duplicates, visible_duplicates

logger = logging.getLogger(__name__)

REASON_MANUAL = "manual"

REASON_TITLES = {
    REASON_SAME_NAME: _l("Same name and country, different address"),
    REASON_OTHER_OS_ID: _l("Same name and address, another Open Supply Hub id"),
    REASON_SAME_AS_OS_ID: _l("Same name and address as the site with this Open Supply Hub id"),
    REASON_MANUAL: _l("Proposed by a coordinator"),
    REASON_ALTERNATIVE_NAME: _l("One site's name is another name of the other site, in the same country"),
}


def reason_title(reason: str) -> str:
    """A proposal's reason in the reader's language (a coordinator's own words stay as typed)."""
    title = REASON_TITLES.get(reason)
    return str(title) if title is not None else reason


# --- queries -------------------------------------------------------------------------------


def disclosure_counts(site_ids: set[int]) -> dict[int, int]:
    """How many disclosures name each site (one query)."""
    if not site_ids:
        return {}
    rows = db.session.execute(
        select(Disclosure.site_id, func.count(Disclosure.id))
        .where(Disclosure.site_id.in_(site_ids))
        .group_by(Disclosure.site_id)
    ).all()
    return {site_id: count for site_id, count in rows}


# --- operations -----------------------------------------------------------------------------


def _pair(site_id: int, candidate_id: int) -> Any:
    return or_(
        (SiteDuplicate.site_id == site_id) & (SiteDuplicate.candidate_id == candidate_id),
        (SiteDuplicate.site_id == candidate_id) & (SiteDuplicate.candidate_id == site_id),
    )


def propose_duplicate(actor: User, site: Site, candidate: Site, reason: str = "") -> SiteDuplicate:
    """Propose by hand that ``candidate`` be merged into ``site``."""
    if not can_review_duplicates(actor):
        raise OperationError(_l("Only coordinators can propose duplicate sites."))
    reason = " ".join(reason.split())
    if len(reason) > 200:
        raise OperationError(_l("At most %(num)s characters.", num=200), field="reason")
    if site.id == candidate.id:
        raise OperationError(_l("Choose two different sites."), field="candidate_id")
    for field, one in (("site_id", site), ("candidate_id", candidate)):
        if one.merged_into_id is not None:
            raise OperationError(
                _l(
                    "Site %(id)s was already merged into site %(target)s.",
                    id=one.id,
                    target=one.merged_into_id,
                ),
                field=field,
            )
    existing = db.session.scalars(select(SiteDuplicate).where(_pair(site.id, candidate.id))).all()
    if any(d.state is DuplicateState.proposed for d in existing):
        raise OperationError(_l("These two sites are already proposed as duplicates."), field="candidate_id")
    same_way = next((d for d in existing if d.site_id == site.id), None)
    if same_way is not None:
        # A dismissed pair is proposed again: reopen it (its decision stays in the audit log).
        previous = same_way.state.value
        same_way.state = DuplicateState.proposed
        same_way.reason = reason or REASON_MANUAL
        same_way.decided_dt = None
        same_way.decided_by = None
        duplicate = same_way
    else:
        previous = None
        duplicate = SiteDuplicate(site=site, candidate=candidate, reason=reason or REASON_MANUAL)
        db.session.add(duplicate)
    db.session.flush()
    audit.record(
        "site.duplicate_propose",
        f"Proposed site {candidate.id} {candidate.name!r} as a duplicate of site {site.id} {site.name!r}",
        actor=actor,
        obj=duplicate,
        data={
            "site_id": site.id,
            "candidate_id": candidate.id,
            "reason": duplicate.reason,
            "reopened_from": previous,
        },
    )
    return duplicate


def _decide(duplicate: SiteDuplicate, actor: User, state: DuplicateState) -> None:
    duplicate.state = state
    duplicate.decided_dt = utcnow()
    duplicate.decided_by = actor


def _check_open(duplicate: SiteDuplicate) -> None:
    if duplicate.state is not DuplicateState.proposed:
        raise OperationError(
            _l("This pair was already decided: %(state)s.", state=duplicate.state.title.lower())
        )


def dismiss_duplicate(actor: User, duplicate: SiteDuplicate) -> None:
    """Record that the two sites are different places."""
    if not can_review_duplicates(actor):
        raise OperationError(_l("Only coordinators can decide about duplicate sites."))
    _check_open(duplicate)
    _decide(duplicate, actor, DuplicateState.dismissed)
    db.session.flush()
    audit.record(
        "site.duplicate_dismiss",
        f"Dismissed site {duplicate.candidate_id} as a duplicate of site {duplicate.site_id}",
        actor=actor,
        obj=duplicate,
        data={"site_id": duplicate.site_id, "candidate_id": duplicate.candidate_id},
    )


def merge_duplicate(actor: User, duplicate: SiteDuplicate, *, keep_candidate: bool = False) -> Site:
    """Merge one site of the pair into the other; return the site that stays.

    The proposal's ``site`` stays unless ``keep_candidate``. The merged site keeps its row
    (``merged_into_id``, ``merged_dt``); its disclosures move to the site that stays, and so does
    whatever the features above name it by (worker reports, findings, cases: they receive
    :data:`~monitoring.core.hooks.site_merged`); the site that stays takes its Open Supply Hub
    id if it has none, and its name and alternative names as alternative names; sites merged
    into it earlier now point to the site that stays; its other open proposals are carried over
    to the site that stays.
    """
    if not can_review_duplicates(actor):
        raise OperationError(_l("Only coordinators can decide about duplicate sites."))
    _check_open(duplicate)
    kept, merged = duplicate.site, duplicate.candidate
    if keep_candidate:
        reverse = db.session.scalar(
            select(SiteDuplicate).where(
                SiteDuplicate.site_id == merged.id, SiteDuplicate.candidate_id == kept.id
            )
        )
        if reverse is not None:
            raise OperationError(
                _l("The pair is also proposed the other way round: decide it there."), field="keep"
            )
        kept, merged = merged, kept
        duplicate.site, duplicate.candidate = kept, merged
    for one in (kept, merged):
        if one.merged_into_id is not None:
            raise OperationError(
                _l(
                    "Site %(id)s was already merged into site %(target)s: dismiss this pair and "
                    "propose the site it was merged into instead.",
                    id=one.id,
                    target=one.merged_into_id,
                )
            )
    now = utcnow()
    moved = list(db.session.scalars(select(Disclosure.id).where(Disclosure.site_id == merged.id)))
    if moved:
        db.session.execute(
            update(Disclosure)
            .where(Disclosure.site_id == merged.id)
            .values(site_id=kept.id)
            .execution_options(synchronize_session="fetch")
        )
    # What the features above name the merged site by (worker reports, findings, cases) moves
    # with it; each receiver says how many rows it moved, for the audit entry.
    followed: dict[str, int] = {"worker_reports": 0}
    hooks.site_merged.send(user=actor, source=merged, target=kept, moved=followed)
    earlier = list(db.session.scalars(select(Site.id).where(Site.merged_into_id == merged.id)))
    if earlier:
        db.session.execute(
            update(Site)
            .where(Site.merged_into_id == merged.id)
            .values(merged_into_id=kept.id)
            .execution_options(synchronize_session="fetch")
        )
    os_id_moved = None
    if kept.os_id is None and merged.os_id is not None:
        # The id is unique: free it on the merged site before the kept site takes it.
        os_id_moved = merged.os_id
        merged.os_id = None
        db.session.flush()
        kept.os_id = os_id_moved
    names_added = carry_names(merged, kept)
    merged.merged_into = kept
    merged.merged_dt = now
    _decide(duplicate, actor, DuplicateState.merged)
    db.session.flush()
    carried, dropped = _carry_over_proposals(duplicate, merged, kept)
    audit.record(
        "site.merge",
        f"Merged site {merged.id} {merged.name!r} into site {kept.id} {kept.name!r}",
        actor=actor,
        obj=kept,
        data={
            "duplicate_id": duplicate.id,
            "kept_site_id": kept.id,
            "merged_site_id": merged.id,
            "merged_site": {
                "name": merged.name,
                "address": merged.address,
                "city": merged.city,
                "country": merged.country,
                "os_id": os_id_moved or merged.os_id,
            },
            "os_id_moved": os_id_moved,
            "names_added": names_added,
            "disclosures_moved": moved,
            "worker_reports_moved": followed.get("worker_reports", 0),
            **{
                f"{name}_moved": count for name, count in sorted(followed.items()) if name != "worker_reports"
            },
            "sites_repointed": earlier,
            "proposals_carried_over": carried,
            "proposals_dropped": dropped,
        },
    )
    logger.info("site %s merged into %s by %s", merged.id, kept.id, actor.id)
    return kept


# At most this many pairs are decided by one bulk review (one transaction); the rest wait.
MAX_BULK_DECISIONS = 500


def similarity(pair: SiteDuplicate) -> int:
    """How alike the pair's two sites look, from 0 to 100 (see :func:`site_similarity`)."""
    site, candidate = pair.site, pair.candidate
    return site_similarity(
        (site.name, site.address, site.country), (candidate.name, candidate.address, candidate.country)
    )


@dataclass
class BulkReview:
    """The pairs a bulk review merged and dismissed, and how many open pairs it left."""

    merged: list[int] = dataclasses.field(default_factory=list)
    dismissed: list[int] = dataclasses.field(default_factory=list)
    left: int = 0


def _check_thresholds(accept_from: int | None, dismiss_below: int | None) -> None:
    if accept_from is None and dismiss_below is None:
        raise OperationError(
            _l("Give a similarity to merge from, one to dismiss below, or both."), field="accept_from"
        )
    if accept_from is not None and dismiss_below is not None and dismiss_below > accept_from:
        raise OperationError(
            _l("The similarity to dismiss below cannot be above the one to merge from."),
            field="dismiss_below",
        )


def review_duplicates(actor: User, *, accept_from: int | None, dismiss_below: int | None) -> BulkReview:
    """Merge every open pair whose similarity is at least ``accept_from`` (the proposal's site
    stays) and dismiss every one below ``dismiss_below``, oldest first, each as a single decision
    is taken and audited; pairs in between stay open, and so do those past
    :data:`MAX_BULK_DECISIONS`."""
    if not can_review_duplicates(actor):
        raise OperationError(_l("Only coordinators can decide about duplicate sites."))
    _check_thresholds(accept_from, dismiss_below)
    review = BulkReview()
    query = visible_duplicates(actor).where(SiteDuplicate.state == DuplicateState.proposed)
    pair_ids = [pair.id for pair in db.session.scalars(query.order_by(SiteDuplicate.id))]
    for pair_id in pair_ids:
        pair = db.session.get(SiteDuplicate, pair_id)
        if pair is None:
            continue  # dropped when an earlier merge made it repeat another pair
        db.session.refresh(pair)  # an earlier merge may have pointed it at the site that stayed
        if (
            pair.state is not DuplicateState.proposed
            or pair.site.merged_into_id
            or pair.candidate.merged_into_id
        ):
            continue
        score = similarity(pair)
        accept = accept_from is not None and score >= accept_from
        dismiss = dismiss_below is not None and score < dismiss_below
        if not accept and not dismiss:
            continue
        if len(review.merged) + len(review.dismissed) >= MAX_BULK_DECISIONS:
            review.left += 1
            continue
        if accept:
            merge_duplicate(actor, pair)
            review.merged.append(pair.id)
        else:
            dismiss_duplicate(actor, pair)
            review.dismissed.append(pair.id)
    logger.info(
        "bulk review by %s: %d pairs merged, %d dismissed, %d left",
        actor.id,
        len(review.merged),
        len(review.dismissed),
        review.left,
    )
    return review


def _carry_over_proposals(decided: SiteDuplicate, merged: Site, kept: Site) -> tuple[list[int], list[int]]:
    """Point the merged site's other open proposals at the kept site; drop those that repeat."""
    others = db.session.scalars(
        select(SiteDuplicate).where(
            SiteDuplicate.id != decided.id,
            SiteDuplicate.state == DuplicateState.proposed,
            or_(SiteDuplicate.site_id == merged.id, SiteDuplicate.candidate_id == merged.id),
        )
    ).all()
    carried: list[int] = []
    dropped: list[int] = []
    for other in others:
        site_id = kept.id if other.site_id == merged.id else other.site_id
        candidate_id = kept.id if other.candidate_id == merged.id else other.candidate_id
        repeats = site_id == candidate_id or db.session.scalar(
            select(SiteDuplicate.id).where(SiteDuplicate.id != other.id, _pair(site_id, candidate_id))
        )
        if repeats:
            dropped.append(other.id)
        else:
            other.site_id, other.candidate_id = site_id, candidate_id
            carried.append(other.id)
    if dropped:
        db.session.execute(
            delete(SiteDuplicate)
            .where(SiteDuplicate.id.in_(dropped))
            .execution_options(synchronize_session="fetch")
        )
    db.session.flush()
    return carried, dropped
