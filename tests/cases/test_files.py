"""Files on messages and on implementations: recognised by content, encrypted, read per role."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from monitoring.cases import operations
from monitoring.cases.files import open_case_file
from monitoring.cases.models import ActionState, Case, CaseFile, CaseMessage, CorrectiveAction
from monitoring.cases.permissions import can_read_file
from monitoring.core.audit import AuditEntry
from monitoring.core.crypto import DecryptionError
from monitoring.core.db import db
from monitoring.core.operations import OperationError
from tests.cases.helpers import CaseWorld
from tests.testimony.monitor_helpers import PDF, PNG

SECRET = b"PAYSLIP-OF-WANG-LI-" * 5000  # about 95 KiB: more than one chunk


def upload(name: str, content: bytes) -> operations.Upload:
    return operations.Upload(
        name=name, content_type="application/octet-stream", stream=io.BytesIO(content), size=None
    )


def stored_bytes(app: Flask) -> bytes:
    root = Path(app.config["FILE_STORE_PATH"])
    return b"".join(p.read_bytes() for p in root.rglob("*") if p.is_file())


def file_count() -> int:
    return db.session.scalar(select(func.count()).select_from(CaseFile)) or 0


def test_message_attachments_are_encrypted_and_read_back(case_world: CaseWorld) -> None:
    w = case_world
    case_id = w.case()
    content = PDF + SECRET
    with w.session():
        case = db.session.get(Case, case_id)
        message = operations.post_message(
            w.user("coordinator"),
            case,
            "buyers",
            "The payslips.",
            files=[upload("../../payslip Wang Li.pdf", content), upload("photo.png", PNG)],
        )
        assert [f.content_type for f in message.attachments] == ["application/pdf", "image/png"]
        file_id = message.attachments[0].id
        assert message.attachments[0].size == len(content)
    assert b"PAYSLIP-OF-WANG-LI" not in stored_bytes(w.app)
    with w.app.app_context():
        raw = db.session.execute(
            select(CaseFile.name_ct, CaseFile.file_key_ct).where(CaseFile.id == file_id)
        ).one()
        assert b"Wang Li" not in raw[0] and b"payslip" not in raw[0]
        case_file = db.session.get(CaseFile, file_id)
        name, content_type, chunks = open_case_file(w.user("affiliate"), case_file)
        assert (name, content_type) == ("payslip Wang Li.pdf", "application/pdf")
        assert b"".join(chunks) == content
        assert db.session.scalars(select(AuditEntry).where(AuditEntry.action == "case_file.open")).all()


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"just some text, not a document", "not a type"), (b"MZ\x90\x00 an executable", "not a type")],
)
def test_unrecognised_files_are_refused_and_nothing_is_written(
    case_world: CaseWorld, content: bytes, message: str
) -> None:
    w = case_world
    case_id = w.case()
    with w.session():
        case = db.session.get(Case, case_id)
        messages = db.session.scalar(select(func.count()).select_from(CaseMessage))
        with pytest.raises(OperationError) as excinfo:
            operations.post_message(
                w.user("coordinator"),
                case,
                "internal",
                "See attached.",
                files=[upload("a.pdf", PDF), upload("b.pdf", content)],
            )
        assert excinfo.value.field == "files" and message in str(excinfo.value.message)
        assert db.session.scalar(select(func.count()).select_from(CaseMessage)) == messages
        assert file_count() == 0


def test_too_large_files_leave_nothing_behind(case_world: CaseWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    w = case_world
    action_id = w.action(w.case())
    w.advance_action(action_id, ActionState.plan_accepted)
    monkeypatch.setitem(w.app.config, "EVIDENCE_MAX_BYTES", 70_000)
    with w.session():
        action = db.session.get(CorrectiveAction, action_id)
        files = [upload("small.png", PNG), upload("big.pdf", PDF + SECRET)]  # the second is too large
        with pytest.raises(OperationError) as excinfo:
            operations.report_implemented(w.user("supplier"), action, "Repaid, see receipts.", files)
        assert excinfo.value.field == "files"
        assert action.state is ActionState.plan_accepted and action.implementation_ct is None
        assert file_count() == 0
        declared = operations.Upload("big.pdf", None, io.BytesIO(PDF), size=80_000)
        with pytest.raises(OperationError):
            operations.report_implemented(w.user("supplier"), action, "Repaid.", [declared])
        with pytest.raises(OperationError) as excinfo:
            operations.report_implemented(w.user("supplier"), action, "Repaid.", [upload("p.png", PNG)] * 11)
        assert excinfo.value.field == "files"
        assert file_count() == 0


def test_who_reads_which_file(case_world: CaseWorld) -> None:
    w = case_world
    case_id = w.case()
    action_id = w.action(case_id)
    w.advance_action(action_id, ActionState.plan_accepted)
    with w.session():
        case = db.session.get(Case, case_id)
        post = operations.post_message
        files = {
            "internal": post(w.user("monitor"), case, "internal", "Notes.", files=[upload("n.pdf", PDF)]),
            "buyers": post(w.user("affiliate"), case, "buyers", "Contract.", files=[upload("c.pdf", PDF)]),
            "parties": post(w.user("supplier"), case, "parties", "Receipts.", files=[upload("r.pdf", PDF)]),
        }
        file_ids = {key: message.attachments[0].id for key, message in files.items()}
        action = db.session.get(CorrectiveAction, action_id)
        operations.report_implemented(
            w.user("supplier"), action, "Repaid.", [upload("proof.jpg", b"\xff\xd8\xff\xe0" + b"0" * 100)]
        )
        file_ids["evidence"] = db.session.scalars(
            select(CaseFile.id).where(CaseFile.action_id == action_id)
        ).one()
    expected = {
        "coordinator": {"internal", "buyers", "parties", "evidence"},
        "monitor": {"internal", "buyers", "parties", "evidence"},
        "affiliate": {"buyers", "parties", "evidence"},
        "supplier": {"parties", "evidence"},
        "supplier_y": set(),
        "affiliate_b": set(),
        "other_monitor": set(),
        "admin": set(),
    }
    with w.app.app_context():
        for key, readable in expected.items():
            user = w.user(key)
            for name, file_id in file_ids.items():
                case_file = db.session.get(CaseFile, file_id)
                assert can_read_file(user, case_file) is (name in readable), (key, name)
                if name not in readable:
                    with pytest.raises(PermissionError):
                        open_case_file(user, case_file)


def test_file_keys_are_bound_to_their_row(case_world: CaseWorld) -> None:
    w = case_world
    case_id = w.case()
    with w.session():
        case = db.session.get(Case, case_id)
        message = operations.post_message(
            w.user("coordinator"),
            case,
            "internal",
            "Two files.",
            files=[upload("a.pdf", PDF), upload("b.pdf", PDF)],
        )
        first, second = message.attachments
        second.file_key_ct = first.file_key_ct
        with pytest.raises(DecryptionError):
            open_case_file(w.user("coordinator"), second)
        db.session.rollback()
