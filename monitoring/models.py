"""Import every model so that the metadata is complete (for Alembic and the tests)."""

from monitoring.accounts.models import (
    ApiToken,
    LoginAttempt,
    Organisation,
    OrganisationKey,
    OrganisationKeyGrant,
    User,
)
from monitoring.core.audit import AuditEntry, AuditHead
from monitoring.core.sessions import WebSession
from monitoring.supplychain.models import (
    Contract,
    ContractClause,
    ContractProduct,
    CurrencyRate,
    Disclosure,
    Product,
    Site,
    SiteDuplicate,
)
from monitoring.testimony.models import (
    Evidence,
    MonitorCoverage,
    ReportCategory,
    ReportGrant,
    ReportMessage,
    SurveyImport,
    ThrottleCounter,
    WorkerReport,
)

__all__ = [
    "ApiToken",
    "AuditEntry",
    "AuditHead",
    "Contract",
    "ContractClause",
    "ContractProduct",
    "CurrencyRate",
    "Disclosure",
    "Evidence",
    "LoginAttempt",
    "MonitorCoverage",
    "Organisation",
    "OrganisationKey",
    "OrganisationKeyGrant",
    "Product",
    "ReportCategory",
    "ReportGrant",
    "ReportMessage",
    "Site",
    "SiteDuplicate",
    "SurveyImport",
    "ThrottleCounter",
    "User",
    "WebSession",
    "WorkerReport",
]
