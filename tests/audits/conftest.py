"""The audits tests start from the remediation tests' world (tests/cases/helpers.py)."""

from __future__ import annotations

import io
from typing import Any

from tests.cases.conftest import case_world  # noqa: F401 (the fixture, shared)
from tests.cases.helpers import CaseWorld

HEADER = "site,audit_date,audit_firm,code_section,finding,severity,status\n"


def audit_csv(*rows: str) -> bytes:
    return (HEADER + "".join(f"{row}\n" for row in rows)).encode()


def upload(api_client: Any, user: Any, data: bytes, name: str = "audits.csv") -> Any:
    return api_client(user).post(
        "/api/v1/audits/imports",
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def passed_audit(api_client: Any, w: CaseWorld, site: int | None = None, day: str = "2026-06-15") -> Any:
    """An audit of the site that found nothing."""
    response = upload(api_client, w.coordinator, audit_csv(f"{site or w.site},{day},Verité Audits,,,,"))
    assert response.status_code == 201, response.get_json()
    return response.get_json()
