"""Anonymous worker pages at /report: no login, no client address stored.

A worker finds the workplace (or describes it), tells what happened and gets a receipt shown
once; with the receipt, /report/follow-up shows the status and the conversation with the
monitors. The pages:

* need no account, no JavaScript and nothing from another host, and stay small (< 50 KB)
  for a cheap phone on a slow connection;
* speak the worker's language, chosen with ``?lang=`` (carried on every link and form action,
  so no cookie is needed for it) or negotiated from the browser;
* store no client address: rate limits count HMACs of it (:mod:`.throttle`), the audit log
  records no address, and the receipt never travels in a URL or a cookie;
* are never cached (``Cache-Control: no-store``), so a shared phone keeps no receipt or reply.

Over-large uploads and rate-limited clients are refused *before* the request body is read;
the CSRF token is then checked by the form itself (the blueprint is exempt from the
application-wide check, which would read the body first).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    request,
    session,
    url_for,
)
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

from monitoring.core import uploads
from monitoring.core.auth import public
from monitoring.core.db import db
from monitoring.core.forms import apply_error
from monitoring.core.operations import OperationError
from monitoring.core.transactions import attempt, keep_failed_attempt
from monitoring.supplychain.matching import is_country_code
from monitoring.supplychain.models import Site
from monitoring.supplychain.operations import country_choices, country_name
from monitoring.testimony import (
    keyless,
    operations_public,
    operations_retaliation,
    receipts,
    sealing,
    throttle,
)
from monitoring.testimony.models import IssueCategory, WorkerReport
from monitoring.testimony.models_retaliation import CheckInAnswer
from monitoring.testimony.public_forms import (
    CheckInForm,
    EraseReportForm,
    FlagRetaliationForm,
    FollowUpForm,
    MessageForm,
    ReportForm,
    WorkplaceChoiceForm,
    WorkplaceSearchForm,
)
from monitoring.testimony.public_render import render, worker_locale, worker_page
from monitoring.testimony.routing import receiving_fingerprint

logger = logging.getLogger(__name__)

bp = Blueprint("report", __name__, url_prefix="/report")

SEARCH_RESULTS = 20
# Room for the text fields of a form next to its file, in the declared request size.
FORM_ALLOWANCE = 256 * 1024

MESSAGES = {
    400: _l("Something in what you sent could not be understood. Please go back and try again."),
    404: _l("This page does not exist."),
    405: _l("This page does not exist."),
    413: _l(
        "The file is too large. Nothing was sent. Go back, choose a smaller file "
        "(at most %(size)s MB) or send your report without it."
    ),
    429: _l(
        "Too many attempts from your connection, or from everyone right now. Please wait "
        "%(minutes)s minutes and try again. Nothing you typed was saved."
    ),
    500: _l("Something went wrong on our side. Nothing was saved. Please try again later."),
}


@bp.after_request
def _never_cache(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


# --- errors ----------------------------------------------------------------------------------


def _max_mb() -> int:
    return max(1, current_app.config["EVIDENCE_MAX_BYTES"] // (1024 * 1024))


def _error_page(code: int, **values: Any) -> Response:
    message = MESSAGES.get(code, MESSAGES[500])
    with force_locale(worker_locale()):
        text = str(message) % values if values else str(message)
    return render(
        "report/error.html", status=code, code=code, message=text, languages_for=("report.start", {})
    )


@bp.errorhandler(throttle.Throttled)
def _throttled(exc: throttle.Throttled) -> Response:
    response = _error_page(429, minutes=max(1, -(-exc.retry_after // 60)))
    response.headers["Retry-After"] = str(exc.retry_after)
    return response


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> Response:
    code = exc.code or 500
    if code == 413:
        return _error_page(413, size=_max_mb())
    return _error_page(code if code in MESSAGES else 400)


def _prepare_body() -> None:
    """Refuse a body larger than a file plus the form's text, before reading any of it.

    A body without a declared length is cut off at the same size while it is read; its files
    are parsed in memory (sealed content never reaches a disk in clear).
    """
    if not uploads.accept_body(current_app.config["EVIDENCE_MAX_BYTES"] + FORM_ALLOWANCE):
        abort(413)


# --- pages -----------------------------------------------------------------------------------


@bp.route("/")
@public
@worker_page
def start() -> Any:
    return render("report/start.html")


@bp.route("/workplace", methods=["GET", "POST"])
@public
@worker_page
def workplace() -> Any:
    """Search for the workplace. The search travels in a POST body, never in a URL, so it stays
    out of the browser's history, bookmarks and the logs of proxies on the way."""
    form = WorkplaceSearchForm()
    query = ""
    expired = False
    if request.method == "POST":
        if form.validate_on_submit():
            query = " ".join((form.q.data or "").split())[:200]
        else:
            expired = bool(form.csrf_token.errors)
            query = " ".join((form.q.data or "").split())[:200] if not expired else ""
    sites = operations_public.search_workplaces(query, SEARCH_RESULTS + 1) if len(query) >= 2 else []
    lang = worker_locale()
    return render(
        "report/workplace.html",
        form=form,
        choice=WorkplaceChoiceForm(formdata=None),
        query=query,
        expired=expired,
        too_short=request.method == "POST" and not expired and len(query) < 2,
        sites=sites[:SEARCH_RESULTS],
        more=len(sites) > SEARCH_RESULTS,
        country_name=lambda code: country_name(code, lang),
        countries=country_choices(lang),
    )


