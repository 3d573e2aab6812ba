"""Demonstration data of the supply-chain registry: fictional sites, products, contracts,
currency rates and disclosures.

Every name, address and Open Supply Hub id here is made up. Loading is idempotent: each row is
looked up (sites by OS id or name + address, products by brand + model, contracts by buyer +
reference, disclosures by supplier + product + site + part) before it is created, and rows that
exist are left as they are. Contract and disclosure dates are relative to today, so the links
are in force whenever the demo is loaded.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from monitoring.accounts.models import Organisation, User, UserRole
from monitoring.core.db import db
from monitoring.supplychain import operations
from monitoring.supplychain.matching import site_keys
from monitoring.supplychain.models import (
    ClauseKind,
    Contract,
    CurrencyRate,
    Disclosure,
    DisclosurePart,
    Product,
    ProductCategory,
    Site,
    SiteKind,
    search_key,
)
from monitoring.supplychain.operations import ClauseData, ContractData, SiteData

logger = logging.getLogger(__name__)

K = SiteKind
SITES = {
    "shenzhen": SiteData(
        "Huaxin Precision Electronics (Shenzhen) Co., Ltd.",
        "CN",
        K.final_assembly,
        "No. 18 Fuyuan 2nd Road, Fuyong Subdistrict, Bao'an District",
        "Shenzhen",
        "CN2019123ABC456",
        14500,
        22.6710,
        113.8155,
    ),
    "dongguan": SiteData(
        "Dongguan Everbright Battery Technology Co., Ltd.",
        "CN",
        K.component,
        "36 Xingye Road, Chang'an Town",
        "Dongguan",
        "CN2020088KQT31Z",
        3200,
    ),
    "suzhou": SiteData(
        "Suzhou Lakeside Display Modules Co., Ltd.",
        "CN",
        K.component,
        "Block C, 99 Suhong East Road, Suzhou Industrial Park",
        "Suzhou",
        "CN2018317DMX02P",
        5800,
    ),
    "chongqing": SiteData(
        "Chongqing Western Hills Computer Assembly Ltd.",
        "CN",
        K.final_assembly,
        "8 Xiyong Comprehensive Bonded Zone Avenue, Shapingba District",
        "Chongqing",
        None,
        21000,
    ),
    "ayutthaya": SiteData(
        "Siam Circuit Boards Public Co., Ltd.",
        "TH",
        K.component,
        "Rojana Industrial Park, 1/55 Moo 2, Tambon Khanham, Amphoe Uthai",
        "Phra Nakhon Si Ayutthaya",
        "TH2021045RJN7QA",
        2600,
    ),
    "chonburi": SiteData(
        "Eastern Seaboard Print Systems Co., Ltd.",
        "TH",
        K.final_assembly,
        "Amata City Chonburi, 700/412 Moo 6, Tambon Don Hua Lo",
        "Chon Buri",
        None,
        1900,
    ),
    "penang": SiteData(
        "Penang Bayan Semiconductor Sdn. Bhd.",
        "MY",
        K.component,
        "Plot 87, Phase 4, Bayan Lepas Free Industrial Zone",
        "Bayan Lepas",
        "MY2019210PNG5SB",
        4100,
    ),
    "kulim": SiteData(
        "Kulim Hi-Tech Server Integration Sdn. Bhd.",
        "MY",
        K.final_assembly,
        "Lot 12, Jalan Hi-Tech 3, Kulim Hi-Tech Park",
        "Kulim",
        None,
        1350,
    ),
    "pardubice": SiteData(
        "Labe Electronics Refurbishment s.r.o.",
        "CZ",
        K.recycling,
        "Průmyslová 1421",
        "Pardubice",
        "CZ2022119LBR0EF",
        240,
    ),
    "brno": SiteData(
        "Morava Server Works a.s.",
        "CZ",
        K.final_assembly,
        "Vídeňská 55",
        "Brno",
        None,
        780,
    ),
    "juarez": SiteData(
        "Ensambles del Norte S.A. de C.V.",
        "MX",
        K.final_assembly,
        "Av. de las Industrias 4150, Parque Industrial Antonio J. Bermúdez",
        "Ciudad Juárez",
        "MX2020301ENJ9DQ",
        6300,
    ),
    "guadalajara": SiteData(
        "Reciclados Tecnológicos de Occidente S.A. de C.V.",
        "MX",
        K.recycling,
        "Calle 8 No. 2567, Zona Industrial",
        "Guadalajara",
        None,
        160,
    ),
}

C = ProductCategory
PRODUCTS = {  # brand, model, category
    "laptop": ("Lumenbyte", "Aurora 14 G3", C.laptop),
    "laptop_renew": ("Lumenbyte", "Aurora 14 G2 Renewed", C.laptop),
    "phone": ("Lumenbyte", "Pulse 6", C.smartphone),
    "tablet": ("Lumenbyte", "Slate 11", C.tablet),
    "desktop": ("Lumenbyte", "Tower Mini 5", C.desktop),
    "server": ("Lumenbyte", "Rackline R740", C.server),
    "printer": ("Korvata", "PrintStation M480 MFP", C.printer),
    "display": ("Vistaro", "Meeting Display 65", C.audio_visual),
    "dock": ("Lumenbyte", "USB-C Dock D3", C.other),
}


@dataclass(frozen=True)
class DemoContract:
    affiliate: str
    supplier: str
    reference: str
    title: str
    spend: Decimal
    currency: str
    products: tuple[tuple[str, int], ...]  # product key, quantity
    clauses: tuple[ClauseData, ...]
    start_offset: int = -1  # years from this year
    years: int = 4


LABOUR = ClauseData(
    ClauseKind.labour_standards,
    "The supplier ensures that the goods are produced in compliance with the ILO core conventions, "
    "the national labour law of the country of production and the RBA Code of Conduct, including "
    "limits on working hours, no recruitment fees and no retention of identity documents.",
    "§ 14.1",
)
MONITORING = ClauseData(
    ClauseKind.monitoring,
    "The supplier accepts worker-driven monitoring by the buyer's appointed monitoring "
    "organisation, including offsite worker interviews, and discloses the final assembly sites.",
    "§ 14.2",
)
REMEDIATION = ClauseData(
    ClauseKind.remediation,
    "Breaches are remedied under a corrective action plan agreed with the buyer within 30 days, "
    "including repayment of any recruitment fees to the workers affected.",
    "§ 14.3",
)
DISCLOSURE = ClauseData(
    ClauseKind.disclosure,
    "The supplier discloses, and keeps up to date, the sites of final assembly and of the main "
    "components (battery, display, printed circuit board) of every product delivered.",
    "Annex 3",
)
CIRCULARITY = ClauseData(
    ClauseKind.circularity,
    "Devices returned at the end of use are refurbished or recycled at the disclosed sites; "
    "the supplier reports the share reused each year.",
    "§ 16",
)

NORTHHAVEN, VALMORA, EASTMERE = "City of Northhaven", "Valmora Regional Council", "University of Eastmere"
LUMENBYTE, NORDIC, PEARL = "Lumenbyte Devices", "Nordic Public IT Supply", "Pearl River Precision Assembly"

CONTRACTS = (
    DemoContract(
        NORTHHAVEN,
        NORDIC,
        "NH-2024-117",
        "Laptops and docking stations for city administration",
        Decimal("18500000"),
        "SEK",
        (("laptop", 2400), ("dock", 2400), ("laptop_renew", 600)),
        (LABOUR, MONITORING, REMEDIATION, CIRCULARITY),
    ),
    DemoContract(
        NORTHHAVEN,
        LUMENBYTE,
        "NH-2025-031",
        "Smartphones for care and social services staff",
        Decimal("6200000"),
        "SEK",
        (("phone", 1800),),
        (LABOUR, MONITORING, DISCLOSURE),
    ),
    DemoContract(
        NORTHHAVEN,
        NORDIC,
        "NH-2019-044",
        "Printers and multifunction devices (ended)",
        Decimal("2100000"),
        "SEK",
        (("printer", 350),),
        (LABOUR,),
        start_offset=-7,
        years=3,
    ),
    DemoContract(
        VALMORA,
        LUMENBYTE,
        "VRC/TIC/2024/08",
        "Servers for the regional data centre and refurbished laptops for libraries",
        Decimal("1450000"),
        "EUR",
        (("server", 120), ("laptop_renew", 300)),
        (LABOUR, MONITORING, REMEDIATION, DISCLOSURE),
    ),
    DemoContract(
        VALMORA,
        NORDIC,
        "VRC/TIC/2025/02",
        "Laptops and tablets for schools",
        Decimal("3900000"),
        "EUR",
        (("laptop", 5200), ("tablet", 3100)),
        (LABOUR, MONITORING),
    ),
    DemoContract(
        EASTMERE,
        LUMENBYTE,
        "UEM-PROC-2291",
        "Desktop computers, laptops, tablets and meeting-room displays",
        Decimal("2750000"),
        "GBP",
        (("desktop", 1400), ("laptop", 900), ("tablet", 250), ("dock", 900), ("display", 60)),
        (LABOUR, DISCLOSURE, CIRCULARITY),
    ),
    DemoContract(
        EASTMERE,
        PEARL,
        "UEM-PROC-2310",
        "Smartphones for research field work",
        Decimal("310000"),
        "GBP",
        (("phone", 450),),
        (LABOUR, MONITORING),
    ),
)

RATES = {"SEK": Decimal("0.0871"), "GBP": Decimal("1.1720"), "USD": Decimal("0.9240")}

P = DisclosurePart
DISCLOSURES = (  # product, site, part: every one by Lumenbyte Devices, the demo supplier login
    ("laptop", "chongqing", P.final_assembly),
    ("laptop", "dongguan", P.battery),
    ("laptop", "suzhou", P.display),
    ("laptop", "ayutthaya", P.printed_circuit_board),
    ("laptop_renew", "pardubice", P.final_assembly),
    ("phone", "shenzhen", P.final_assembly),
    ("phone", "dongguan", P.battery),
    ("phone", "penang", P.semiconductor),
    ("tablet", "shenzhen", P.final_assembly),
    ("tablet", "suzhou", P.display),
    ("desktop", "juarez", P.final_assembly),
    ("desktop", "ayutthaya", P.printed_circuit_board),
    ("server", "brno", P.final_assembly),
    ("server", "penang", P.semiconductor),
    ("server", "kulim", P.printed_circuit_board),
    ("dock", "juarez", P.final_assembly),
)


# Names of the demo sites in the scripts their workers read, which the workplace search finds.
OTHER_NAMES = {
    "shenzhen": ("华信精密电子(深圳)有限公司",),
    "chongqing": ("重庆西山电脑组装有限公司",),
    "ayutthaya": ("บริษัท สยาม เซอร์กิต บอร์ด จำกัด (มหาชน)",),
}


def _other_names(sites: dict[str, Site]) -> int:
    """Give the demo sites their other names; return how many were missing."""
    added = 0
    for key, names in OTHER_NAMES.items():
        known = {other.search_key for other in sites[key].alternative_names}
        for name in names:
            if search_key(name) not in known:
                operations.add_alternative_name(None, sites[key], name)
                added += 1
    return added


def _find_site(data: SiteData) -> Site | None:
    if data.os_id:
        site = db.session.scalar(select(Site).where(Site.os_id == data.os_id))
        if site is not None:
            return site
    key = site_keys(data.name, data.address, data.country).match_key
    return db.session.scalar(select(Site).where(Site.match_key == key).order_by(Site.id).limit(1))


def _years(offset: int) -> date:
    return date(date.today().year + offset, 1, 1)


def _organisations() -> dict[str, Organisation]:
    names = [n.lower() for n in (NORTHHAVEN, VALMORA, EASTMERE, LUMENBYTE, NORDIC, PEARL)]
    found = db.session.scalars(select(Organisation).where(func.lower(Organisation.name).in_(names)))
    return {org.name.lower(): org for org in found}


def load_supplychain_demo() -> int:
    """Create whatever demo registry rows are missing; return how many were created.

    Needs the demo organisations and the supplier login of Lumenbyte Devices, who makes the
    disclosures; the rest is recorded without an actor, as by the command line. Flushes, never
    commits.
    """
    orgs = _organisations()
    supplier = db.session.scalar(
        select(User)
        .where(User.organisation_id == orgs[LUMENBYTE.lower()].id, User.role == UserRole.supplier)
        .order_by(User.id)
        .limit(1)
    )
    if supplier is None:
        raise RuntimeError(f"the demo needs a supplier login of {LUMENBYTE!r}")
    created = 0
    sites: dict[str, Site] = {}
    for key, data in SITES.items():
        site = _find_site(data)
        if site is None:
            site = operations.create_site(None, data)
            created += 1
        sites[key] = site
    created += _other_names(sites)
    products: dict[str, Product] = {}
    for key, (brand, model, category) in PRODUCTS.items():
        product = operations.find_product(brand, model)
        if product is None:
            product = operations.create_product(None, brand, model, category)
            created += 1
        products[key] = product
    for currency, rate in RATES.items():
        if db.session.get(CurrencyRate, currency) is None:
            operations.set_currency_rate(None, currency, rate)
            created += 1
    for spec in CONTRACTS:
        affiliate = orgs[spec.affiliate.lower()]
        exists = db.session.scalar(
            select(Contract.id).where(
                Contract.affiliate_id == affiliate.id, Contract.reference == spec.reference
            )
        )
        if exists is not None:
            continue
        start = _years(spec.start_offset)
        terms = ContractData(
            supplier=orgs[spec.supplier.lower()],
            reference=spec.reference,
            title=spec.title,
            start_date=start,
            end_date=date(start.year + spec.years - 1, 12, 31),
            annual_spend=spec.spend,
            currency=spec.currency,
            clauses=list(spec.clauses),
        )
        contract = operations.create_contract(None, terms, affiliate=affiliate)
        for product_key, quantity in spec.products:
            operations.add_contract_product(None, contract, products[product_key], quantity)
        created += 1
    for product_key, site_key, part in DISCLOSURES:
        product, site = products[product_key], sites[site_key]
        exists = db.session.scalar(
            select(Disclosure.id).where(
                Disclosure.supplier_id == supplier.organisation_id,
                Disclosure.product_id == product.id,
                Disclosure.site_id == site.id,
                Disclosure.part == part,
            )
        )
        if exists is None:
            source = "Lumenbyte Devices supplier list (demo)"
            operations.create_disclosure(supplier, product, site, part, _years(-1), source=source)
            created += 1
    logger.info("supply-chain demo data: %d rows created", created)
    return created
