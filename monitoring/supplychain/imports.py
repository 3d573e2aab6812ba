"""Imports: facility lists in Open Supply Hub's layout, and supplier disclosures.

A file is applied whole or not at all. It is read once, as a stream: every record is
checked and the good ones are staged, 1,000 at a time, in a temporary table; repeated rows
are then found in SQL, so memory does not grow with the file. If anything was wrong the
import is refused with the first problems (line, column, message in the reader's language)
and their total, and nothing is written. Otherwise the staged rows are applied in batches
of 1,000 -- matched against existing sites with one query per batch -- inside the caller's
transaction (operations never commit).

Site matching: the Open Supply Hub id first, then the normalised name + address + country
(:mod:`monitoring.supplychain.matching`). A new site whose normalised name and country
equal an older site's is created and proposed to a coordinator as a likely duplicate; it is
never merged silently.

The work is split by stage: :mod:`~monitoring.supplychain.import_reading` (the file and its
values, results and refusals), :mod:`~monitoring.supplychain.import_staging` (the temporary
table and matching against the registry), :mod:`~monitoring.supplychain.import_facilities`
and :mod:`~monitoring.supplychain.import_disclosures`. This module names what callers use.
"""

from __future__ import annotations

from monitoring.supplychain.import_disclosures import import_disclosures
from monitoring.supplychain.import_facilities import import_facilities
from monitoring.supplychain.import_reading import (
    DisclosureImportResult,
    FacilityImportResult,
    ImportRefused,
    Progress,
    RowError,
)
from monitoring.supplychain.import_staging import REASON_OTHER_OS_ID, REASON_SAME_AS_OS_ID, REASON_SAME_NAME
from monitoring.supplychain.permissions import can_import_disclosures, can_import_facilities

__all__ = [
    "REASON_OTHER_OS_ID",
    "REASON_SAME_AS_OS_ID",
    "REASON_SAME_NAME",
    "DisclosureImportResult",
    "FacilityImportResult",
    "ImportRefused",
    "Progress",
    "RowError",
    "can_import_disclosures",
    "can_import_facilities",
    "import_disclosures",
    "import_facilities",
]
