"""Sending decrypted files: as attachments that no browser renders, sniffs or caches."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import quote

from flask import Response, stream_with_context
from werkzeug.utils import secure_filename


def content_disposition(name: str, fallback: str) -> str:
    """An attachment header with an ASCII name and the full name per RFC 6266 / 5987."""
    ascii_name = secure_filename(name) or fallback
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


def attachment(
    chunks: Iterable[bytes], *, name: str, fallback: str, content_type: str, size: int
) -> Response:
    """Stream ``chunks`` as a download named ``name`` (``fallback`` when nothing ASCII is left)."""
    response = Response(stream_with_context(iter(chunks)), mimetype=content_type)
    response.headers["Content-Disposition"] = content_disposition(name, fallback)
    response.headers["Content-Length"] = str(size)
    response.headers["Content-Security-Policy"] = "sandbox"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    return response
