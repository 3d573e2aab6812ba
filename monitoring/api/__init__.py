"""The JSON API under /api/v1: the blueprint with every feature's routes."""

# Importing a feature's api module declares its routes on the blueprint.
from monitoring.accounts import api as accounts_api  # noqa: F401
from monitoring.accounts import key_api as accounts_key_api  # noqa: F401
from monitoring.accounts import two_factor_api  # noqa: F401
from monitoring.admin import api as admin_api  # noqa: F401
from monitoring.cases import api as cases_api  # noqa: F401
from monitoring.cases import retaliation_api as cases_retaliation_api  # noqa: F401
from monitoring.cases.access import api as access_api  # noqa: F401
from monitoring.cases.audits import api as audits_api  # noqa: F401
from monitoring.cases.compliance import api as compliance_api  # noqa: F401
from monitoring.cases.meetings import api as meetings_api  # noqa: F401
from monitoring.core.api import bp
from monitoring.notifications import api as notifications_api  # noqa: F401
from monitoring.publication import api as publication_api  # noqa: F401
from monitoring.reporting import api as reporting_api  # noqa: F401
from monitoring.reporting import export_api  # noqa: F401
from monitoring.supplychain import api as supplychain_api  # noqa: F401
from monitoring.supplychain import import_api as supplychain_import_api  # noqa: F401
from monitoring.supplychain.circularity import api as circularity_api  # noqa: F401
from monitoring.testimony import api as testimony_api  # noqa: F401
from monitoring.testimony import (
    retaliation_api,  # noqa: F401
    routing_api,  # noqa: F401
    survey_api,  # noqa: F401
)

__all__ = ["bp"]