def _chosen_workplace(values: Any) -> tuple[Site | None, str | None] | None:
    """The site (``site``) or the country of a described workplace (``country``) in a POST body."""
    site_id = str(values.get("site", "") or "")
    if not site_id:
        country = str(values.get("country", "") or "").upper()
        return (None, country) if is_country_code(country) else None
    site = operations_public.surviving_site(int(site_id)) if site_id.isdigit() else None
    if site is None:
        abort(404)
    return site, None


@bp.route("/new", methods=["GET", "POST"])
@public
@worker_page
def new_report() -> Any:
    """The report form, for the workplace chosen in the POST body (never in the URL).

    A POST without the form's ``submission`` token is the choice of a workplace (from the search
    results or the country list) and shows the empty form; with it, the report is filed. A GET
    (an old bookmark, a language link) leads back to the choice of the workplace.
    """
    lang = worker_locale()
    if request.method == "GET":
        return redirect(url_for("report.workplace", lang=lang))
    # Refuse before reading the body: a rate-limited client, then an over-large upload.
    throttle.check(throttle.report_client_limit())
    throttle.check(throttle.report_global_limit())
    _prepare_body()
    chosen = _chosen_workplace(request.form)
    if chosen is None:
        return redirect(url_for("report.workplace", lang=lang))
    site, country = chosen
    workplace_country = country_name(site.country if site else country or "", lang)
    choosing = "submission" not in request.form
    if choosing and not WorkplaceChoiceForm().validate_on_submit():
        return redirect(url_for("report.workplace", lang=lang))
    try:
        organisation = sealing.responsible_organisation(db.session(), site=site, country=country)
    except OperationError:
        return render(
            "report/nobody.html", site=site, country_label=workplace_country, languages_for=_back_to_search()
        )
    if not keyless.can_seal_for(organisation):
        # Decided before the form is shown: a worker never writes a report that cannot be sealed.
        keyless.warn_dead_end(organisation, site.country if site else country)
        return render(
            "report/cannot_receive.html",
            country_label=workplace_country,
            advice=str(current_app.config.get("WORKER_KEYLESS_ADVICE") or "").strip(),
            languages_for=_back_to_search(),
        )
    if choosing:
        form = ReportForm(formdata=None, describe_workplace=site is None)
    else:
        form = ReportForm(describe_workplace=site is None)
    if not choosing and _already_filed(form.submission.data):
        # The same form page sent again: the report exists; its receipt was shown once.
        return render("report/already_sent.html", languages_for=("", {}))
    if not choosing and form.validate_on_submit():
        data = _report_data(form, site, country, lang)
        try:
            filed = attempt(operations_public.file_anonymous_report, data, organisation)
        except OperationError as exc:
            apply_error(form, exc)
        else:
            session[_FILED] = _submission_digest(form.submission.data)
            # Shown once, in this response only: no redirect, no cookie, no URL holds it.
            return render(
                "report/receipt.html",
                groups=receipts.receipt_groups(filed.receipt),
                receipt=receipts.format_receipt(filed.receipt),
                organisation=organisation,
                languages_for=("", {}),
            )
    expired = bool(form.csrf_token.errors) if not choosing else False
    return render(
        "report/form.html",
        form=form,
        site=site,
        country=country,
        country_label=workplace_country,
        organisation=organisation,
        fingerprint=receiving_fingerprint(organisation),
        expired=expired,
        max_mb=_max_mb(),
        # A language link cannot carry the choice (it would put it in the URL): it leads back
        # to the search, in that language.
        languages_for=_back_to_search(),
    )


