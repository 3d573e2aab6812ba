"""Excel workbooks (.xlsx) as import files: the first sheet's rows, every value as text.

A file is taken for a workbook by its content (the ZIP signature every .xlsx starts with), not by
its name. It is read with openpyxl in read-only mode, row by row; dates and numbers become the text
a CSV export of the sheet would hold (``2024-03-01``, ``1200``, ``16.5``), so the same checks apply.
"""

from __future__ import annotations

import contextlib
import io
import logging
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from datetime import date, datetime, time
from typing import IO, Any, Protocol

from flask_babel import lazy_gettext as _l

from monitoring.supplychain.import_reading import CsvFile, ErrorLog, Progress

logger = logging.getLogger(__name__)

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Excel 97-2003 (.xls) and other old Office files
# A workbook is copied to a temporary file when its stream cannot seek; small ones stay in memory.
SPOOL_BYTES = 8 * 1024 * 1024


class TableFile(Protocol):
    """The records of an import file, CSV or workbook, each with the line it starts on."""

    stopped: bool

    def records(self) -> Iterator[tuple[int, list[str]]]: ...


def cell_text(value: Any) -> str:
    """A cell's value as the text a CSV export would hold."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    return str(value)


class XlsxFile:
    """The rows of a workbook's first sheet (a row's line is its row number)."""

    def __init__(self, stream: IO[bytes], errors: ErrorLog, progress: Progress, size: int | None = None):
        self.stream = stream
        self.errors = errors
        self.progress = progress
        self.size = size
        self.stopped = False

    def _seekable(self) -> IO[bytes]:
        with contextlib.suppress(AttributeError, OSError):  # a stream that cannot seek is copied
            if self.stream.seekable():
                self.stream.seek(0)
                return self.stream
        copy = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 - closed in records()
        shutil.copyfileobj(self.stream, copy)
        copy.seek(0)
        return copy

    def records(self) -> Iterator[tuple[int, list[str]]]:
        from openpyxl import load_workbook  # type: ignore[import-untyped]

        source = self._seekable()
        try:
            try:
                workbook = load_workbook(source, read_only=True, data_only=True)
            except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
                logger.info("not a workbook: %s", exc)
                self.errors.add(
                    1,
                    None,
                    _l(
                        "The file is a ZIP archive but not an Excel workbook (.xlsx): save the list as "
                        "an .xlsx workbook or as CSV."
                    ),
                )
                self.stopped = True
                return
            try:
                yield from self._rows(workbook)
            finally:
                workbook.close()
        finally:
            if source is not self.stream:
                source.close()

    def _rows(self, workbook: Any) -> Iterator[tuple[int, list[str]]]:
        sheet = workbook.worksheets[0] if workbook.worksheets else None
        if sheet is None:
            return
        total = sheet.max_row if isinstance(sheet.max_row, int) and sheet.max_row > 0 else None
        reported = 0
        for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            cells = [cell_text(value).strip() for value in row]
            while cells and not cells[-1]:
                cells.pop()
            if self.size and total:
                done = min(self.size * number // total, self.size)
                self.progress.read(done - reported)
                reported = done
            if any(cells):
                yield number, cells
        if self.size and reported < self.size:
            self.progress.read(self.size - reported)


class _Prefixed:
    """A stream whose first bytes were read to tell what it is, read again from the start."""

    def __init__(self, prefix: bytes, stream: IO[bytes]) -> None:
        self._buffer = io.BytesIO(prefix)
        self.stream = stream

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            return self._buffer.read() + self.stream.read()
        data = self._buffer.read(size)
        if len(data) < size:
            data += self.stream.read(size - len(data))
        return data

    def readline(self, limit: int = -1) -> bytes:
        line = self._buffer.readline(limit)
        if not line.endswith(b"\n") and (limit is None or limit < 0 or len(line) < limit):
            line += self.stream.readline(-1 if limit is None or limit < 0 else limit - len(line))
        return line


class _Refused:
    """A file of a kind that cannot be read: one problem, no rows."""

    def __init__(self, errors: ErrorLog, message: Any) -> None:
        self.errors, self.message = errors, message
        self.stopped = True

    def records(self) -> Iterator[tuple[int, list[str]]]:
        self.errors.add(1, None, self.message)
        return iter(())


def open_table(
    stream: IO[bytes], errors: ErrorLog, progress: Progress, *, size: int | None = None
) -> TableFile:
    """The file as a workbook if its content is one (ZIP), else as CSV."""
    seekable = False
    try:
        seekable = bool(stream.seekable())
    except (AttributeError, OSError):
        seekable = False
    if seekable:
        start = stream.tell()
        head = stream.read(len(OLE_MAGIC))
        stream.seek(start)
        rest: IO[bytes] = stream
    else:
        head = stream.read(len(OLE_MAGIC))
        rest = _Prefixed(head, stream)  # type: ignore[assignment]
    if head.startswith(ZIP_MAGIC):
        return XlsxFile(rest, errors, progress, size)
    if head.startswith(OLE_MAGIC):
        return _Refused(
            errors,
            _l("The file is an old Excel workbook (.xls), which cannot be read: save it as .xlsx or as CSV."),
        )
    return CsvFile(rest, errors, progress)
