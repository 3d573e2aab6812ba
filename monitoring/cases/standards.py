"""The code of labour standards findings are filed against, shipped as data.

Each standard groups sub-standards that matter in electronics supply chains. Every entry names
the ILO instruments it rests on and the matching sections of the Responsible Business Alliance
(RBA) Code of Conduct, version 8.0, so that a finding can be read against either. Codes are
stored on findings; titles are translated when shown.

The crosswalk to RBA sections and to the worker issue checklist is an editable table
(``monitoring.cases.audits.models.CrosswalkEntry``, edited by coordinators). The sections written
here (``seed_rba``) and :data:`ISSUE_CATEGORY_SEED` are only what the table was seeded with;
:attr:`Standard.rba` reads the table.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from flask import g, has_app_context
from flask_babel import lazy_gettext as _l

# The sections of the RBA Code of Conduct 8.0 the crosswalk refers to.
RBA_SECTIONS = {
    "A1": _l("A1 Freely Chosen Employment"),
    "A2": _l("A2 Young Workers"),
    "A3": _l("A3 Working Hours"),
    "A4": _l("A4 Wages and Benefits"),
    "A5": _l("A5 Humane Treatment"),
    "A6": _l("A6 Non-Discrimination/Non-Harassment"),
    "A7": _l("A7 Freedom of Association"),
    "B1": _l("B1 Occupational Safety"),
    "B2": _l("B2 Emergency Preparedness"),
    "B3": _l("B3 Occupational Injury and Illness"),
    "B4": _l("B4 Industrial Hygiene"),
    "B6": _l("B6 Machine Safeguarding"),
    "B7": _l("B7 Sanitation, Food, and Housing"),
    "B8": _l("B8 Health and Safety Communication"),
    "C3": _l("C3 Hazardous Substances"),
    "D8": _l("D8 Protection of Identity and Non-Retaliation"),
    "E10": _l("E10 Worker Feedback, Participation and Grievance"),
}


@dataclass(frozen=True)
class Standard:
    code: str
    title: str  # a lazy string
    ilo: tuple[str, ...] = ()
    seed_rba: tuple[str, ...] = ()  # what the crosswalk table was seeded with
    parent: str | None = None
    children: list[Standard] = field(default_factory=list, compare=False, repr=False)

    @property
    def is_group(self) -> bool:
        return self.parent is None

    @property
    def group(self) -> str:
        """The code of the top-level standard (itself for a top-level one)."""
        return self.parent or self.code

    @property
    def rba(self) -> tuple[str, ...]:
        """The RBA Code sections the crosswalk table links to this standard, in code order."""
        return tuple(crosswalk().sections_of(self.code))

    @property
    def rba_titles(self) -> list[str]:
        return [section_title(s) for s in self.rba]

    def label(self) -> str:
        return f"{self.code} {self.title}"


def _group(code: str, title: str, ilo: tuple[str, ...], rba: tuple[str, ...], *subs: tuple) -> list[Standard]:
    top = Standard(code, title, ilo, rba)
    entries = [top]
    for number, (sub_title, sub_ilo, sub_rba) in enumerate(subs, start=1):
        child = Standard(f"{code}-{number}", sub_title, sub_ilo or ilo, sub_rba or rba, parent=code)
        top.children.append(child)
        entries.append(child)
    return entries


STANDARDS: tuple[Standard, ...] = tuple(
    _group(
        "FL",
        _l("Forced labour"),
        ("C029", "P029", "C105"),
        ("A1",),
        (_l("Recruitment fees and debts owed for the job"), ("C029", "C181"), ("A1",)),
        (_l("Passports or identity documents kept from workers"), (), ()),
        (_l("Restrictions on leaving the workplace, the dormitory or the job"), (), ()),
        (_l("Involuntary student and intern labour"), ("C029", "C138"), ("A1", "A2")),
        (_l("Threats, penalties or withheld wages that force work"), (), ()),
    )
    + _group(
        "CL",
        _l("Child labour and young workers"),
        ("C138", "C182"),
        ("A2",),
        (_l("Workers under the minimum working age"), (), ()),
        (_l("Young workers in hazardous work, night shifts or overtime"), (), ()),
        (_l("Student workers without the protections their internship requires"), (), ()),
    )
    + _group(
        "FA",
        _l("Freedom of association and collective bargaining"),
        ("C087", "C098"),
        ("A7",),
        (_l("Interference with or punishment of organising"), (), ()),
        (_l("Worker representatives not freely elected"), (), ()),
    )
    + _group(
        "DI",
        _l("Discrimination and harassment"),
        ("C100", "C111", "C190"),
        ("A5", "A6"),
        (_l("Discrimination in hiring, pay, promotion or dismissal"), ("C100", "C111"), ("A6",)),
        (_l("Pregnancy or medical tests used to discriminate"), ("C111",), ("A6",)),
        (_l("Harassment, abuse or harsh discipline"), ("C190",), ("A5",)),
    )
    + _group(
        "WB",
        _l("Wages and benefits"),
        ("C095", "C131"),
        ("A4",),
        (_l("Wages below the legal minimum"), (), ()),
        (_l("Overtime not paid at the legal premium"), (), ()),
        (_l("Illegal deductions or late payment of wages"), (), ()),
        (_l("Social insurance or legally required benefits not paid"), ("C102",), ()),
    )
    + _group(
        "WH",
        _l("Working hours"),
        ("C001", "C014"),
        ("A3",),
        (_l("Working weeks over 60 hours or the legal limit"), (), ()),
        (_l("No day off in seven"), (), ()),
        (_l("Overtime that is not voluntary"), (), ()),
    )
    + _group(
        "HS",
        _l("Health and safety"),
        ("C155", "C187"),
        ("B1", "B3", "B4", "B8"),
        (_l("Hazardous chemicals without exposure controls"), ("C155", "C170"), ("B4", "C3")),
        (_l("Missing protective equipment or safety training"), (), ("B1", "B8")),
        (_l("Blocked exits or missing emergency preparedness"), (), ("B2",)),
        (_l("Unguarded machinery"), (), ("B6",)),
        (_l("Unsafe or unsanitary dormitories, canteens or toilets"), (), ("B7",)),
    )
    + _group(
        "AG",
        _l("Agency and indirect work"),
        ("C181",),
        ("A1", "A4"),
        (_l("Agency or dispatch workers beyond the legal share or duration"), (), ()),
        (_l("Agency workers paid or treated worse than direct employees"), (), ()),
    )
    + _group(
        "GR",
        _l("Grievance and retaliation"),
        ("C087", "C190"),
        ("D8", "E10"),
        (_l("No effective and trusted grievance mechanism"), (), ("E10",)),
        (_l("Retaliation against workers who raised concerns"), (), ("D8",)),
    )
)

_BY_CODE = {s.code: s for s in STANDARDS}


def get_standard(code: str) -> Standard | None:
    """Return the standard with this code, or None."""
    return _BY_CODE.get(code)


def groups() -> list[Standard]:
    """The top-level standards, in order."""
    return [s for s in STANDARDS if s.is_group]


def codes_in_group(group: str) -> list[str]:
    """Every code of a top-level standard: itself and its sub-standards."""
    top = _BY_CODE.get(group)
    if top is None or not top.is_group:
        return []
    return [top.code, *(c.code for c in top.children)]


# The worker issue checklist's categories and the standard each was seeded against (seed only:
# the crosswalk table holds the mapping).
ISSUE_CATEGORY_SEED = {
    "forced_labour": "FL",
    "recruitment_fees": "FL-1",
    "retained_documents": "FL-2",
    "student_labour": "FL-4",
    "child_labour": "CL",
    "freedom_of_association": "FA",
    "discrimination": "DI-1",
    "harassment": "DI-3",
    "wages": "WB",
    "working_hours": "WH",
    "health_safety": "HS",
    "chemicals": "HS-1",
    "dormitory": "HS-5",
    "agency_work": "AG",
    "retaliation": "GR-2",
}


def section_title(section: str) -> str:
    """An RBA section's title ("A3 Working Hours"), or its code for a section not listed here."""
    title = RBA_SECTIONS.get(section)
    return str(title) if title is not None else section


