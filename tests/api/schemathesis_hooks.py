"""schemathesis hooks for tests/api/schemathesis_run.py (loaded through SCHEMATHESIS_HOOKS).

The run's own token must outlive the run: schemathesis learns token ids from ``GET /me/tokens``
and would revoke the very token it authenticates with, leaving every later request a 401. A
revocation of that token (its id is in ``FUZZ_KEEP_TOKEN_IDS``) is sent for id 0 instead, which
names no token: the route is still exercised, with a 404.
"""

from __future__ import annotations

import os
from typing import Any

import schemathesis

KEEP = {int(value) for value in os.environ.get("FUZZ_KEEP_TOKEN_IDS", "").split(",") if value.strip()}


@schemathesis.hook
def before_call(context: schemathesis.HookContext, case: schemathesis.Case, kwargs: dict[str, Any]) -> None:
    revokes = case.method.upper() == "DELETE" and case.path.endswith("/me/tokens/{token_id}")
    if revokes and case.path_parameters and case.path_parameters.get("token_id") in KEEP:
        case.path_parameters["token_id"] = 0
