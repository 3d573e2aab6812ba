"""Which encoding and CSV delimiter an import file uses, guessed from its first bytes and header.

Spreadsheets save CSV in the encoding and list separator of the user's locale: Excel in Czech or
German writes Windows-1250 or -1252 with ``;``; LibreOffice may write UTF-16. The guess is made
once, from the start of the file, and the rest is read the same way.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import logging
from collections.abc import Iterable, Iterator
from typing import IO

logger = logging.getLogger(__name__)

# How much of the file the encoding is guessed from.
PEEK_BYTES = 256 * 1024
DELIMITERS = (",", ";", "\t")

_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)

# Bytes that are a common letter in one Windows code page and a rare one in the other:
# Czech, Slovak, Polish and Hungarian letters in 1250 (č ě ř ů ň ď ť ą ę ł ś ź ż ő ű ...),
# Western European ones in 1252 (ñ ã õ à å æ ...). German (ä ö ü ß) is the same in both.
_CENTRAL_BYTES = frozenset(
    b"\xe8\xec\xf8\xf9\xf2\xef\x9d\xb9\xea\xb3\x9c\x9f\xbf\xc8\xcc\xd8\xd9\xd2\xcf\x8d\xa5\xca\xa3\x8c\x8f\xaf\xfb\xdb\xf5\xd5"
)
_WESTERN_BYTES = frozenset(b"\xf1\xe3\xe0\xe5\xe6\xd1\xc3\xc0\xc5\xc6")


def header_name(text: str) -> str:
    """A column name compared without case, spacing, BOM, or the difference of ``_`` and spaces."""
    text = text.replace("\ufeff", "").replace("\u200b", "").replace("\xa0", " ")
    return "_".join(text.strip().casefold().replace("_", " ").split())


class Peeked:
    """A binary stream whose first bytes were read ahead, read again from the start."""

    def __init__(self, stream: IO[bytes], size: int = PEEK_BYTES) -> None:
        self.stream = stream
        self.prefix = stream.read(size)
        self._buffer = io.BytesIO(self.prefix)

    def readline(self, limit: int) -> bytes:
        line = self._buffer.readline(limit)
        if len(line) < limit and not line.endswith(b"\n"):
            line += self.stream.readline(limit - len(line))
        return line

    def read(self, size: int) -> bytes:
        data = self._buffer.read(size)
        if len(data) < size:
            data += self.stream.read(size - len(data))
        return data


def _is_utf8(prefix: bytes) -> bool:
    """Whether the start of the file is UTF-8: all of it, or with valid non-ASCII sequences
    (then a line that is not is a mistake in a UTF-8 file, and named as such)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    with contextlib.suppress(UnicodeDecodeError):
        decoder.decode(prefix, final=False)
        return True
    text = prefix.decode("utf-8", errors="replace")
    return any(ord(c) > 127 and c != "\ufffd" for c in text)


def detect_encoding(prefix: bytes) -> str:
    """``utf-8`` (with or without BOM), ``utf-16`` (with BOM), or the Windows code page
    (``cp1250`` or ``cp1252``) whose typical letters the bytes spell more often."""
    if prefix.startswith(codecs.BOM_UTF8):
        return "utf-8"
    if prefix.startswith(_UTF16_BOMS):
        return "utf-16"
    if _is_utf8(prefix):
        return "utf-8"
    central = sum(byte in _CENTRAL_BYTES for byte in prefix)
    western = sum(byte in _WESTERN_BYTES for byte in prefix)
    try:
        prefix.decode("cp1252")
    except UnicodeDecodeError:
        western = -1  # bytes that Windows-1252 leaves undefined
    return "cp1250" if central > western else "cp1252"


def utf16_lines(source: Peeked, chunk_size: int = 64 * 1024) -> Iterator[str]:
    """The lines of a UTF-16 file (its BOM gives the byte order), each with its line end."""
    decoder = codecs.getincrementaldecoder("utf-16")(errors="replace")
    pending = ""
    while True:
        chunk = source.read(chunk_size)
        pending += decoder.decode(chunk, final=not chunk)
        *lines, pending = pending.split("\n")
        for line in lines:
            yield line + "\n"
        if not chunk:
            break
    if pending:
        yield pending


def _cells(line: str, delimiter: str) -> list[str]:
    return next(csv.reader([line], delimiter=delimiter), [])


def detect_delimiter(header: str, known: Iterable[str]) -> str:
    """The delimiter of a header line: the sniffed one unless another splits it into more
    known column names; a comma when nothing tells."""
    names = frozenset(known)

    def matches(delimiter: str) -> int:
        return sum(header_name(cell) in names for cell in _cells(header, delimiter))

    try:
        sniffed = csv.Sniffer().sniff(header, delimiters="".join(DELIMITERS)).delimiter
    except csv.Error:
        sniffed = ","
    best = max(DELIMITERS, key=matches)
    return best if matches(best) > matches(sniffed) else sniffed
