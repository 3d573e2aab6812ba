"""Links that features above the registry add to its pages (a site's, a contract's).

The registry cannot import the features above it, nor know who may use their pages. Each such
feature registers a *provider* here (in its ``subscribers.py``): given the user and the object,
it returns the links that user may follow, deciding with its own permissions module. The
registry's page shows whatever the providers return.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import select

from monitoring.accounts.models import User
from monitoring.core.db import db
from monitoring.supplychain.models import Site
from monitoring.supplychain.risk.permissions import risk_sites

# A provider: (user, object) -> [(label, url), ...] for the links that user may follow.
Provider = Callable[[User, Any], list[tuple[str, str]]]
_providers: dict[str, list[Provider]] = {"site": [], "contract": []}


def register_provider(page: str) -> Callable[[Provider], Provider]:
    """Add a provider of links to the ``page`` ("site" or "contract"), as a decorator; registering
    twice has no effect."""

    def add(provider: Provider) -> Provider:
        if provider not in _providers[page]:
            _providers[page].append(provider)
        return provider

    return add


def links(page: str, user: User, obj: Any) -> list[tuple[str, str]]:
    """Every link the providers give this user on this object's page, in registration order."""
    return [link for provider in _providers[page] for link in provider(user, obj)]


# --- the registry's own links ---------------------------------------------------------------


@register_provider("site")
def site_risk_link(user: User, site: Any) -> list[tuple[str, str]]:
    """The site's risk view, for those who may open it."""
    visible = risk_sites(user, date.today()).where(Site.id == site.id).with_only_columns(Site.id)
    if db.session.scalar(select(visible.exists())) is not True:
        return []
    return [
        (
            _("Risk view of this site"),
            url_for("supplychain.site_risk", site_id=site.id),
        )
    ]
