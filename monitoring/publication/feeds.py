"""The Atom feed and the open-data files of the published cases (CC BY 4.0).

They are built from :class:`services.PublicCase` only, so they carry exactly what the public
pages show. Counts under 5 are never written: the JSON has ``null`` with ``suppressed: true``,
the CSV "fewer than 5".
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any
from xml.etree import ElementTree as ET

from flask import url_for
from flask_babel import gettext as _

from monitoring.publication.services import PublicCase, PublicRemedy

ATOM = "http://www.w3.org/2005/Atom"
CSV_COLUMNS = (
    "case_id",
    "site",
    "country",
    "standards",
    "state",
    "opened",
    "plan_accepted",
    "verified",
    "closed",
    "published",
    "remedies",
    "url",
)


def _day(when: datetime | None) -> str:
    return when.date().isoformat() if when is not None else ""


def _workers(remedy: PublicRemedy) -> str:
    if remedy.suppressed:
        return "fewer than 5"
    return "" if remedy.workers is None else str(remedy.workers)


def milestone_titles() -> dict[str, str]:
    return {
        "opened": _("Opened"),
        "plan_accepted": _("Plan accepted"),
        "verified": _("Verified"),
        "closed": _("Closed"),
    }


def _case_url(case: PublicCase) -> str:
    return url_for("publication.public_case", case_id=case.id, _external=True)


def _entry(feed: ET.Element, entry_id: str, title: str, when: datetime, link: str, summary: str) -> None:
    entry = ET.SubElement(feed, "entry")
    ET.SubElement(entry, "id").text = entry_id
    ET.SubElement(entry, "title").text = title
    ET.SubElement(entry, "updated").text = when.isoformat()
    ET.SubElement(entry, "link", href=link)
    ET.SubElement(entry, "summary").text = summary


def atom(cases: list[PublicCase]) -> bytes:
    """One entry per publication and per milestone of a published case, newest first."""
    ET.register_namespace("", ATOM)
    feed = ET.Element("feed", xmlns=ATOM)
    ET.SubElement(feed, "id").text = url_for("publication.index", _external=True)
    ET.SubElement(feed, "title").text = _("Published cases")
    updated = max((c.updated_dt for c in cases), default=None)
    ET.SubElement(feed, "updated").text = (updated or datetime(2026, 1, 1)).isoformat()
    ET.SubElement(feed, "link", rel="self", href=url_for("publication.feed", _external=True))
    ET.SubElement(ET.SubElement(feed, "author"), "name").text = _("Worker-driven monitoring")
    titles = milestone_titles()
    items: list[tuple[datetime, str, str, PublicCase]] = []
    for case in cases:
        items.append((case.published_dt, "published", _("Published"), case))
        items.extend((when, key, titles[key], case) for key, when in case.milestones())
    items.sort(key=lambda item: (item[0], item[3].id), reverse=True)
    for when, key, label, case in items:
        link = _case_url(case)
        place = f"{case.site_name} ({case.country})"
        _entry(feed, f"{link}#{key}", f"{place}: {label}", when, link, f"{place}: {case.state.title}")
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


def csv_text(cases: list[PublicCase]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for case in cases:
        remedies = "; ".join(f"{r.kind.value}: {_workers(r)}".rstrip(": ") for r in case.remedies)
        writer.writerow(
            (
                case.id,
                case.site_name,
                case.country,
                " ".join(case.standards),
                case.state.value,
                _day(case.opened_dt),
                _day(case.plan_accepted_dt),
                _day(case.verified_dt),
                _day(case.closed_dt),
                _day(case.published_dt),
                remedies,
                _case_url(case),
            )
        )
    return out.getvalue()


def json_document(cases: list[PublicCase], licence_url: str) -> dict[str, Any]:
    return {
        "licence": {"name": "CC BY 4.0", "url": licence_url},
        "cases": [
            {
                "case_id": case.id,
                "site": case.site_name,
                "country": case.country,
                "standards": case.standards,
                "state": case.state.value,
                "opened": _day(case.opened_dt),
                "plan_accepted": _day(case.plan_accepted_dt) or None,
                "verified": _day(case.verified_dt) or None,
                "closed": _day(case.closed_dt) or None,
                "published": _day(case.published_dt),
                "remedies": [
                    {"kind": r.kind.value, "workers_covered": r.workers, "suppressed": r.suppressed}
                    for r in case.remedies
                ],
                "url": _case_url(case),
            }
            for case in cases
        ],
    }
