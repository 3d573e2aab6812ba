"""Words for a notification: the in-app line, and the e-mail's subject and body.

Everything is rendered from the notification's kind and metadata parameters (falling back to
the rows it is about, see :mod:`.subjects`), in the recipient's language, so nothing protected ever reaches an
e-mail. Links point at the case or action page under the configured ``BASE_URL``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from html import escape
from typing import Any

from flask import current_app
from flask_babel import force_locale, format_date, get_locale, ngettext
from flask_babel import gettext as _

from monitoring.accounts.models import User
from monitoring.core.db import db
from monitoring.core.i18n import force_timezone
from monitoring.core.jobs import Job
from monitoring.notifications import subjects
from monitoring.notifications.models import Notification, NotificationKind
from monitoring.notifications.subjects import Related
from monitoring.supplychain.operations import country_name

logger = logging.getLogger(__name__)

MISSING = "\u2014"  # an em dash where a value is unknown


def recipient_locale(user: User) -> str:
    """The language a user reads: their own if the interface has it, else the default."""
    locales = current_app.config.get("LOCALES", ())
    if user.locale and user.locale in locales:
        return user.locale
    return str(current_app.config["DEFAULT_LOCALE"])


def target_path(notification: Notification) -> str:
    """The page a notification is about: its subject's (the action's, else the case's), else the list."""
    path = subjects.subject_path(notification)
    if path is not None:
        return path
    if notification.kind is NotificationKind.membership_requested:
        return "/account/keys#pending"
    job_id = (notification.params or {}).get("job_id")
    if notification.kind is NotificationKind.import_finished and isinstance(job_id, int):
        return _job_path(job_id)
    if notification.kind is NotificationKind.coverage_without_key:
        return "/admin/coverage-health"
    report_id = (notification.params or {}).get("circularity_report_id")
    if notification.kind in _CIRCULARITY_KINDS and isinstance(report_id, int):
        return f"/circularity/{report_id}"
    contract_id = (notification.params or {}).get("contract_id")
    if notification.kind in _CONTRACT_KINDS and isinstance(contract_id, int):
        return f"/contracts/{contract_id}"
    change_id = (notification.params or {}).get("coverage_change_id")
    if notification.kind is NotificationKind.coverage_change and isinstance(change_id, int):
        return f"/coverage/changes/{change_id}"
    return "/notifications/"


# The page of a job of each kind that has its own (testimony is a higher layer: its kind by name);
# any other job is a facility import's.
_JOB_PAGES = {"survey_import": "/testimony/survey-imports/jobs/{}"}


def _job_path(job_id: int) -> str:
    job = db.session.get(Job, job_id)
    return _JOB_PAGES.get(job.kind if job is not None else "", "/imports/jobs/{}").format(job_id)


_CONTRACT_KINDS = frozenset(
    {NotificationKind.disclosure_confirmation_overdue, NotificationKind.disclosure_confirmation_escalated}
)
_CIRCULARITY_KINDS = frozenset(
    {
        NotificationKind.circularity_report_submitted,
        NotificationKind.circularity_report_queried,
        NotificationKind.circularity_report_confirmed,
    }
)


def absolute_url(path: str) -> str:
    return str(current_app.config["BASE_URL"]).rstrip("/") + path


# --- parameters -----------------------------------------------------------------------------


def _date(value: Any) -> str | None:
    """A day in the reader's language; a moment (an ISO timestamp) is its day in the reader's zone."""
    if not value:
        return None
    try:
        day = value if isinstance(value, date) else _day_or_moment(str(value))
    except ValueError:
        return None
    return format_date(day, format="long")  # a datetime is moved into the reader's zone first


