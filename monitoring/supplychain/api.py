"""JSON API of the supply-chain registry."""

from __future__ import annotations
