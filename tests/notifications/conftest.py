"""A real SMTP server on 127.0.0.1 (aiosmtpd) and builders for notification tests."""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask


@dataclass
class Collector:
    """An aiosmtpd handler that keeps what it accepts, or answers with ``reply`` instead."""

    envelopes: list[Any] = field(default_factory=list)
    reply: str | None = None  # e.g. "451 4.3.0 Try again later"
    refuse_after: int | None = None  # accept this many messages, then answer ``reply``

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.reply and (self.refuse_after is None or len(self.envelopes) >= self.refuse_after):
            return self.reply
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    @property
    def messages(self) -> list[EmailMessage]:
        return [
            email.message_from_bytes(e.original_content, policy=email.policy.default)  # type: ignore[misc]
            for e in self.envelopes
        ]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class SmtpServer:
    controller: Controller
    collector: Collector
    port: int

    @property
    def messages(self) -> list[EmailMessage]:
        return self.collector.messages


@pytest.fixture
def smtp_server(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpServer]:
    """A local SMTP server, and the app configured to send to it."""
    collector = Collector()
    port = free_port()
    controller = Controller(collector, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", port)
    monkeypatch.setitem(app.config, "MAIL_FROM", "monitoring@example.org")
    monkeypatch.setitem(app.config, "MAIL_TIMEOUT_SECONDS", 5)
    try:
        yield SmtpServer(controller, collector, port)
    finally:
        controller.stop()


# The remediation world of tests/cases (built through the operations), for the jobs tests.
from tests.cases.conftest import case_world  # noqa: E402, F401
