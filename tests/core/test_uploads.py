"""Request bodies with sealed content: refused by declared size unread, files parsed in memory."""

from __future__ import annotations

import io

import pytest
import werkzeug.formparser
from flask import request
from flask_wtf.csrf import CSRFError
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.test import stream_encode_multipart

from monitoring.core import uploads

BIG = b"x" * (900 * 1024)  # over werkzeug's 500 KB in-memory threshold


class Unreadable(io.RawIOBase):
    """A request body that must not be read."""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        raise AssertionError("the body was read")


@pytest.fixture
def no_disk(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("an upload was spooled to a temporary file")

    monkeypatch.setattr(werkzeug.formparser, "SpooledTemporaryFile", refuse)


def _multipart(app, **fields):
    stream, length, boundary = stream_encode_multipart(MultiDict(fields), use_tempfile=False)
    return app.test_request_context(
        "/upload",
        method="POST",
        input_stream=stream,
        content_type=f"multipart/form-data; boundary={boundary}",
        content_length=length,
    )


def _declared_too_large(app):
    return app.test_request_context(
        "/upload", method="POST", environ_overrides={"wsgi.input": Unreadable(), "CONTENT_LENGTH": "1001"}
    )


def test_files_are_spooled_to_disk_unless_kept_in_memory(app, no_disk):
    with (
        _multipart(app, file=FileStorage(io.BytesIO(BIG), "big.csv")),
        pytest.raises(AssertionError, match="spooled"),
    ):
        request.files  # noqa: B018 - parses the body
    with _multipart(app, file=FileStorage(io.BytesIO(BIG), "big.csv")):
        uploads.keep_uploads_in_memory()
        upload = request.files["file"]
        assert isinstance(upload.stream, io.BytesIO)
        assert upload.read() == BIG


def test_a_body_declared_too_large_is_refused_unread(app):
    with _declared_too_large(app) as context:
        default = request.max_content_length
        assert uploads.accept_body(1000) is False
        assert request.max_content_length == default
        assert "_get_file_stream" not in vars(context.request)


def test_an_accepted_body_is_bounded_and_kept_in_memory(app, no_disk):
    with _multipart(app, file=FileStorage(io.BytesIO(BIG), "big.csv")):
        assert uploads.accept_body(len(BIG) + 10_000) is True
        assert request.max_content_length == len(BIG) + 10_000
        assert request.files["file"].read() == BIG
    with app.test_request_context("/upload", method="POST", data=b"abc"):
        assert uploads.accept_body(3, cut_off=4) is True
        assert request.max_content_length == 4


def test_a_body_without_declared_length_is_cut_off_while_read(app):
    with _multipart(app, file=FileStorage(io.BytesIO(BIG), "big.csv")) as context:
        context.request.environ.pop("CONTENT_LENGTH")
        context.request.environ["wsgi.input_terminated"] = True
        assert uploads.accept_body(1000) is True
        with pytest.raises(RequestEntityTooLarge):
            request.files  # noqa: B018 - parses the body


def test_a_form_checks_its_csrf_token_only_after_the_size(app):
    with _declared_too_large(app):
        assert uploads.accept_form(1000) is False
    with (
        _multipart(app, csrf_token="forged", file=FileStorage(io.BytesIO(b"a,b"), "small.csv")),
        pytest.raises(CSRFError),
    ):
        uploads.accept_form(10_000)
