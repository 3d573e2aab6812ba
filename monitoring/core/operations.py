"""Shared pieces for operations: the error they raise."""

from __future__ import annotations

from typing import Any


class OperationError(Exception):
    """An operation refused its input; ``message`` is shown to the user (translated)."""

    def __init__(self, message: Any, field: str | None = None) -> None:
        super().__init__(str(message))
        self.message = message
        self.field = field
