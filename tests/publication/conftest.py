"""The remediation world of tests/cases, reused for publication and search."""

from tests.cases.conftest import case_world  # noqa: F401