def _day_or_moment(text: str) -> date:
    if len(text) <= 10:
        return date.fromisoformat(text)
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _values(notification: Notification, related: Related | None = None) -> dict[str, str]:
    """The placeholders of every text, from params with the subjects' rows as a fallback."""
    params = dict(notification.params or {})
    row = subjects.facts(notification, related)
    state = params.get("state") or params.get("to_state") or row.get("state")
    return {
        "reference": str(params.get("reference") or row.get("reference") or MISSING),
        "site": str(params.get("site") or row.get("site") or MISSING),
        "supplier": str(params.get("supplier") or row.get("supplier") or MISSING),
        "state": subjects.title("state", state) or MISSING,
        "outcome": subjects.title("outcome", params.get("outcome")) or "",
        "visibility": subjects.title("visibility", params.get("visibility")) or "",
        "phase": str(params.get("phase") or ""),
        "date": _date(params.get("due_date")) or "",
        "plan_date": _date(params.get("plan_due_date") or row.get("plan_due_date")) or "",
        "closure_date": _date(params.get("closure_due_date") or row.get("closure_due_date")) or "",
        "member": str(params.get("member") or MISSING),
        "email": str(params.get("email") or MISSING),
        "organisation": str(params.get("organisation") or MISSING),
        # Worker reports: the report's number and country, nothing else of it.
        "report": str(params.get("report_id") or params.get("report_number") or MISSING),
        "country": _country(params.get("country") or row.get("country")),
        "clock": str(params.get("clock") or ""),
    }


def _country(code: Any) -> str:
    if not code or not isinstance(code, str):
        return MISSING
    return str(country_name(code, get_locale() or "en"))


# --- the one-line text ----------------------------------------------------------------------


def _deadline_reminder(v: dict[str, str]) -> str:
    if v["phase"] == "closure":
        return _(
            "The corrective action of %(supplier)s in case %(reference)s (%(site)s) must be completed "
            "by %(date)s.",
            **v,
        )
    return _(
        "The corrective-action plan of %(supplier)s in case %(reference)s (%(site)s) is due on %(date)s.", **v
    )


def _deadline_changed(v: dict[str, str]) -> str:
    return _(
        "The deadlines of the corrective action of %(supplier)s in case %(reference)s (%(site)s) changed: "
        "plan due %(plan_date)s, completion due %(closure_date)s; the reason is on the action's page.",
        **v,
    )


def _deadline_overdue(v: dict[str, str]) -> str:
    if v["phase"] == "closure":
        return _(
            "The corrective action of %(supplier)s in case %(reference)s (%(site)s) was to be completed "
            "by %(date)s and is overdue.",
            **v,
        )
    return _(
        "The corrective-action plan of %(supplier)s in case %(reference)s (%(site)s) was due on %(date)s "
        "and is overdue.",
        **v,
    )


def _case_closed(v: dict[str, str]) -> str:
    if v["outcome"]:
        return _("Case %(reference)s (%(site)s) was closed. Outcome: %(outcome)s.", **v)
    return _("Case %(reference)s (%(site)s) was closed.", **v)


def _message_posted(v: dict[str, str]) -> str:
    if v["visibility"]:
        return _("New message in case %(reference)s (%(site)s), shared with: %(visibility)s.", **v)
    return _("New message in case %(reference)s (%(site)s).", **v)


def _coverage_change(notification: Notification) -> str:
    """A change of who receives worker reports, in the recipient's language."""
    params = dict(notification.params or {})
    code = str(params.get("country") or "")
    values = {
        "scope": country_name(code, get_locale() or "en")
        if code
        else _("every country without a route of its own"),
        "source": str(params.get("from_organisation") or "") or _("nobody"),
        "target": str(params.get("to_organisation") or "") or _("the organisation for every other country"),
        "date": _date(params.get("effective_date")) or MISSING,
    }
    event = params.get("event")
    if event == "requested":
        return _(
            "Worker reports about %(scope)s are to go from %(source)s to %(target)s on %(date)s, unless "
            "a monitor of either organisation objects; a member of %(source)s can confirm it sooner.",
            **values,
        )
    if event == "confirmed":
        return _(
            "Worker reports about %(scope)s now go to %(target)s instead of %(source)s: "
            "%(source)s confirmed it.",
            **values,
        )
    if event == "applied":
        return _(
            "Worker reports about %(scope)s now go to %(target)s instead of %(source)s: nobody objected.",
            **values,
        )
    if event == "applied_at_once":
        return _("Worker reports about %(scope)s now go to %(target)s.", **values)
    if event == "objected":
        return _(
            "The move of worker reports about %(scope)s from %(source)s to %(target)s was stopped by an "
            "objection; nothing changed.",
            **values,
        )
    return _(
        "The move of worker reports about %(scope)s from %(source)s to %(target)s was withdrawn or "
        "lapsed; nothing changed.",
        **values,
    )


