"""The remediation world (tests/cases) plus a recycling site, for the circularity tests."""

from __future__ import annotations

import pytest

from monitoring.supplychain.models import SiteKind
from tests.cases.conftest import case_world  # noqa: F401  (the fixture, reused)
from tests.cases.helpers import CaseWorld


@pytest.fixture
def recycler(case_world: CaseWorld) -> int:  # noqa: F811
    """A recycling site of the registry that no supplier disclosed."""
    return case_world.registry.site(
        "Green Loop Recycling", country="DE", kind=SiteKind.recycling, os_id="DE2026GREENLP01"
    )