def _back_to_search() -> tuple[str, dict[str, Any]]:
    return ("report.workplace", {})


# The session remembers (a digest of) the token of the last form page that filed a report.
_FILED = "_report_filed"


def _submission_digest(token: str | None) -> str:
    return hashlib.sha256(f"report-submission:{token}".encode()).hexdigest()


def _already_filed(token: str | None) -> bool:
    filed = session.get(_FILED)
    return bool(token and filed and hmac.compare_digest(filed, _submission_digest(token)))


def _upload(storage: Any) -> operations_public.Upload | None:
    if storage is None or not getattr(storage, "filename", ""):
        return None
    return operations_public.Upload(storage.stream, storage.filename)


def _report_data(
    form: ReportForm, site: Site | None, country: str | None, lang: str
) -> operations_public.AnonymousReport:
    return operations_public.AnonymousReport(
        testimony=form.testimony.data or "",
        language=lang,
        site=site,
        country=country,
        workplace=(form.workplace.data or "") if site is None else "",
        categories=[IssueCategory(value) for value in form.categories.data or []],
        contact=form.contact.data or "",
        consent_share_buyers=bool(form.consent_share_buyers.data),
        consent_share_supplier=bool(form.consent_share_supplier.data),
        consent_contact=bool(form.consent_contact.data),
        evidence=_upload(form.evidence.data),
    )


# --- follow-up with the receipt ------------------------------------------------------------


def _conversation(
    report: WorkerReport,
    derived: receipts.ReceiptSecrets,
    form: MessageForm,
    *,
    sent: bool = False,
    expired: bool = False,
    **extra: Any,
) -> Response:
    try:
        messages = sealing.read_messages_with_receipt(
            report, derived.private_key_for(report.receipt_public_key)
        )
    except sealing.SealedAccessError:
        keep_failed_attempt()  # the audit entry of the failure
        abort(500)
    lang = worker_locale()
    return render(
        "report/conversation.html",
        status=extra.pop("status", 200),
        **_retaliation_context(report, form.receipt.data, extra),
        **public_outcomes.outcome_context(report, form.receipt.data, extra),
        report=report,
        messages=messages,
        form=form,
        erase_form=EraseReportForm(formdata=None, receipt=form.receipt.data),
        sent=sent,
        expired=expired,
        max_mb=_max_mb(),
        country_label=country_name(report.site.country if report.site else report.country or "", lang),
        languages_for=("report.follow_up", {}),
    )


@bp.route("/follow-up", methods=["GET", "POST"])
@public
@worker_page
def follow_up() -> Any:
    if request.method == "POST":
        throttle.check(throttle.followup_client_limit())
        _prepare_body()
    form = FollowUpForm()
    not_found = False
    if form.validate_on_submit():
        found = operations_public.find_by_receipt(form.receipt.data)
        if found is not None:
            report, derived = found
            message_form = MessageForm(formdata=None, receipt=form.receipt.data)
            return _conversation(report, derived, message_form)
        not_found = True
    if form.receipt.data:
        form.receipt.data = ""  # a wrong receipt is not shown again
    return render("report/follow_up.html", form=form, not_found=not_found)


