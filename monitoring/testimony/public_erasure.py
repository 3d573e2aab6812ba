"""The worker erases their own report from the follow-up page, with their receipt.

The first POST (from the follow-up page) shows what erasure means and asks to confirm; the
second, with ``confirm``, erases (:func:`operations_erasure.erase_report`). Afterwards the
receipt opens nothing: the follow-up page answers as for a receipt it does not know.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import abort

from monitoring.core.auth import public
from monitoring.core.operations import OperationError
from monitoring.core.transactions import attempt
from monitoring.testimony import operations_erasure, operations_public, throttle
from monitoring.testimony.models import ErasureReason
from monitoring.testimony.public import _prepare_body, bp
from monitoring.testimony.public_forms import EraseReportForm, FollowUpForm
from monitoring.testimony.public_render import render, worker_page

logger = logging.getLogger(__name__)

CONFIRMED = "yes"


@bp.route("/follow-up/erase", methods=["POST"])
@public
@worker_page
def erase_report() -> Any:
    """Ask to confirm, then erase the report the receipt names."""
    throttle.check(throttle.followup_client_limit())
    _prepare_body()
    form = EraseReportForm()
    valid = form.validate()
    if form.receipt.errors:
        abort(400)
    found = operations_public.find_by_receipt(form.receipt.data)
    if found is None:
        entry = FollowUpForm(formdata=None)
        return render(
            "report/follow_up.html", form=entry, not_found=True, languages_for=("report.follow_up", {})
        )
    report, _derived = found
    if not valid or form.confirm.data != CONFIRMED:
        confirm = EraseReportForm(formdata=None, receipt=form.receipt.data, confirm=CONFIRMED)
        # No language links: they would lose the receipt, which only travels in this form.
        return render("report/erase_confirm.html", form=confirm, languages_for=("", {}))
    try:
        attempt(operations_erasure.erase_report, report, ErasureReason.worker_request)
    except OperationError:
        abort(404)  # erased meanwhile: as for an unknown receipt
    return render("report/erased.html", languages_for=("report.start", {}))
