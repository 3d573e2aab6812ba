"""Events one feature announces and others act on, so that no feature imports the one above it.

A lower feature announces what happened (``site_merged.send(...)``); the features above it
subscribe in their ``subscribers`` module, which the application imports at start-up. The
receivers run inside the announcing operation's transaction, in the order they subscribed, and
flush like any operation; a receiver that refuses raises ``OperationError`` and the whole
request rolls back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)

Receiver = Callable[..., None]


class Hook:
    """A named event with its receivers."""

    def __init__(self, name: str, doc: str) -> None:
        self.name = name
        self.__doc__ = doc
        self.receivers: list[Receiver] = []

    def connect(self, receiver: Receiver) -> Receiver:
        """Subscribe ``receiver`` (usable as a decorator); subscribing twice has no effect."""
        if receiver not in self.receivers:
            self.receivers.append(receiver)
        return receiver

    def send(self, **payload: Any) -> None:
        for receiver in self.receivers:
            receiver(**payload)

    def __repr__(self) -> str:
        return f"<Hook {self.name}: {len(self.receivers)} receivers>"


site_merged = Hook(
    "site_merged",
    "A duplicate site was merged into another: ``send(user=..., source=Site, target=Site, "
    "moved=dict)``, before the source is marked merged. Whatever names the source moves to the "
    "target; each receiver adds how many rows it moved to ``moved`` (e.g. ``moved['findings']``) "
    "for the merge's audit entry.",
)
user_key_dropped = Hook(
    "user_key_dropped",
    "A user's key pair was dropped (an administrator's password reset, or a key that no longer "
    "opened): ``send(user=User, removed=dict)``. Whatever was sealed to that key for them is "
    "withdrawn; each receiver counts what it removed in ``removed`` (kept in the audit entry).",
)
membership_requested = Hook(
    "membership_requested",
    "A new member waits for a colleague's approval: ``send(user=User)``.",
)
job_finished = Hook(
    "job_finished",
    "A background job (an import) is over, done or failed: ``send(job=Job)``, in the "
    "transaction that records it. The notifications feature tells its owner.",
)
locale_chosen = Hook(
    "locale_chosen",
    "A logged-in user chose a language with the switcher: ``send(user=User, locale=str)``. "
    "The accounts feature keeps it as the user's language.",
)
