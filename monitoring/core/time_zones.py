"""Time zones: which names are valid, and the usual zone of a country.

A user's times are shown in an IANA zone (``Asia/Bangkok``). Without a choice of their own it
is the zone of their organisation's country: the first zone the time-zone database lists for the
country in ``zone.tab`` (from the system's database or the ``tzdata`` package, where
:mod:`zoneinfo` finds its zones too), except where that first zone is a small or disputed part
of the country. When no ``zone.tab`` can be found, a small table of the countries in use serves.
"""

from __future__ import annotations

import logging
import zoneinfo
from collections.abc import Iterator
from functools import cache
from importlib import resources
from pathlib import Path

import pytz  # type: ignore[import-untyped]  # Flask-Babel converts times with pytz zones

logger = logging.getLogger(__name__)

UTC_NAME = "UTC"

# Countries whose first zone in zone.tab is a minor or disputed region (Crimea for Ukraine,
# Fernando de Noronha for Brazil, Newfoundland for Canada...): the zone most people there use.
PREFERRED = {
    "AU": "Australia/Sydney",
    "BR": "America/Sao_Paulo",
    "CA": "America/Toronto",
    "RU": "Europe/Moscow",
    "UA": "Europe/Kyiv",
}

# When the system has no zone.tab and the tzdata package is absent: the producing countries and
# the buyers' countries the network works with.
FALLBACK = {
    "AT": "Europe/Vienna",
    "BD": "Asia/Dhaka",
    "BE": "Europe/Brussels",
    "CN": "Asia/Shanghai",
    "CZ": "Europe/Prague",
    "DE": "Europe/Berlin",
    "DK": "Europe/Copenhagen",
    "ES": "Europe/Madrid",
    "FI": "Europe/Helsinki",
    "FR": "Europe/Paris",
    "GB": "Europe/London",
    "HU": "Europe/Budapest",
    "ID": "Asia/Jakarta",
    "IN": "Asia/Kolkata",
    "IT": "Europe/Rome",
    "JP": "Asia/Tokyo",
    "KH": "Asia/Phnom_Penh",
    "KR": "Asia/Seoul",
    "MM": "Asia/Yangon",
    "MX": "America/Mexico_City",
    "MY": "Asia/Kuala_Lumpur",
    "NL": "Europe/Amsterdam",
    "NO": "Europe/Oslo",
    "NP": "Asia/Kathmandu",
    "PH": "Asia/Manila",
    "PK": "Asia/Karachi",
    "PL": "Europe/Warsaw",
    "SE": "Europe/Stockholm",
    "SK": "Europe/Bratislava",
    "TH": "Asia/Bangkok",
    "TW": "Asia/Taipei",
    "UA": "Europe/Kyiv",
    "US": "America/New_York",
    "VN": "Asia/Ho_Chi_Minh",
}

# Names zoneinfo lists that are not places: the build's placeholder and the host's own setting.
_NOT_ZONES = frozenset({"Factory", "localtime", "posixrules"})


@cache
def valid_time_zones() -> frozenset[str]:
    """Every zone name a user may choose: known to zoneinfo and to pytz (Flask-Babel converts with it)."""
    return frozenset((zoneinfo.available_timezones() & set(pytz.all_timezones)) - _NOT_ZONES)


def is_time_zone(name: object) -> bool:
    return isinstance(name, str) and name in valid_time_zones()


def _zone_tab_lines() -> Iterator[str]:
    """The lines of the first ``zone.tab`` found where zoneinfo looks for zones."""
    for directory in zoneinfo.TZPATH:
        path = Path(directory, "zone.tab")
        if path.is_file():
            yield from path.read_text(encoding="utf-8").splitlines()
            return
    try:
        text = resources.files("tzdata").joinpath("zoneinfo", "zone.tab").read_text(encoding="utf-8")
    except (ModuleNotFoundError, OSError):
        logger.info("no zone.tab found: countries' time zones come from a short built-in table")
        return
    yield from text.splitlines()


@cache
def _listed_zones() -> tuple[tuple[str, str], ...]:
    """(country, zone) in the order of zone.tab, valid zones only."""
    pairs = []
    for line in _zone_tab_lines():
        if line.startswith("#") or not line.strip():
            continue
        columns = line.split("\t")
        if len(columns) >= 3 and is_time_zone(columns[2]):
            pairs.append((columns[0].upper(), columns[2]))
    return tuple(pairs)


@cache
def country_zones() -> dict[str, str]:
    """Each country's usual zone (ISO 3166 alpha-2 code to IANA name)."""
    table: dict[str, str] = {}
    for country, zone in _listed_zones():
        table.setdefault(country, zone)
    if not table:
        table = dict(FALLBACK)
    table.update({country: zone for country, zone in PREFERRED.items() if country in table})
    return {country: zone for country, zone in table.items() if is_time_zone(zone)}


def country_time_zone(country: str | None) -> str | None:
    """The usual zone of a country, or None when the country is unknown or not given."""
    if not country:
        return None
    return country_zones().get(country.strip().upper())


@cache
def time_zone_names() -> tuple[str, ...]:
    """The zones to offer in a list, sorted: one per place (no old aliases), and UTC."""
    listed = {zone for _country, zone in _listed_zones()} or set(country_zones().values())
    return tuple(sorted(listed | {UTC_NAME}))
