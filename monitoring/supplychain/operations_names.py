"""Alternative names of sites: the Chinese name of a Chinese factory, a trading or former name.

Coordinators add and remove them; facility imports read them from an optional column; a merge
gives the site that stays the names of the merged one. Each name carries the search key the
workplace search compares (see :func:`monitoring.core.names.search_text`). The operations take
the actor explicitly, flush and audit; they never commit.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any, cast

from flask_babel import lazy_gettext as _l
from sqlalchemy import Table, insert, or_, select
from sqlalchemy.engine import Connection

from monitoring.accounts.models import User
from monitoring.core import audit
from monitoring.core.db import db
from monitoring.core.operations import OperationError
from monitoring.core.types import utcnow
from monitoring.supplychain.matching import normalise_name
from monitoring.supplychain.models import Site, SiteDuplicate, SiteName, search_key
from monitoring.supplychain.operations_sites import required_text

logger = logging.getLogger(__name__)

MAX_NAME_LENGTH = 300
# How many alternative names one site may have (a merge may bring more).
MAX_ALTERNATIVE_NAMES = 20
# Separates the names in the ``alternative_names`` column of a facility import.
IMPORT_SEPARATOR = "|"
# Why a pair was proposed as a likely duplicate (stored in ``SiteDuplicate.reason``).
REASON_ALTERNATIVE_NAME = "same_name_as_alternative_name"

site_name_table = cast(Table, SiteName.__table__)
site_table = cast(Table, Site.__table__)


def _check_name(site: Site, name: str | None) -> tuple[str, str]:
    """The cleaned name and its search key, or OperationError."""
    if site.merged_into_id is not None:
        raise OperationError(_l("A merged site cannot be changed."), field="name")
    name = required_text(name, MAX_NAME_LENGTH, "name", _l("Please give the other name."))
    key = search_key(name)
    if not key:
        raise OperationError(_l("The name has no letters or digits."), field="name")
    if key == site.search_key:
        raise OperationError(_l("This is the site's own name."), field="name")
    if any(other.search_key == key for other in site.alternative_names):
        raise OperationError(_l("The site already has this name."), field="name")
    if len(site.alternative_names) >= MAX_ALTERNATIVE_NAMES:
        raise OperationError(
            _l("A site has at most %(num)d other names.", num=MAX_ALTERNATIVE_NAMES), field="name"
        )
    return name, key


def add_alternative_name(actor: User | None, site: Site, name: str | None) -> SiteName:
    """Give the site another name; propose the sites of that name in its country as duplicates."""
    name, key = _check_name(site, name)
    alternative = SiteName(
        name=name, search_key=key, name_key=normalise_name(name), created_by_id=getattr(actor, "id", None)
    )
    site.alternative_names.append(alternative)
    db.session.flush()
    proposed = _propose_same_name(site, alternative.name_key)
    audit.record(
        "site.name_add",
        f"Added the name {name!r} to site {site.id} {site.name!r}",
        actor=actor,
        obj=site,
        data={"site_name_id": alternative.id, "name": name, "duplicates_proposed": proposed},
    )
    return alternative


def remove_alternative_name(actor: User | None, site: Site, alternative: SiteName) -> None:
    if site.merged_into_id is not None:
        raise OperationError(_l("A merged site cannot be changed."))
    if alternative.site_id != site.id:
        raise OperationError(_l("This name belongs to another site."))
    site.alternative_names.remove(alternative)
    db.session.flush()
    audit.record(
        "site.name_remove",
        f"Removed the name {alternative.name!r} from site {site.id} {site.name!r}",
        actor=actor,
        obj=site,
        data={"site_name_id": alternative.id, "name": alternative.name},
    )


def _propose_same_name(site: Site, name_key: str) -> list[int]:
    """Propose the live sites of the site's country whose name, or one of whose alternative
    names, is ``name_key`` as likely duplicates (the older site stays); return their ids."""
    if not name_key:
        return []
    by_name = select(Site.id).where(Site.name_key == f"{site.country}|{name_key}")
    by_other_name = (
        select(SiteName.site_id)
        .join(Site, Site.id == SiteName.site_id)
        .where(SiteName.name_key == name_key, Site.country == site.country)
    )
    others = db.session.scalars(
        select(Site.id)
        .where(
            Site.id != site.id,
            Site.merged_into_id.is_(None),
            or_(Site.id.in_(by_name), Site.id.in_(by_other_name)),
        )
        .order_by(Site.id)
    ).all()
    proposed = []
    for other in others:
        pair = or_(
            (SiteDuplicate.site_id == site.id) & (SiteDuplicate.candidate_id == other),
            (SiteDuplicate.site_id == other) & (SiteDuplicate.candidate_id == site.id),
        )
        if db.session.scalar(select(SiteDuplicate.id).where(pair)) is None:
            kept, candidate = sorted((site.id, other))
            db.session.add(
                SiteDuplicate(site_id=kept, candidate_id=candidate, reason=REASON_ALTERNATIVE_NAME)
            )
            proposed.append(other)
    if proposed:
        db.session.flush()
    return proposed


def carry_names(merged: Site, kept: Site) -> list[str]:
    """Give the site that stays the merged site's name and alternative names it lacks (workers
    who knew the merged site by its name still find the place); return the names added."""
    known = {kept.search_key, *(other.search_key for other in kept.alternative_names)}
    added = []
    for name in (merged.name, *(other.name for other in merged.alternative_names)):
        key = search_key(name)
        if key and key not in known:
            known.add(key)
            kept.alternative_names.append(SiteName(name=name, search_key=key, name_key=normalise_name(name)))
            added.append(name)
    return added


# --- imports ----------------------------------------------------------------------------------


def split_names(text: str) -> list[str]:
    """The names of an import cell (separated by ``|``), cleaned, each once."""
    names: dict[str, str] = {}
    for part in text.split(IMPORT_SEPARATOR):
        name = " ".join(part.split())
        key = search_key(name)
        if key and key not in names:
            names[key] = name
    return list(names.values())


def add_imported_names(connection: Connection, names_of: Iterable[tuple[int, list[str]]]) -> int:
    """Add the names of each (site id, names) an import gives that the site does not bear yet;
    return how many were added. The names were checked when the file was read."""
    wanted = [(site_id, name) for site_id, names in names_of for name in names]
    if not wanted:
        return 0
    site_ids = {site_id for site_id, _name in wanted}
    known: set[tuple[int, str]] = set()
    for query in (
        select(site_name_table.c.site_id, site_name_table.c.search_key).where(
            site_name_table.c.site_id.in_(site_ids)
        ),
        select(site_table.c.id, site_table.c.search_key).where(site_table.c.id.in_(site_ids)),
    ):
        known.update((int(row[0]), str(row[1])) for row in connection.execute(query))
    now = utcnow()
    rows: list[dict[str, Any]] = []
    for site_id, name in wanted:
        key = search_key(name)
        if (site_id, key) not in known:
            known.add((site_id, key))
            rows.append(
                {
                    "site_id": site_id,
                    "name": name,
                    "search_key": key,
                    "name_key": normalise_name(name),
                    "created_dt": now,
                }
            )
    if rows:
        connection.execute(insert(site_name_table), rows)
    return len(rows)
