"""Do the database, the keyring and the file store belong together?

``flask keys verify`` decrypts every protected value and checks the form of every sealed key
(which the server cannot open); ``flask files verify`` checks that every file a row names is in
the store and opens, and lists the stored files no row or upload record names. Both are meant
for after a restore, a key rotation or a move of the file store, and for a daily check.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlalchemy import select

from monitoring.core import crypto
from monitoring.core.crypto import CHUNK_SIZE, DecryptionError, Keyring
from monitoring.core.db import db
from monitoring.core.keyring import protected_columns, unprotect
from monitoring.core.storage import FileStore, unknown_objects

logger = logging.getLogger(__name__)

# Every ciphertext of a stored file: a header (version and nonce prefix), then chunks of at most
# CHUNK_SIZE bytes, each with a 16-byte tag (see crypto.encrypt_stream).
_STREAM_HEADER_BYTES = 8
_TAG_BYTES = 16


@dataclass
class Problem:
    """One value or file that does not check out."""

    where: str  # e.g. "user_account.totp_secret_ct row 3" or "evidence 12 (file abc…)"
    what: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what}"


@dataclass
class Report:
    """How many things were checked, and what failed."""

    checked: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


# --- keys --------------------------------------------------------------------------------------


def verify_protected(keyring: Keyring, report: Report) -> None:
    """Decrypt every protected value with the keyring."""
    for entry in protected_columns():
        column = getattr(entry.model, entry.column)
        rows = db.session.execute(select(entry.model.id, column).where(column.is_not(None))).yield_per(1000)
        for row_id, blob in rows:
            report.checked += 1
            try:
                keyring.decrypt(blob, table=entry.table, column=entry.column, row=row_id)
            except DecryptionError:
                key_id = _key_id(blob)
                what = (
                    f"key {key_id} is not in the keyring"
                    if key_id not in keyring.keys
                    else f"does not decrypt under key {key_id}"
                )
                report.problems.append(Problem(f"{entry.table}.{entry.column} row {row_id}", what))


def _key_id(blob: bytes) -> str:
    try:
        return crypto.key_id_of(blob)
    except DecryptionError:
        return "(none: not a protected ciphertext)"


# Sealed keys: HPKE blobs are the suite's mark byte, the KEM's encapsulated key, then the sealed
# secret and its 16-byte tag. The encapsulated key is 32 bytes for X25519 and 1,120 for the
# ML-KEM-768 + X25519 hybrid (1,088 + 32).
_ENCAPSULATED_BYTES = {crypto.SUITE_X25519: 32, crypto.SUITE_HYBRID: 1088 + 32}
_PRIVATE_KEY_BYTES = {crypto.SUITE_X25519: 32, crypto.SUITE_HYBRID: crypto.HYBRID_PRIVATE_BYTES}
_DATA_KEY = "data key"
_PRIVATE_KEY = "organisation private key"


def _sealed_problem(blob: bytes, secret: str, suite: str | None) -> str | None:
    """What is wrong with the form of a sealed blob (None: nothing), given what it should seal."""
    found = crypto.sealed_suite(blob)
    if found is None:
        return "is not a sealed key (unknown suite mark)"
    if suite is not None and found != suite:
        return f"is sealed with {found}, but the key it names is {suite}"
    sizes = [crypto.KEY_BYTES] if secret == _DATA_KEY else [_PRIVATE_KEY_BYTES[suite or found]]
    expected = [1 + _ENCAPSULATED_BYTES[found] + size + _TAG_BYTES for size in sizes]
    if len(blob) not in expected:
        return f"is {len(blob)} bytes long, {' or '.join(map(str, expected))} expected for a {found} {secret}"
    return None


def verify_sealed_keys(report: Report) -> None:
    """Check the form of every sealed key and that each names an existing organisation key version.

    The server cannot open them (that takes a monitor's key); a damaged or foreign blob, or one
    naming a key version that is gone, shows up here instead of at the next reading.
    """
    from monitoring.accounts.models import OrganisationKey, OrganisationKeyGrant
    from monitoring.testimony.models import Evidence, ReportGrant, ReportMessage, WorkerReport

    versions = {
        key_id: algorithm.value
        for key_id, algorithm in db.session.execute(select(OrganisationKey.id, OrganisationKey.algorithm))
    }
    named = (
        (WorkerReport, "wrapped_key", WorkerReport.organisation_key_id),
        (ReportMessage, "organisation_wrapped_key", ReportMessage.organisation_key_id),
        (Evidence, "wrapped_key", Evidence.organisation_key_id),
        (OrganisationKeyGrant, "wrapped", OrganisationKeyGrant.organisation_key_id),
    )
    for model, column_name, key_column in named:
        secret = _PRIVATE_KEY if model is OrganisationKeyGrant else _DATA_KEY
        column = getattr(model, column_name)
        for row_id, blob, key_id in db.session.execute(select(model.id, column, key_column)).yield_per(1000):
            report.checked += 1
            where = f"{model.__tablename__}.{column_name} row {row_id}"
            if key_id not in versions:
                report.problems.append(
                    Problem(where, f"names organisation key {key_id}, which does not exist")
                )
                continue
            problem = _sealed_problem(blob, secret, versions[key_id])
            if problem:
                report.problems.append(Problem(where, problem))
    # Sealed to other public keys: a recovery key, a coordinator's key, a worker's receipt key.
    others = (
        (OrganisationKey, "recovery_wrapped", _PRIVATE_KEY),
        (ReportGrant, "wrapped_key", _DATA_KEY),
        (ReportMessage, "receipt_wrapped_key", _DATA_KEY),
    )
    for other, column_name, secret in others:
        column = getattr(other, column_name)
        rows = db.session.execute(select(other.id, column).where(column.is_not(None))).yield_per(1000)
        for row_id, blob in rows:
            report.checked += 1
            suite = versions.get(row_id) if other is OrganisationKey else None
            problem = _sealed_problem(blob, secret, suite)
            if problem:
                report.problems.append(Problem(f"{other.__tablename__}.{column_name} row {row_id}", problem))


# --- files -------------------------------------------------------------------------------------


def stream_size(plaintext_size: int) -> int:
    """The size of the stored ciphertext of a file of ``plaintext_size`` bytes."""
    chunks = max(1, -(-plaintext_size // CHUNK_SIZE))
    return _STREAM_HEADER_BYTES + plaintext_size + chunks * _TAG_BYTES


def verify_files(store: FileStore, report: Report) -> list[str]:
    """Check every stored file a row names; return the names of unknown stored files.

    Case files are decrypted whole (their keys are under the keyring). Evidence files are
    sealed, so the server cannot open them: their size and header are checked instead.
    """
    from monitoring.cases.files import TABLE, _content_context
    from monitoring.cases.models import CaseFile
    from monitoring.testimony.models import Evidence

    for case_file in db.session.scalars(select(CaseFile).order_by(CaseFile.id)).yield_per(200):
        report.checked += 1
        where = f"case file {case_file.id} of case {case_file.case_id} ({case_file.storage_key})"
        try:
            key = unprotect(case_file.file_key_ct, table=TABLE, column="file_key_ct", row=case_file.id)
            size = 0
            with store.open(case_file.storage_key) as fh:
                for chunk in crypto.decrypt_stream(
                    key, fh, context=_content_context(case_file.case_id, case_file.storage_key)
                ):
                    size += len(chunk)
        except FileNotFoundError:
            report.problems.append(Problem(where, "missing from the file store"))
            continue
        except DecryptionError:
            report.problems.append(Problem(where, "does not decrypt (damaged, or another file)"))
            continue
        if size != case_file.size:
            report.problems.append(Problem(where, f"holds {size} bytes, the database says {case_file.size}"))

    for evidence in db.session.scalars(select(Evidence).order_by(Evidence.id)).yield_per(200):
        report.checked += 1
        where = f"evidence {evidence.id} of report {evidence.report_id} ({evidence.storage_key})"
        problem = _check_sealed_file(store, evidence.storage_key, evidence.size)
        if problem:
            report.problems.append(Problem(where, problem))
    db.session.expunge_all()
    return list(unknown_objects(store))


def _check_sealed_file(store: FileStore, name: str, size: int) -> str | None:
    try:
        with store.open(name) as fh:
            header = fh.read(_STREAM_HEADER_BYTES)
            fh.seek(0, 2)
            stored = fh.tell()
    except FileNotFoundError:
        return "missing from the file store"
    if len(header) != _STREAM_HEADER_BYTES or header[0] != 1:
        return "is not an encrypted file of this application"
    if stored != stream_size(size):
        return f"holds {stored} bytes, {stream_size(size)} expected for {size} bytes of content"
    return None


def describe_unknown(names: list[str], limit: int = 20) -> Iterator[str]:
    """Lines naming the unknown stored files (the first ``limit``)."""
    for name in names[:limit]:
        yield f"unknown stored file {name}: no row and no upload record names it"
    if len(names) > limit:
        yield f"… and {len(names) - limit} more unknown stored files"