def _survey_imported(notification: Notification) -> str:
    count = (notification.params or {}).get("rows")
    count = count if isinstance(count, int) else 0
    return ngettext(
        "A survey import added %(num)d report to your organisation's worker reports.",
        "A survey import added %(num)d reports to your organisation's worker reports.",
        count,
    )


def _import_finished(notification: Notification) -> str:
    params = notification.params or {}
    name = str(params.get("filename") or MISSING)
    if params.get("succeeded"):
        return _("The file %(name)s was imported", name=name)
    return _("The import of %(name)s failed: nothing was saved.", name=name)


def _clock_reminder(v: dict[str, str]) -> str:
    if v["clock"] == "feedback":
        return _(
            "The worker of report %(report)s (%(country)s) is to be told what is being done by %(date)s.",
            **v,
        )
    return _("Report %(report)s (%(country)s) is to be acknowledged by %(date)s.", **v)


def _clock_overdue(v: dict[str, str]) -> str:
    if v["clock"] == "feedback":
        return _(
            "The worker of report %(report)s (%(country)s) was to be told what is being done by "
            "%(date)s; this is overdue.",
            **v,
        )
    return _("Report %(report)s (%(country)s) was to be acknowledged by %(date)s; this is overdue.", **v)


def _clock_escalated(v: dict[str, str]) -> str:
    if v["clock"] == "feedback":
        return _(
            "%(organisation)s has not told the worker of report %(report)s (%(country)s) what is being "
            "done, due by %(date)s.",
            **v,
        )
    return _("%(organisation)s has not acknowledged report %(report)s (%(country)s), due by %(date)s.", **v)


def _coverage_without_key(v: dict[str, str]) -> str:
    if v["country"] == MISSING:
        return _(
            "Worker reports about countries without a route of their own go to %(organisation)s, which "
            "has no usable encryption key: those workers cannot report until one is made.",
            **v,
        )
    return _(
        "Worker reports about %(country)s go to %(organisation)s, which has no usable encryption key: "
        "workers there cannot report until one is made.",
        **v,
    )


def _retaliation_alert(v: dict[str, str]) -> str:
    return _(
        "The worker of report %(report)s (%(country)s) says they faced consequences for speaking up. "
        "Act on the alert: file a retaliation finding or contact the worker.",
        **v,
    )


def _retaliation_overdue(v: dict[str, str]) -> str:
    return _(
        "The retaliation alert of report %(report)s (%(country)s) has not been handled since %(date)s.", **v
    )


def _retaliation_escalated(v: dict[str, str]) -> str:
    return _(
        "%(organisation)s has not handled a retaliation alert of report %(report)s (%(country)s) "
        "raised on %(date)s.",
        **v,
    )


def _disclosure_overdue(v: dict[str, str]) -> str:
    return _(
        "The disclosure for contract %(reference)s was to be confirmed by %(date)s and is overdue: "
        "check the sites you disclosed and confirm on the contract's page that they are still true.",
        **v,
    )


def _disclosure_escalated(v: dict[str, str]) -> str:
    return _(
        "%(supplier)s has not confirmed its disclosure for contract %(reference)s, due by %(date)s.", **v
    )


def _circularity(notification: Notification) -> str:
    """A circularity report filed, corrected, queried (with the buyer's reason) or confirmed."""
    params = dict(notification.params or {})
    values = {
        "supplier": str(params.get("supplier") or MISSING),
        "reference": str(params.get("reference") or MISSING),
        "product": str(params.get("product") or MISSING),
        "year": str(params.get("year") or MISSING),
        "reason": " ".join(str(params.get("reason") or "").split()) or MISSING,
    }
    if notification.kind is NotificationKind.circularity_report_queried:
        return _(
            "The buyer queried the circularity report for %(product)s, %(year)s, of contract "
            "%(reference)s. Their reason: %(reason)s. Correct the report and file it again.",
            **values,
        )
    if notification.kind is NotificationKind.circularity_report_confirmed:
        return _(
            "The buyer confirmed the circularity report for %(product)s, %(year)s, of contract "
            "%(reference)s.",
            **values,
        )
    if params.get("resubmitted"):
        return _(
            "%(supplier)s corrected its circularity report for %(product)s, %(year)s, of contract "
            "%(reference)s: confirm it or query it.",
            **values,
        )
    return _(
        "%(supplier)s filed its circularity report for %(product)s, %(year)s, of contract %(reference)s: "
        "confirm it or query it.",
        **values,
    )


