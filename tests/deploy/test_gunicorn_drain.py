"""gunicorn reads what is left of a body the app refused unread before it closes the connection,
so that the refusal (a file too large, in the worker's language) reaches the sender instead of
a reset; within bounds of size and time (deploy/gunicorn.conf.py, ``post_request``)."""

from __future__ import annotations

import io
import runpy
import socket
import threading
from types import SimpleNamespace

from monitoring.config import ROOT

CONF = runpy.run_path(str(ROOT / "deploy" / "gunicorn.conf.py"))


class Counted(io.RawIOBase):
    def __init__(self, length: int) -> None:
        self.left, self.read_bytes = length, 0

    def read(self, size: int = -1) -> bytes:
        size = self.left if size < 0 else min(size, self.left)
        self.left -= size
        self.read_bytes += size
        return b"x" * size


def test_the_rest_of_a_refused_body_is_read_before_the_connection_closes() -> None:
    body = Counted(22 * 1024 * 1024)
    CONF["post_request"](None, SimpleNamespace(body=body), {}, None)
    assert body.left == 0


def test_draining_stops_at_its_size_bound(monkeypatch) -> None:
    body = Counted(10 * 1024 * 1024)
    hook = CONF["post_request"]
    monkeypatch.setitem(hook.__globals__, "DRAIN_MAX_BYTES", 1024 * 1024)
    hook(None, SimpleNamespace(body=body), {}, None)
    assert body.read_bytes == 1024 * 1024


def test_a_sender_that_stalls_holds_the_worker_no_longer_than_the_time_bound(monkeypatch) -> None:
    """A real socket whose peer sends a little, then nothing: the read gives up at the bound."""
    hook = CONF["post_request"]
    monkeypatch.setitem(hook.__globals__, "DRAIN_SECONDS", 0.3)
    server, peer = socket.socketpair()
    try:
        peer.sendall(b"x" * 1000)
        reader = server.makefile("rb", buffering=0)
        finished = threading.Event()

        def drain() -> None:
            hook(None, SimpleNamespace(body=reader, unreader=SimpleNamespace(sock=server)), {}, None)
            finished.set()

        thread = threading.Thread(target=drain)
        thread.start()
        thread.join(10)
        assert finished.is_set()  # gave up: the peer never closed
        assert server.gettimeout() is None  # the socket as it was, for gunicorn's own close
    finally:
        server.close()
        peer.close()
