"""The contract page's link to the contract's circularity reports (see supplychain.page_links)."""

from __future__ import annotations

from flask import url_for
from flask_babel import gettext as _

from monitoring.accounts.models import User
from monitoring.supplychain import page_links
from monitoring.supplychain.circularity.permissions import can_read_circularity
from monitoring.supplychain.models import Contract


@page_links.register_provider("contract")
def contract_page_links(user: User, contract: Contract) -> list[tuple[str, str]]:
    """The circularity reports, for the contract's buyer, its supplier and coordinators."""
    if not can_read_circularity(user, contract):
        return []
    return [
        (
            _("Circular life of devices: the supplier's reports"),
            url_for("circularity.contract_reports", contract_id=contract.id),
        )
    ]
