"""The disclosure import's optional ``supplies_os_id`` column: the site the part goes to."""

from __future__ import annotations

from monitoring.supplychain.models import SiteKind
from tests.supplychain.helpers import Registry, World
from tests.supplychain.test_import_disclosures import (
    HEADER,
    at_site,
    disclosure_csv,
    disclosures_of,
    refused,
    row,
    run,
)

CHAINED = [*HEADER, "supplies_os_id"]


def test_import_names_the_next_tier_by_os_id(app, world: World, registry: Registry) -> None:
    x = world.users["X"]
    assembly = registry.site("Assembly Known", os_id="CN2026000ASSY01")
    data = disclosure_csv(
        [
            # A new cell site delivering to a pack site created by the same file.
            row(
                part="battery",
                name="Cell Maker",
                address="1 Cell Road",
                country_code="CN",
                supplies_os_id="cn2026000pack01",
            ),
            row(
                part="battery",
                os_id="CN2026000PACK01",
                name="Pack Maker",
                address="2 Pack Road",
                country_code="CN",
                supplies_os_id="CN2026000ASSY01",
            ),
            row(os_id="CN2026000ASSY01"),
        ],
        CHAINED,
    )
    before = len(disclosures_of(app, world.orgs["X"]))
    assert run(app, x, world.orgs["X"], data).created == 3
    made = disclosures_of(app, world.orgs["X"])[before:]
    by_site = {d.site.name: d for d in made}
    assert by_site["Cell Maker"].supplies_site_id == by_site["Pack Maker"].site_id
    assert by_site["Pack Maker"].supplies_site_id == assembly
    assert by_site["Assembly Known"].supplies_site_id is None
    assert by_site["Cell Maker"].site.kind is SiteKind.component


def test_import_refuses_an_unknown_or_own_next_tier(app, world: World, registry: Registry) -> None:
    own = registry.site("Own Site", os_id="CN2026000OWN001")
    data = disclosure_csv(
        [
            row(os_id="CN2026000OWN001", supplies_os_id="CN2026000NOPE01"),
            row(os_id="CN2026000OWN001", part="battery", supplies_os_id="CN2026000OWN001"),
            row(part="display", **at_site(registry, own), supplies_os_id="CN2026000OWN001"),
            row(os_id="CN2026000OWN001", part="cable", supplies_os_id="not an id"),
        ],
        CHAINED,
    )
    # Unknown (line 2), itself by OS id (3) and by name and address (4), not an OS id (5).
    assert sorted(refused(app, world.users["X"], world.orgs["X"], data)) == [
        (line, "supplies_os_id") for line in (2, 3, 4, 5)
    ]
