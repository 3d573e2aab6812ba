"""The running program's source code, offered to everyone who uses it (AGPL-3.0, section 13).

Every page's footer links to :func:`source_archive`, a ``.tar.gz`` of the code this server runs:
the ``monitoring`` package (templates and static files included), the migrations, the
translation catalogs, the deployment files and the top-level project files. An operator who
changes the code therefore offers the changed code without further steps. ``SOURCE_URL``
points the link elsewhere instead (a public repository of the exact version deployed).
"""

from __future__ import annotations

import gzip
import io
import tarfile
from collections.abc import Iterator
from pathlib import Path

from flask import Blueprint, Flask, Response, current_app, url_for

from monitoring.config import ROOT
from monitoring.core.auth import public

bp = Blueprint("source", __name__)

PACKAGE = Path(__file__).resolve().parent.parent
# Beside the package when it runs from a checkout (as deploy/ installs it).
PROJECT_FILES = (
    "LICENSE",
    "README.md",
    "pyproject.toml",
    "requirements.lock",
    "requirements-dev.lock",
    "Makefile",
    "wsgi.py",
)
PROJECT_DIRS = ("migrations", "translations", "deploy", "docs")
SKIPPED = frozenset({"__pycache__", "instance", ".venv"})
SKIPPED_SUFFIXES = (".pyc", ".mo")
ARCHIVE_NAME = "monitoring-source.tar.gz"


def _files() -> Iterator[tuple[Path, str]]:
    roots = [(PACKAGE, "monitoring")]
    if (ROOT / "pyproject.toml").is_file():
        roots += [(ROOT / name, name) for name in PROJECT_DIRS if (ROOT / name).is_dir()]
        for name in PROJECT_FILES:
            if (ROOT / name).is_file():
                yield ROOT / name, name
    for base, prefix in roots:
        for path in sorted(base.rglob("*")):
            relative = path.relative_to(base)
            if any(part in SKIPPED for part in relative.parts) or not path.is_file():
                continue
            if path.suffix in SKIPPED_SUFFIXES or path.is_symlink():
                continue
            yield path, f"{prefix}/{relative.as_posix()}"


def build_archive() -> bytes:
    """A reproducible ``.tar.gz`` of the source (same files, same bytes: no times, no owners)."""
    buffer = io.BytesIO()
    with (
        gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as compressed,
        tarfile.open(fileobj=compressed, mode="w", format=tarfile.PAX_FORMAT) as archive,
    ):
        for path, name in _files():
            info = tarfile.TarInfo(f"monitoring-source/{name}")
            data = path.read_bytes()
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@bp.route(f"/{ARCHIVE_NAME}")
@public
def source_archive() -> Response:
    cache = current_app.extensions.setdefault("monitoring.source", {})
    if "archive" not in cache:
        cache["archive"] = build_archive()
    return Response(
        cache["archive"],
        mimetype="application/gzip",
        headers={"Content-Disposition": f'attachment; filename="{ARCHIVE_NAME}"'},
    )


def source_url() -> str:
    """Where the footer's "Source code" link points."""
    configured: str = current_app.config.get("SOURCE_URL") or ""
    return configured or url_for("source.source_archive")


def init_source(app: Flask) -> None:
    app.register_blueprint(bp)
    app.add_template_global(source_url)
