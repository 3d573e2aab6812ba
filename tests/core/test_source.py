"""The server offers the source code it runs to every user (AGPL-3.0, section 13)."""

from __future__ import annotations

import io
import tarfile

import pytest
from flask import Flask
from flask.testing import FlaskClient

from monitoring.core.source import ARCHIVE_NAME, build_archive


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def test_every_page_links_the_source(client):
    page = client.get("/login")
    assert page.status_code == 200
    assert f'href="/{ARCHIVE_NAME}"'.encode() in page.data


def test_worker_pages_link_the_source(client):
    page = client.get("/report/")
    assert f'href="/{ARCHIVE_NAME}"'.encode() in page.data


def test_the_archive_holds_the_running_code_and_the_licence(client):
    response = client.get(f"/{ARCHIVE_NAME}")
    assert response.status_code == 200
    assert response.mimetype == "application/gzip"
    with tarfile.open(fileobj=io.BytesIO(response.data), mode="r:gz") as archive:
        names = set(archive.getnames())
        assert "monitoring-source/monitoring/core/source.py" in names
        assert "monitoring-source/LICENSE" in names
        assert "monitoring-source/migrations/env.py" in names
        assert not any("__pycache__" in n or "/instance/" in n or n.endswith(".pyc") for n in names)
        licence = archive.extractfile("monitoring-source/LICENSE")
        assert licence is not None and b"GNU AFFERO GENERAL PUBLIC LICENSE" in licence.read()


def test_the_archive_is_reproducible():
    assert build_archive() == build_archive()


def test_source_url_points_elsewhere_when_set(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "SOURCE_URL", "https://code.example.org/monitoring/v1.2")
    page = client.get("/login")
    assert b'href="https://code.example.org/monitoring/v1.2"' in page.data
