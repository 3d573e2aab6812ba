"""JSON API of sealed testimony (monitors only)."""

from __future__ import annotations