_LINES: dict[NotificationKind, Callable[[dict[str, str]], str]] = {
    NotificationKind.case_opened: lambda v: _("Case %(reference)s was opened for %(site)s.", **v),
    NotificationKind.case_state_changed: lambda v: _(
        "Case %(reference)s (%(site)s) moved on to: %(state)s.", **v
    ),
    NotificationKind.case_closed: _case_closed,
    NotificationKind.case_reopened: lambda v: _("Case %(reference)s (%(site)s) was reopened.", **v),
    NotificationKind.action_requested: lambda v: _(
        "A corrective action was requested from %(supplier)s in case %(reference)s (%(site)s).", **v
    ),
    NotificationKind.plan_submitted: lambda v: _(
        "%(supplier)s submitted a corrective-action plan in case %(reference)s (%(site)s).", **v
    ),
    NotificationKind.plan_accepted: lambda v: _(
        "The corrective-action plan of %(supplier)s in case %(reference)s (%(site)s) was accepted.", **v
    ),
    NotificationKind.plan_rejected: lambda v: _(
        "The corrective-action plan of %(supplier)s in case %(reference)s (%(site)s) was rejected; "
        "the reason is on the action's page.",
        **v,
    ),
    NotificationKind.action_implemented: lambda v: _(
        "%(supplier)s reported the corrective action in case %(reference)s (%(site)s) implemented.", **v
    ),
    NotificationKind.action_verified: lambda v: _(
        "The corrective action of %(supplier)s in case %(reference)s (%(site)s) was verified.", **v
    ),
    NotificationKind.action_not_verified: lambda v: _(
        "The corrective action of %(supplier)s in case %(reference)s (%(site)s) could not be verified.", **v
    ),
    NotificationKind.action_closed: lambda v: _(
        "The corrective action of %(supplier)s in case %(reference)s (%(site)s) was closed.", **v
    ),
    NotificationKind.message_posted: _message_posted,
    NotificationKind.deadline_changed: _deadline_changed,
    NotificationKind.membership_requested: lambda v: _(
        "%(member)s (%(email)s) was added to %(organisation)s and sees none of its reports until a "
        "member approves them. Approve or refuse on the “Keys and access” page.",
        **v,
    ),
    NotificationKind.deadline_reminder: _deadline_reminder,
    NotificationKind.deadline_overdue: _deadline_overdue,
    NotificationKind.action_escalated: lambda v: _(
        "The corrective action of %(supplier)s in case %(reference)s (%(site)s) is overdue and was "
        "escalated to the coordinators.",
        **v,
    ),
    NotificationKind.report_received: lambda v: _(
        "A worker filed report %(report)s about a workplace in %(country)s.", **v
    ),
    NotificationKind.worker_message: lambda v: _(
        "The worker of report %(report)s (%(country)s) wrote a new message.", **v
    ),
    NotificationKind.report_clock_reminder: _clock_reminder,
    NotificationKind.report_clock_overdue: _clock_overdue,
    NotificationKind.report_clock_escalated: _clock_escalated,
    NotificationKind.coverage_without_key: _coverage_without_key,
    NotificationKind.retaliation_alert: _retaliation_alert,
    NotificationKind.retaliation_alert_overdue: _retaliation_overdue,
    NotificationKind.retaliation_alert_escalated: _retaliation_escalated,
    NotificationKind.disclosure_confirmation_overdue: _disclosure_overdue,
    NotificationKind.disclosure_confirmation_escalated: _disclosure_escalated,
}

