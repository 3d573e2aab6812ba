"""What testimony does when a lower feature announces an event (see :mod:`monitoring.core.hooks`)."""

from __future__ import annotations
