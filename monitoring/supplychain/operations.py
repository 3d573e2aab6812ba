"""Operations on the supply-chain registry. They take the actor explicitly, validate, flush and
audit; they never commit.

Sites and products are in :mod:`~monitoring.supplychain.operations_sites` (their alternative
names in :mod:`~monitoring.supplychain.operations_names`); contracts,
disclosures and currency rates in :mod:`~monitoring.supplychain.operations_contracts`.
"""

from __future__ import annotations

from monitoring.supplychain.operations_contracts import (
    ChainData,
    ClauseData,
    ContractData,
    add_contract_product,
    add_product_by_name,
    choosable_site,
    confirm_disclosure,
    create_contract,
    create_disclosure,
    disclosable_product,
    disclose,
    remove_contract_product,
    set_currency_rate,
    supplied_site,
    update_contract,
    withdraw_disclosure,
)
from monitoring.supplychain.operations_names import add_alternative_name, remove_alternative_name
from monitoring.supplychain.operations_sites import (
    MAX_RATE,
    MAX_SPEND,
    SiteData,
    country_choices,
    country_name,
    create_product,
    create_site,
    find_or_create_product,
    find_or_create_site,
    find_product,
    update_product,
    update_site,
)

__all__ = [
    "MAX_RATE",
    "MAX_SPEND",
    "ChainData",
    "ClauseData",
    "ContractData",
    "SiteData",
    "add_alternative_name",
    "add_contract_product",
    "add_product_by_name",
    "choosable_site",
    "confirm_disclosure",
    "country_choices",
    "country_name",
    "create_contract",
    "create_disclosure",
    "create_product",
    "create_site",
    "disclosable_product",
    "disclose",
    "find_or_create_product",
    "find_or_create_site",
    "find_product",
    "remove_alternative_name",
    "remove_contract_product",
    "set_currency_rate",
    "supplied_site",
    "update_contract",
    "update_product",
    "update_site",
    "withdraw_disclosure",
]
