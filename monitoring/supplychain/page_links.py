"""Links that features above the registry add to its pages (a site's, a contract's).

The registry cannot import the features above it, nor know who may use their pages. Each such
feature registers a *provider* here (in its ``subscribers.py``): given the user and the object,
it returns the links that user may follow, deciding with its own permissions module. The
registry's page shows whatever the providers return.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from monitoring.accounts.models import User

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
