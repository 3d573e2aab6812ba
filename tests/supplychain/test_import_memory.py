"""Memory of the facility import does not grow with the file (a memory check, not a timing one)."""

from __future__ import annotations

import gc
import tracemalloc
from pathlib import Path

from monitoring.core.db import db
from monitoring.supplychain.imports import import_facilities
from tests.supplychain.facility_files import write_file


def _peak(app, path: Path) -> tuple[int, int]:
    """Import the file; return the rows created and the tracemalloc peak while importing."""
    with app.app_context(), path.open("rb") as stream:
        gc.collect()
        tracemalloc.start()
        try:
            result = import_facilities(None, stream, filename=path.name)
            db.session.flush()
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        db.session.rollback()
    return result.created, peak


def test_peak_memory_does_not_grow_with_the_file(app, tmp_path):
    small, large, warm = tmp_path / "2000.csv", tmp_path / "20000.csv", tmp_path / "200.csv"
    write_file(warm, 200)
    write_file(small, 2_000)
    write_file(large, 20_000)
    _peak(app, warm)  # compile statements and fill caches first
    created_small, peak_small = _peak(app, small)
    created_large, peak_large = _peak(app, large)
    assert (created_small, created_large) == (2_000, 20_000)
    assert peak_large < 1.5 * peak_small, (peak_small, peak_large)