# Kinds told to the members of an organisation, and to people for the role they hold.
_MEMBER_KINDS = frozenset(
    {
        NotificationKind.membership_requested,
        NotificationKind.coverage_change,
        NotificationKind.report_received,
        NotificationKind.survey_imported,
        NotificationKind.worker_message,
        NotificationKind.report_clock_reminder,
        NotificationKind.report_clock_overdue,
        NotificationKind.retaliation_alert,
        NotificationKind.retaliation_alert_overdue,
        NotificationKind.disclosure_confirmation_overdue,
        NotificationKind.disclosure_confirmation_escalated,
        *_CIRCULARITY_KINDS,
    }
)
_ROLE_KINDS = frozenset(
    {
        NotificationKind.report_clock_escalated,
        NotificationKind.coverage_without_key,
        NotificationKind.retaliation_alert_escalated,
    }
)


def line(notification: Notification, related: Related | None = None) -> str:
    """The one-line text shown in the app, in the current language."""
    if notification.kind is NotificationKind.coverage_change:
        return _coverage_change(notification)
    if notification.kind is NotificationKind.survey_imported:
        return _survey_imported(notification)
    if notification.kind is NotificationKind.import_finished:
        return _import_finished(notification)
    if notification.kind in _CIRCULARITY_KINDS:
        return _circularity(notification)
    return _LINES[notification.kind](_values(notification, related))


def subject(notification: Notification) -> str:
    """The e-mail subject, in the current language."""
    values = _values(notification)
    title = notification.kind.title
    if values["reference"] == MISSING:
        return title
    return _("[%(reference)s] %(title)s", reference=values["reference"], title=title)


def _details(notification: Notification, values: dict[str, str]) -> list[str]:
    """Lines after the main sentence: the deadlines that matter to this kind."""
    details = []
    if notification.kind is NotificationKind.action_requested:
        if values["plan_date"]:
            details.append(_("The plan is due on %(date)s.", date=values["plan_date"]))
        if values["closure_date"]:
            details.append(_("The action is to be completed by %(date)s.", date=values["closure_date"]))
    elif notification.kind is NotificationKind.action_escalated and values["date"]:
        details.append(_("It was due on %(date)s.", date=values["date"]))
    return details


@dataclass(frozen=True)
class RenderedMail:
    locale: str
    subject: str
    text: str
    html: str


def render_mail(notification: Notification) -> RenderedMail:
    """Subject, plain text and HTML of the e-mail, in the recipient's language and time zone."""
    user = notification.user
    locale = recipient_locale(user)
    with force_locale(locale), force_timezone(user.time_zone_name):
        values = _values(notification)
        main = line(notification)
        details = _details(notification, values)
        link = absolute_url(target_path(notification))
        settings = absolute_url("/notifications/")
        greeting = _("Hello %(name)s,", name=user.name)
        open_label = _("Open the page:")
        if notification.kind in _MEMBER_KINDS:
            footer = _(
                "You receive this message because you are a member of this organisation. "
                "All your notifications: %(url)s",
                url=settings,
            )
        elif notification.kind in _ROLE_KINDS:
            footer = _(
                "You receive this message because of your role in this system. "
                "All your notifications: %(url)s",
                url=settings,
            )
        else:
            footer = _(
                "You receive this message because you take part in this case. "
                "All your notifications: %(url)s",
                url=settings,
            )
        automatic = _("This message was sent automatically; please do not reply to it.")
        mail_subject = subject(notification)
    text = "\n".join(
        [greeting, "", main, *details, "", f"{open_label} {link}", "", "-- ", footer, automatic, ""]
    )
    paragraphs = "".join(f"<p>{escape(p)}</p>" for p in [main, *details])
    html = (
        f'<!DOCTYPE html><html lang="{escape(locale.replace("_", "-"))}"><head><meta charset="utf-8">'
        f"<title>{escape(mail_subject)}</title></head><body>"
        f"<p>{escape(greeting)}</p>{paragraphs}"
        f'<p>{escape(open_label)} <a href="{escape(link)}">{escape(link)}</a></p>'
        f"<hr><p><small>{escape(footer)}<br>{escape(automatic)}</small></p></body></html>"
    )
    return RenderedMail(locale=locale, subject=mail_subject, text=text, html=html)
