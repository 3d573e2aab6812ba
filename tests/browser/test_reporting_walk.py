"""An affiliate's reporting in Chromium: the dashboard, then the CSV, the XLSX and the PDF, opened.

The demo affiliate (City of Northhaven) buys phones made at the semiconductor plant in Penang,
whose case the demo closed with recruitment fees repaid in ringgit to 75 workers, and laptops
whose circuit boards come from the plant in Ayutthaya, which has a case in dialogue. Before the
server starts, the Ayutthaya site is renamed in Thai, so the downloads must carry Thai text: the
CSV read with ``csv``, the XLSX with openpyxl and the PDF's text with pypdf (WeasyPrint shapes it
with HarfBuzz; the text must come back as the same characters).

Downloads are taken with Playwright's ``expect_download`` from the links and the form the pages
show, as a person would click them. The server and Chromium come from tests/browser/conftest.py.
"""

from __future__ import annotations

import csv
import io
import sqlite3
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pypdf
import pytest

from monitoring.cases.demo_support import SITES
from monitoring.core.roles import UserRole
from monitoring.demo import LOGINS
from tests.browser.conftest import prepare_demo, screenshot, serve

pytestmark = pytest.mark.browser

AFFILIATE = next(x for x in LOGINS if x.role is UserRole.affiliate)
# Stacked marks (vowel above, tone above it) and a space. Not SARA AM (ำ): HarfBuzz splits it into
# two glyphs, and WeasyPrint's per-glyph ToUnicode map then gives the nikhahit no text and maps the
# shared SARA AA glyph to whichever text it met first, so "ลำพูน" extracts as "ลาพูน" (the page
# itself is drawn right). A limit of WeasyPrint 70's text layer, not of these pages.
THAI_SITE = "โรงงานผลิตชิ้นส่วน ลพบุรี"
PENANG = SITES["penang"]
AYUTTHAYA = SITES["ayutthaya"]


@dataclass
class Demo:
    base: str
    database: Path


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    tmp = tmp_path_factory.mktemp("reporting")
    env = prepare_demo(tmp)
    database = tmp / "browser.sqlite3"
    with sqlite3.connect(database) as connection:
        renamed = connection.execute("UPDATE site SET name = ? WHERE name = ?", (THAI_SITE, AYUTTHAYA))
        assert renamed.rowcount == 1, "the demo's Ayutthaya site is where the test expects it"
    with serve(env, tmp / "server.log") as base:
        yield Demo(base, database)


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _download(page: Any, click: Any, tmp: Path) -> tuple[str, bytes]:
    """Click, wait for the download, and return its suggested name and bytes."""
    with page.expect_download() as info:
        click()
    download = info.value
    assert download.failure() is None, download.failure()
    target = tmp / download.suggested_filename
    download.save_as(str(target))
    return download.suggested_filename, target.read_bytes()


def _row_of(rows: list[list[Any]], text: str) -> list[Any]:
    found = [row for row in rows if any(text == str(cell) for cell in row)]
    assert len(found) == 1, (text, rows)
    return found[0]


def test_affiliate_dashboard_and_downloads(chromium: Any, demo: Demo, tmp_path: Path) -> None:
    context = chromium.new_context(
        viewport={"width": 1280, "height": 900}, locale="en-GB", accept_downloads=True
    )
    page = context.new_page()
    try:
        page.goto(f"{demo.base}/login")
        page.locator("input[name=email]").fill(AFFILIATE.email)
        page.locator("input[name=password]").fill(AFFILIATE.password)
        with page.expect_navigation():
            page.locator("main form button[type=submit]").click()
        assert "/login" not in page.url, page.locator("main").inner_text()

        # The dashboard: the Thai site and Penang in the portfolio, the Penang remedy in the ledger.
        response = page.goto(f"{demo.base}/dashboard/")
        assert response is not None and response.status == 200
        screenshot(page, "reporting-01-affiliate-dashboard.png")
        portfolio = _nfc(page.locator("#portfolio").inner_text())
        assert THAI_SITE in portfolio and PENANG in portfolio
        penang = page.locator("#portfolio tbody tr", has_text=PENANG).first.locator("td")
        assert penang.nth(4).inner_text().strip() != "0", "the closed Penang case is counted"
        fees = page.locator("th", has_text="Recruitment fees repaid")
        ledger = page.locator("#ledger-rows tbody tr", has=fees)
        # Two other buyers reach Penang too: the affiliate's ledger still has the remedy once.
        assert ledger.count() == 1, page.locator("#ledger-rows").inner_text()
        cells = [c.strip() for c in ledger.first.locator("td").all_inner_texts()]
        # Currency, country, year, remedies, workers covered, amount, EUR.
        assert cells[0] == "MYR" and cells[1] == "MY"
        assert cells[3] == "1" and cells[4] == "75"
        assert cells[5].replace(",", "").replace("\u202f", "").replace("\xa0", "").startswith("393750")
        assert page.locator("#ledger-workers").inner_text().strip() == "150"  # fees and passports, 75 each

        # The case board's CSV and XLSX: the rows the board lists, the Thai site among them.
        page.goto(f"{demo.base}/cases/")
        board = _nfc(page.locator("main").inner_text())
        assert THAI_SITE in board and PENANG in board
        name, body = _download(page, lambda: page.locator("main a[data-export=csv]").click(), tmp_path)
        assert name.endswith(".csv")
        rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
        header, data = rows[0], [[_nfc(c) for c in row] for row in rows[1:]]
        assert header[:3] == ["Reference", "Site", "Country"]
        thai_row = _row_of(data, THAI_SITE)
        assert thai_row[2] == "TH"
        penang_row = _row_of(data, PENANG)
        assert penang_row[2] == "MY" and penang_row[header.index("Closed")]
        assert len(data) == page.locator("main table tbody tr").count(), "the export holds the board's rows"

        name, body = _download(page, lambda: page.locator("main a[data-export=xlsx]").click(), tmp_path)
        assert name.endswith(".xlsx")
        sheet = openpyxl.load_workbook(io.BytesIO(body), read_only=True).worksheets[0]
        cells_xlsx = [
            ["" if c is None else _nfc(str(c)) for c in row] for row in sheet.iter_rows(values_only=True)
        ]
        assert cells_xlsx[0][:3] == ["Reference", "Site", "Country"]
        assert _row_of(cells_xlsx[1:], THAI_SITE)[0] == thai_row[0], "the same case as in the CSV"
        assert _row_of(cells_xlsx[1:], PENANG)[0] == penang_row[0]

        # The portfolio report for the last year, as a PDF: the Thai site as text, the remedy.
        page.goto(f"{demo.base}/exports/portfolio")
        today = datetime.now(UTC).date()
        page.locator("input[name=start]").fill((today - timedelta(days=365)).isoformat())
        page.locator("input[name=end]").fill(today.isoformat())
        name, body = _download(page, lambda: page.locator("main form button[type=submit]").click(), tmp_path)
        assert name.endswith(".pdf") and body.startswith(b"%PDF")
        reader = pypdf.PdfReader(io.BytesIO(body))
        # Table cells wrap their text over lines: compare with the whitespace collapsed.
        text = " ".join(_nfc("\n".join(p.extract_text() for p in reader.pages)).split())
        assert THAI_SITE in text, text
        assert thai_row[0] in text and penang_row[0] in text
        assert PENANG in text and "Recruitment fees repaid" in text and "75" in text
    finally:
        context.close()
