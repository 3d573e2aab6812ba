"""Application logs: timestamps, and no personal data.

Log lines name users, reports and organisations by id. Some messages come from elsewhere with
an e-mail address in them (an audit summary, an SMTP server's refusal naming the recipient);
:class:`RedactPersonalData` replaces every address before a handler writes the line. Servers use
``deploy/logging.json`` (gunicorn's ``--log-config-json``), which installs the same filter; other
processes (the ``flask`` commands, ``flask jobs run``) get it from :func:`configure_logging`.
"""

from __future__ import annotations

import logging
import re

FORMAT = "%(asctime)s %(levelname)s [%(process)d] %(name)s: %(message)s"
DATE_FORMAT = "%Y-%m-%dT%H:%M:%S%z"

# Anything shaped like an e-mail address, including internationalised ones.
EMAIL = re.compile(r"[^\s<>()\[\],;:\"'@]+@[^\s<>()\[\],;:\"'@]+\.[^\s<>()\[\],;:\"'@]+")
REDACTED = "[e-mail]"


class RedactPersonalData(logging.Filter):
    """Replace e-mail addresses in a record's message (and its exception text) by ``[e-mail]``."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = EMAIL.sub(REDACTED, message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = EMAIL.sub(REDACTED, record.exc_text)
        return True


def configure_logging(level: int) -> None:
    """Log to standard error with timestamps through the redacting filter, unless the process
    (gunicorn with ``deploy/logging.json``, pytest) has configured logging already."""
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter(FORMAT, DATE_FORMAT))
        handler.addFilter(RedactPersonalData())
        root.addHandler(handler)
        root.setLevel(level)
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
