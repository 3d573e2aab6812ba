"""Request bodies that carry sealed content: refused by size before reading, parsed in memory.

Werkzeug spools a multipart file over 500 KB to a temporary file while it parses the body; a
worker's file, testimony or survey export must never reach a disk unencrypted. A view that
takes such a body calls :func:`accept_body` before anything reads it::

    if not accept_body(limit):
        return error_response(413, ...)

A form page whose CSRF token travels in the body declares :func:`csrf_checked_in_view` for the
view and calls :func:`accept_form` instead: the global CSRF check would read the whole body
before the size is known.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from flask import Blueprint, request

from monitoring.core.csrf import csrf


def keep_uploads_in_memory() -> None:
    """Parse this request's files into memory (the body is bounded by ``max_content_length``)."""
    req = request._get_current_object()  # type: ignore[attr-defined]

    def memory_stream(*args: Any, **kwargs: Any) -> io.BytesIO:
        return io.BytesIO()

    req._get_file_stream = memory_stream


def accept_body(limit: int, *, cut_off: int | None = None) -> bool:
    """Prepare to read a body of at most ``limit`` bytes in memory; False when it declares more.

    A body without a declared length is cut off (413) once more than ``cut_off`` bytes are
    read (``limit`` unless said otherwise).
    """
    if request.content_length is not None and request.content_length > limit:
        return False
    request.max_content_length = limit if cut_off is None else cut_off
    keep_uploads_in_memory()
    return True


def accept_form(limit: int) -> bool:
    """:func:`accept_body`, then check the form's CSRF token (a 400 page when it is wrong)."""
    if not accept_body(limit):
        return False
    csrf.protect()
    return True


def csrf_checked_in_view(blueprint: Blueprint, view: Callable[..., Any]) -> None:
    """Leave the CSRF check of ``view`` to :func:`accept_form`, after the size is checked."""

    def exempt(state: Any) -> None:
        csrf.exempt(view)

    blueprint.record_once(exempt)
