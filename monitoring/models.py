"""Import every model so that the metadata is complete (for Alembic and the tests)."""

from monitoring.accounts.models import ApiToken, LoginAttempt, Organisation, User
from monitoring.core.audit import AuditEntry, AuditHead
from monitoring.core.sessions import WebSession

__all__ = ["ApiToken", "AuditEntry", "AuditHead", "LoginAttempt", "Organisation", "User", "WebSession"]
