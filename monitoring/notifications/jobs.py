"""The old import path of ``flask jobs run``'s runner, kept while callers move.

The reminder, overdue and escalation jobs belong to cases (:mod:`monitoring.cases.jobs`), which
notifications may not import; cases registers its runner here at start-up
(:mod:`monitoring.cases.subscribers`). Import ``run_notification_jobs`` from
``monitoring.cases.jobs``; this module goes once nothing imports it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Runner = Callable[..., Any]

_runner: list[Runner] = []


def register_runner(runner: Runner) -> None:
    """Name the function that runs the jobs (the cases feature's)."""
    _runner[:] = [runner]


def run_notification_jobs(*args: Any, **kwargs: Any) -> Any:
    """Run the registered jobs runner (see :func:`monitoring.cases.jobs.run_notification_jobs`)."""
    if not _runner:
        raise RuntimeError("no jobs runner registered: the application imports monitoring.cases.subscribers")
    return _runner[0](*args, **kwargs)
