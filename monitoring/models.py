"""Import every model so that the metadata is complete (for Alembic and the tests)."""

from monitoring.accounts.models import (
    ApiToken,
    LoginAttempt,
    Organisation,
    OrganisationKey,
    OrganisationKeyGrant,
    User,
)
from monitoring.cases.audits.models import CrosswalkEntry, SocialAudit, SocialAuditFinding
from monitoring.cases.models import (
    Case,
    CaseClosure,
    CaseEvent,
    CaseFile,
    CaseMessage,
    CaseStatusRelease,
    CorrectiveAction,
    Finding,
    FindingReport,
    Remedy,
    SupplierResponse,
)
from monitoring.core.audit import AuditEntry, AuditHead
from monitoring.core.column_mapping import SavedMapping
from monitoring.core.jobs import Job, JobRow
from monitoring.core.sessions import WebSession
from monitoring.core.storage import StoredUpload
from monitoring.notifications.models import Notification
from monitoring.publication.models import CasePublication
from monitoring.reporting.models import FigureSnapshot
from monitoring.supplychain.circularity.models import CircularityReport, CircularitySite
from monitoring.supplychain.models import (
    Contract,
    ContractClause,
    ContractProduct,
    CurrencyRate,
    Disclosure,
    Product,
    Site,
    SiteDuplicate,
    SiteName,
)
from monitoring.testimony.models import (
    CoverageChange,
    Evidence,
    MonitorCoverage,
    ReportCategory,
    ReportGrant,
    ReportMessage,
    SurveyImport,
    ThrottleCounter,
    ThrottleWindowKey,
    WorkerReport,
)
from monitoring.testimony.models_outcomes import ValidationRequest
from monitoring.testimony.models_retaliation import RetaliationAlert, RetaliationCheckIn

__all__ = [
    "ApiToken",
    "AuditEntry",
    "AuditHead",
    "Case",
    "CaseClosure",
    "CaseEvent",
    "CaseFile",
    "CaseMessage",
    "CasePublication",
    "CaseStatusRelease",
    "CircularityReport",
    "CircularitySite",
    "Contract",
    "ContractClause",
    "ContractProduct",
    "CorrectiveAction",
    "CoverageChange",
    "CrosswalkEntry",
    "CurrencyRate",
    "Disclosure",
    "Evidence",
    "FigureSnapshot",
    "Finding",
    "FindingReport",
    "Job",
    "JobRow",
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
    "RetaliationAlert",
    "RetaliationCheckIn",
    "SavedMapping",
    "Site",
    "SiteDuplicate",
    "SiteName",
    "SocialAudit",
    "SocialAuditFinding",
    "StoredUpload",
    "SupplierResponse",
    "SurveyImport",
    "ThrottleCounter",
    "ThrottleWindowKey",
    "User",
    "ValidationRequest",
    "WebSession",
    "WorkerReport",
]
