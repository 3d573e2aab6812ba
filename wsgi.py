"""WSGI entry point: ``gunicorn wsgi:app``.

The ``flask --app wsgi`` commands import this module too. They get the app without the checks
made before serving (:mod:`monitoring.core.startup`), so that ``flask keys init``,
``flask db upgrade`` and ``flask i18n compile`` can prepare what those checks look for.

A configuration that cannot work stops the process with one line on standard error, no
traceback, and exit status 3, which gunicorn reads as "the app cannot boot": it stops instead
of restarting its workers for ever.
"""

import os
import sys

from monitoring import create_app
from monitoring.config import ConfigError

try:
    app = create_app()
    if os.environ.get("FLASK_RUN_FROM_CLI") != "true":
        from monitoring.core.startup import check_serving

        check_serving(app)
except ConfigError as exc:
    print(f"monitoring: refusing to start: {exc}", file=sys.stderr)
    raise SystemExit(3) from None
