"""An empty PostgreSQL database for a benchmark: ``fresh_database.py SERVER_URL NAME``.

Drops the database ``NAME`` on the server if a previous run left it, creates it empty and
prints its URL, so that ``make bench`` can run each benchmark that fills a database a second
time on PostgreSQL (``BENCH_POSTGRES=postgresql+psycopg://postgres@127.0.0.1:5432``). The
benchmarks leave their databases filled for a look afterwards; the next run drops them.
"""

from __future__ import annotations

import re
import sys

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


def fresh(server: str, name: str) -> str:
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,62}", name):
        raise SystemExit(f"not a plain database name: {name!r}")
    url = make_url(server)
    engine = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__.splitlines()[0])
    print(fresh(sys.argv[1], sys.argv[2]))
