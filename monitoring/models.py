"""Import every model so that the metadata is complete (for Alembic and the tests)."""

from monitoring.accounts.models import (
    ApiToken,
    LoginAttempt,
    Organisation,
    OrganisationKey,
    OrganisationKeyGrant,
    User,
)
from monitoring.cases.models import (
    Case,
    CaseClosure,
    CaseEvent,
    CaseFile,
    CaseMessage,
    CorrectiveAction,
    Finding,
    FindingReport,
    Remedy,
    SupplierResponse,
)
from monitoring.core.audit import AuditEntry, AuditHead
from monitoring.core.sessions import WebSession
from monitoring.notifications.models import Notification
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
    "Case",
    "CaseClosure",
    "CaseEvent",
    "CaseFile",
    "CaseMessage",
    "Contract",
    "ContractClause",
    "ContractProduct",
    "CorrectiveAction",
    "CurrencyRate",
    "Disclosure",
    "Evidence",
    "Finding",
    "FindingReport",
    "LoginAttempt",
    "MonitorCoverage",
    "Notification",
    "Organisation",
    "OrganisationKey",
    "OrganisationKeyGrant",
    "Product",
    "Remedy",
    "ReportCategory",
    "ReportGrant",
    "ReportMessage",
    "Site",
    "SiteDuplicate",
    "SupplierResponse",
    "SurveyImport",
    "ThrottleCounter",
    "User",
    "WebSession",
    "WorkerReport",
]