def section_key(section: str) -> tuple[str, int]:
    """Order sections as the Code does: A2 before A10."""
    digits = "".join(ch for ch in section[1:] if ch.isdigit())
    return (section[:1], int(digits) if digits else 0)


_ORDER = {s.code: index for index, s in enumerate(STANDARDS)}


def standard_key(code: str) -> tuple[int, str]:
    """Order standard codes as the code of standards lists them (unknown codes last)."""
    return (_ORDER.get(code, len(_ORDER)), code)


class Crosswalk:
    """The crosswalk table as read once: sections and categories per standard and group."""

    def __init__(self, rows: list[tuple[str | None, str, str | None]]) -> None:
        self.rows = rows
        self._sections: dict[str, set[str]] = defaultdict(set)
        self._group_sections: dict[str, set[str]] = defaultdict(set)
        self._categories: dict[str, set[str]] = defaultdict(set)
        for section, code, category in rows:
            standard = get_standard(code)
            group = standard.group if standard else code
            if section:
                self._sections[code].add(section)
                self._group_sections[group].add(section)
            if category:
                self._categories[code].add(category)

    def sections_of(self, code: str) -> list[str]:
        """The sections linked to exactly this standard."""
        return sorted(self._sections.get(code, ()), key=section_key)

    def group_sections(self, group: str) -> list[str]:
        """The sections linked to a top-level standard or any of its sub-standards."""
        return sorted(self._group_sections.get(group, ()), key=section_key)

    def categories_of(self, code: str) -> list[str]:
        return sorted(self._categories.get(code, ()))


def crosswalk() -> Crosswalk:
    """The crosswalk table, read once per request (or application context)."""
    if not has_app_context():
        return Crosswalk([])
    cached = g.get("_crosswalk")
    if cached is None:
        from monitoring.cases.audits.services import read_crosswalk  # the table lives above this module

        cached = g._crosswalk = Crosswalk(read_crosswalk())
    result: Crosswalk = cached
    return result


def forget_crosswalk() -> None:
    """Read the table again at the next use (after an edit)."""
    if has_app_context():
        g.pop("_crosswalk", None)
