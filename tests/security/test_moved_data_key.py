"""Attack: copy report A's sealed data key into report B's row (or A's share into B's), then share or open B.
Defence: the sealing names table and report; a grant re-seals a key only after it opened B's own sealed field.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from monitoring.accounts import keys
from monitoring.core import crypto
from monitoring.core.db import db
from monitoring.testimony import sealing
from monitoring.testimony.models import ReportGrant, WorkerReport
from tests.conftest import unlocked_as
from tests.testimony.monitor_helpers import audit_since, last_audit_id, make_report, share_with

OPEN = {"reason": "investigation"}


def _copy_wrapped_key(app, source_id: int, target_id: int) -> None:
    """What someone with write access to the database does: move the sealed key, nothing else."""
    with app.app_context():
        source, target = db.session.get(WorkerReport, source_id), db.session.get(WorkerReport, target_id)
        target.wrapped_key = source.wrapped_key
        db.session.commit()


def _grants(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(ReportGrant))


def test_a_data_key_moved_to_another_report_does_not_unseal_there(app, monitor_with_keys, api_client):
    victim = make_report(app, monitor_with_keys, testimony="Passports are kept by the agency.")
    decoy = make_report(app, monitor_with_keys, testimony="Nothing to report.")
    _copy_wrapped_key(app, victim, decoy)
    with unlocked_as(app, monitor_with_keys) as monitor:
        report = db.session.get(WorkerReport, decoy)
        private = keys.organisation_private_key(monitor, report.organisation_key)
        # The HPKE info names the report: the moved key does not even unseal in its new row.
        context = sealing._data_key_context(report, report.organisation_key_id)
        with pytest.raises(crypto.DecryptionError):
            crypto.unseal(private, report.wrapped_key, context=context)
    script = api_client(monitor_with_keys, unlocked=True)
    since = last_audit_id(app)
    assert script.post(f"/api/v1/worker-reports/{decoy}/open", json=OPEN).status_code == 403
    assert [e.action for e in audit_since(app, since)] == ["report.open_failed"]
    # The victim's own row still opens.
    opened = script.post(f"/api/v1/worker-reports/{victim}/open", json=OPEN)
    assert opened.status_code == 200 and opened.get_json()["testimony"] == "Passports are kept by the agency."


def test_sharing_a_report_that_holds_another_reports_key_is_refused(
    app, monitor_with_keys, coordinator, api_client
):
    victim = make_report(app, monitor_with_keys, testimony="Forced student labour on line 4.")
    decoy = make_report(app, monitor_with_keys, testimony="A harmless report to share.")
    _copy_wrapped_key(app, victim, decoy)
    since = last_audit_id(app)
    script = api_client(monitor_with_keys, unlocked=True)
    shared = script.post(f"/api/v1/worker-reports/{decoy}/grants", json={"user_id": coordinator.id})
    assert shared.status_code == 403
    assert _grants(app) == 0
    assert "report.open_failed" in [e.action for e in audit_since(app, since)]
    reader = api_client(coordinator, unlocked=True)
    for report_id in (victim, decoy):
        assert reader.post(f"/api/v1/worker-reports/{report_id}/open", json=OPEN).status_code == 404


def test_a_moved_key_in_the_older_unbound_form_is_caught_by_the_grants_key_check(
    app, monitor_with_keys, coordinator, api_client
):
    """Rows from before the binding name only the key version; the grant's check stops them."""
    victim = make_report(app, monitor_with_keys, testimony="The agency charged us three months' pay.")
    decoy = make_report(app, monitor_with_keys, testimony="A harmless report to share.")
    with unlocked_as(app, monitor_with_keys) as monitor:
        source = db.session.get(WorkerReport, victim)
        data_key = sealing._report_data_key(monitor, source)
        target = db.session.get(WorkerReport, decoy)
        # The victim's key as an unbound row held it, planted in the decoy's row.
        target.key_binding = sealing.UNBOUND
        target.wrapped_key = crypto.seal(
            source.organisation_key.public_key,
            data_key,
            context=sealing._data_key_context(target, target.organisation_key_id, sealing.UNBOUND),
        )
        db.session.commit()
    script = api_client(monitor_with_keys, unlocked=True)
    assert (
        script.post(f"/api/v1/worker-reports/{decoy}/grants", json={"user_id": coordinator.id}).status_code
        == 403
    )
    assert _grants(app) == 0
    assert script.post(f"/api/v1/worker-reports/{decoy}/open", json=OPEN).status_code == 403


def test_a_coordinators_share_moved_to_another_report_does_not_open(
    app, monitor_with_keys, coordinator, api_client
):
    victim = make_report(app, monitor_with_keys, testimony="Overtime of 100 hours a month.")
    shared = make_report(app, monitor_with_keys, testimony="Shared on purpose.")
    victim_grant = share_with(app, monitor_with_keys, victim, coordinator)
    shared_grant = share_with(app, monitor_with_keys, shared, coordinator)
    with app.app_context():
        db.session.get(ReportGrant, shared_grant).wrapped_key = db.session.get(
            ReportGrant, victim_grant
        ).wrapped_key
        db.session.delete(db.session.get(ReportGrant, victim_grant))
        db.session.commit()
    reader = api_client(coordinator, unlocked=True)
    assert reader.post(f"/api/v1/worker-reports/{shared}/open", json=OPEN).status_code == 403
    assert reader.post(f"/api/v1/worker-reports/{victim}/open", json=OPEN).status_code == 404
