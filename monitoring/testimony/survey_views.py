"""HTML pages for monitors: import a KoboToolbox survey export, see past imports and results.

Only monitors reach these pages, and only for their own organisation; an import of another
organisation answers 404 like a missing one.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import select
from wtforms import SelectField, StringField
from wtforms.validators import Length, Optional

from monitoring.accounts.models import User, UserRole
from monitoring.core import uploads
from monitoring.core.auth import roles
from monitoring.core.db import db
from monitoring.core.errors import error_response
from monitoring.core.forms import apply_error
from monitoring.core.operations import OperationError
from monitoring.core.pagination import paginate
from monitoring.supplychain.models import Site
from monitoring.testimony import survey
from monitoring.testimony.models import IssueCategory, SurveyImport
from monitoring.testimony.operations import language_choices

logger = logging.getLogger(__name__)

bp = Blueprint("survey", __name__, url_prefix="/testimony/survey-imports")


class SurveyUploadForm(FlaskForm):
    file = FileField(
        _l("Survey export (CSV)"),
        validators=[FileRequired(message=_l("Choose the CSV file exported from KoboToolbox."))],
        description=_l("KoboToolbox: Data, Downloads, CSV, with “XML values and headers”."),
        render_kw={"accept": ".csv,text/csv"},
    )
    site = StringField(
        _l("Workplace of every row (optional)"),
        validators=[Optional(), Length(max=40)],
        description=_l(
            "Open Supply Hub id or site number, for a survey of one workplace. Rows with their own "
            "site_os_id or site_name and country keep theirs."
        ),
    )
    language = SelectField(
        _l("Language of rows that do not say"),
        description=_l("Used for rows without a “language” answer."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.language.choices = language_choices()


def _me() -> User:
    return current_user._get_current_object()  # type: ignore[attr-defined,no-any-return]


def _load(import_id: int) -> SurveyImport:
    found = db.session.scalar(survey.visible_survey_imports(_me()).where(SurveyImport.id == import_id))
    if found is None:
        abort(404)
    return found


@bp.route("/")
@roles(UserRole.monitor)
def imports() -> Any:
    query = survey.visible_survey_imports(_me())
    page = paginate(
        db.session,
        query,
        key_columns=[SurveyImport.imported_dt.desc(), SurveyImport.id.desc()],
        after=request.args.get("after"),
    )
    users = _users({item.imported_by_id for item in page.items})
    return render_template(
        "testimony/survey_imports.html", page=page, users=users, first_page=not request.args.get("after")
    )


def _users(ids: set[int | None]) -> dict[int, User]:
    wanted = sorted(i for i in ids if i is not None)
    if not wanted:
        return {}
    return {user.id: user for user in db.session.scalars(select(User).where(User.id.in_(wanted)))}


def _upload_page(
    form: SurveyUploadForm, *, refused: survey.SurveyRefused | None = None, status: int = 200
) -> Any:
    return (
        render_template(
            "testimony/survey_upload.html",
            form=form,
            refused=refused,
            questions=survey.QUESTION_HELP,
            categories=list(IssueCategory),
            max_rows=current_app.config["SURVEY_MAX_ROWS"],
        ),
        status,
    )


@bp.route("/new", methods=["GET", "POST"])
@roles(UserRole.monitor)
def upload() -> Any:
    user = _me()
    # The file holds identities in clear: parse it in memory, then check the CSRF token.
    if request.method == "POST" and not uploads.accept_form(current_app.config["MAX_CONTENT_LENGTH"]):
        return error_response(413)
    form = SurveyUploadForm()
    if request.method == "GET":
        form.language.data = survey.worker_language(user.locale or "") or "en"
    if not form.validate_on_submit():
        return _upload_page(form, status=422 if request.method == "POST" else 200)
    site = None
    if form.site.data:
        site = survey.find_site(form.site.data)
        if site is None:
            form.site.errors = [_("No site with this Open Supply Hub id or number.")]
            return _upload_page(form, status=422)
    try:
        result = survey.import_survey(
            user, user.organisation, form.file.data.read(), site=site, default_language=form.language.data
        )
    except survey.SurveyRefused as exc:
        db.session.rollback()
        return _upload_page(form, refused=exc, status=422)
    except OperationError as exc:
        db.session.rollback()
        apply_error(form, exc)
        return _upload_page(form, status=422)
    db.session.commit()
    flash(_("%(num)d reports were sealed and imported.", num=result.rows), "success")
    if result.skipped:
        flash(_("%(num)d answers had been imported before and were skipped.", num=result.skipped), "info")
    return redirect(url_for(".detail", import_id=result.id))


uploads.csrf_checked_in_view(bp, upload)


@bp.route("/<int:import_id>")
@roles(UserRole.monitor)
def detail(import_id: int) -> Any:
    item = _load(import_id)
    return render_template(
        "testimony/survey_import.html",
        item=item,
        reports=survey.report_count(item),
        imported_by=db.session.get(User, item.imported_by_id) if item.imported_by_id else None,
        site=db.session.get(Site, item.site_id) if item.site_id else None,
    )
