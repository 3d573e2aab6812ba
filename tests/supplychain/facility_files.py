"""Facility lists in Open Supply Hub's download layout, for the import tests and benchmark.

Plain Python (no pytest), so ``benchmarks/import_facilities.py`` can import it too.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

# The columns of Open Supply Hub's download, in its order.
OSH_HEADER = [
    "os_id",
    "contribution_date",
    "name",
    "address",
    "country_code",
    "country_name",
    "lat",
    "lng",
    "sector",
    "contributor (list)",
    "number_of_workers",
    "parent_company",
    "processing_type_facility_type_raw",
    "facility_type",
    "processing_type",
    "product_type",
    "is_closed",
]

COUNTRIES = [
    ("CN", "China", 22.5, 114.0, ["Shenzhen", "Dongguan", "Chongqing", "Zhengzhou", "Kunshan"]),
    ("TH", "Thailand", 14.0, 100.6, ["Ayutthaya", "Pathum Thani", "Chonburi"]),
    ("MY", "Malaysia", 5.4, 100.3, ["Penang", "Kulim", "Johor Bahru"]),
    ("CZ", "Czechia", 50.0, 14.4, ["Pardubice", "Kutná Hora", "Brno"]),
    ("MX", "Mexico", 31.7, -106.4, ["Ciudad Juárez", "Guadalajara", "Tijuana"]),
    ("VN", "Vietnam", 21.0, 105.8, ["Bac Ninh", "Thai Nguyen", "Hai Phong"]),
]
WORDS = ["Precision", "Electronics", "Technology", "Circuit", "Display", "Power", "Micro", "Optical", "Smart"]
SUFFIXES = ["Co., Ltd.", "Ltd", "Sdn. Bhd.", "s.r.o.", "S.A. de C.V.", "Inc.", "Public Company Limited"]
TYPES = [
    ("Final Product Assembly", "Assembly"),
    ("Raw Material Processing or Production", "Components"),
    ("Textile or Material Production", "Molding"),
    ("Warehousing / Distribution", "Packing"),
    ("Final Product Assembly", "Final Product Assembly"),
    ("", "Mechanical Recycling"),
]
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def os_id(country: str, index: int) -> str:
    """A well-formed, unique Open Supply Hub id for row ``index``."""
    digits = []
    for _ in range(6):
        index, rest = divmod(index, 32)
        digits.append(ALPHABET[rest])
    return f"{country}2024{index % 1000:03d}{''.join(reversed(digits))}"


def write_file(path: Path, rows: int, seed: int = 2026) -> None:
    """Write a deterministic facility list in Open Supply Hub's layout."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(OSH_HEADER)
        for i in range(rows):
            code, country, lat, lng, cities = COUNTRIES[i % len(COUNTRIES)]
            city = rng.choice(cities)
            name = f"{rng.choice(WORDS)} {rng.choice(WORDS)} {i} {rng.choice(SUFFIXES)}"
            low = rng.choice([50, 200, 1001, 5001])
            workers = f"{low}-{low * 2}" if rng.random() < 0.7 else str(low)
            facility_type, processing_type = rng.choice(TYPES)
            writer.writerow(
                [
                    os_id(code, i) if rng.random() < 0.8 else "",
                    f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}",
                    name,
                    f"No. {rng.randint(1, 999)} {rng.choice(WORDS)} Road, {city}",
                    code,
                    country,
                    f"{lat + rng.uniform(-1, 1):.6f}",
                    f"{lng + rng.uniform(-1, 1):.6f}",
                    "Electronics",
                    "Example Brand (List)|An Auditor (API)",
                    workers,
                    "",
                    f"{facility_type}|{processing_type}",
                    facility_type,
                    processing_type,
                    "Laptops|Smartphones",
                    "False",
                ]
            )
