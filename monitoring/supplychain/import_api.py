"""JSON API for imports and likely duplicate sites."""

from __future__ import annotations
