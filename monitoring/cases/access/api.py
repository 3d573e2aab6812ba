"""JSON API of factory access: the same services as the pages."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from monitoring.cases.access import operations, services
from monitoring.cases.access.permissions import READER_ROLES, RECORDER_ROLES
from monitoring.cases.access.schemas import RecordAccessArgs, SiteAccessListSchema, SiteAccessSchema
from monitoring.core.api import route
from monitoring.core.auth import roles
from monitoring.supplychain.services import current


@route(
    "/sites/<int:site_id>/access",
    summary=_l("A site's factory access records"),
    description=_l("Monitors see their organisation's records, coordinators everyone's; the latest first."),
    response=SiteAccessListSchema,
)
@roles(*READER_ROLES)
def site_access(site_id: int) -> Any:
    user = current()
    site = services.load_site(user, site_id)
    return {"site_id": site.id, "records": services.site_access(user, site)}


@route(
    "/sites/<int:site_id>/access",
    method="POST",
    summary=_l("Record a factory access request or visit"),
    description=_l(
        "For monitors. A refused access files, in the same step, a major finding at the site under "
        "the grievance and retaliation standard (GR), linked to the record as finding_id."
    ),
    args=RecordAccessArgs,
    response=SiteAccessSchema,
    status=201,
)
@roles(*RECORDER_ROLES)
def record_access(site_id: int, args: dict[str, Any]) -> Any:
    user = current()
    site = services.load_site(user, site_id)
    return operations.record_access(user, site, operations.AccessData(**args)), 201