@bp.route("/follow-up/message", methods=["POST"])
@public
@worker_page
def send_message() -> Any:
    throttle.check(throttle.followup_client_limit())
    _prepare_body()
    form = MessageForm()
    valid = form.validate()
    if form.receipt.errors:
        abort(400)
    found = operations_public.find_by_receipt(form.receipt.data)
    if found is None:
        entry = FollowUpForm(formdata=None)
        return render(
            "report/follow_up.html", form=entry, not_found=True, languages_for=("report.follow_up", {})
        )
    report, derived = found
    if not valid:
        # An expired form (CSRF) shows the conversation again with the message kept, unsent.
        return _conversation(report, derived, form, expired=bool(form.csrf_token.errors))
    try:
        attempt(
            operations_public.add_worker_message, report, form.body.data or "", _upload(form.evidence.data)
        )
    except OperationError as exc:
        apply_error(form, exc)
        return _conversation(report, derived, form)
    return _conversation(report, derived, MessageForm(formdata=None, receipt=form.receipt.data), sent=True)


# --- retaliation watch ------------------------------------------------------------------------


def _retaliation_context(report: WorkerReport, receipt: str | None, extra: dict[str, Any]) -> dict[str, Any]:
    """The check-in that is due (with its form) and the "flag retaliation" form."""
    check_in = operations_retaliation.current_check_in(report)
    check_in_form = extra.get("check_in_form")  # an answer refused, shown with its error
    if check_in_form is None and check_in is not None:
        check_in_form = CheckInForm(formdata=None, receipt=receipt, check_in=str(check_in.id))
    return {
        "check_in_form": check_in_form,
        "flag_form": extra.get("flag_form") or FlagRetaliationForm(formdata=None, receipt=receipt),
        "retaliation_notice": extra.get("retaliation_notice"),
    }


def _posted_report(form: CheckInForm | FlagRetaliationForm) -> tuple[bool, Any]:
    """The report a worker's POST names by its receipt: (True, (report, derived)) or (False, a page)."""
    throttle.check(throttle.followup_client_limit())
    _prepare_body()
    form.validate()
    if form.receipt.errors:
        abort(400)
    found = operations_public.find_by_receipt(form.receipt.data)
    if found is None:
        entry = FollowUpForm(formdata=None)
        page = render(
            "report/follow_up.html", form=entry, not_found=True, languages_for=("report.follow_up", {})
        )
        return False, page
    return True, found


def _fresh_message_form(receipt: str | None) -> MessageForm:
    return MessageForm(formdata=None, receipt=receipt)


@bp.route("/follow-up/check-in", methods=["POST"])
@public
@worker_page
def answer_check_in() -> Any:
    """The worker answers the check-in shown on the follow-up page."""
    form = CheckInForm()
    ok, found = _posted_report(form)
    if not ok:
        return found
    report, derived = found
    message_form = _fresh_message_form(form.receipt.data)
    if form.errors:
        return _conversation(report, derived, message_form, check_in_form=form, status=422)
    check_in_id = int(form.check_in.data) if (form.check_in.data or "").isdigit() else 0
    answer = CheckInAnswer(form.answer.data)
    try:
        attempt(operations_retaliation.answer_check_in, report, check_in_id, answer, form.comment.data)
    except OperationError as exc:
        apply_error(form, exc)
        return _conversation(report, derived, message_form, check_in_form=form, status=422)
    notice = "alerted" if answer is CheckInAnswer.yes else "answered"
    return _conversation(report, derived, message_form, retaliation_notice=notice)


@bp.route("/follow-up/retaliation", methods=["POST"])
@public
@worker_page
def flag_retaliation() -> Any:
    """The worker tells the monitors, at any time, that they are punished for speaking up."""
    form = FlagRetaliationForm()
    ok, found = _posted_report(form)
    if not ok:
        return found
    report, derived = found
    message_form = _fresh_message_form(form.receipt.data)
    if form.errors:
        return _conversation(report, derived, message_form, flag_form=form, status=422)
    try:
        attempt(operations_retaliation.flag_retaliation, report, form.comment.data)
    except OperationError as exc:
        apply_error(form, exc)
        return _conversation(report, derived, message_form, flag_form=form, status=422)
    return _conversation(report, derived, message_form, retaliation_notice="alerted")


from monitoring.testimony import public_erasure, public_outcomes  # noqa: E402, F401  (their routes join the blueprint)
